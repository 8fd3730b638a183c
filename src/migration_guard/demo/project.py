"""The demo's sample project: a real Alembic project, written the way `alembic init` lays one out.

Four revisions of an imaginary shop, each with real `op.*` code and a data step, so that a recovery
which skipped a data step would show in the data:

    0001  accounts (with rows) and deploy_log, which every revision writes one row into
    0002  accounts.display_name, backfilled from the e-mail address   <- the hotfix story
    0003  orders, with an `order_status` enum column                   <- the enum story
    0004  invoices
"""

from __future__ import annotations

from pathlib import Path

HEAD = "0004"
REVISIONS = ("0001", "0002", "0003", "0004")
ENUM_NAME = "order_status"
ENUM_LABELS = ("pending", "paid", "shipped")

# The standard generic template, minus comments: logging goes to stderr, as in a deploy log.
ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
sqlalchemy.url = postgresql://localhost/set-DATABASE_URL

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

ENV_PY = '''\
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

# Like most deployed apps, the URL comes from the environment.
config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"].replace("%", "%%"))
target_metadata = None


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''

_HEADER = '''\
"""{doc}

Revision ID: {rev}
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None

'''

VERSIONS = {
    "0001_create_accounts.py": ("0001", None, "create accounts", '''
def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
    )
    op.create_table(
        "deploy_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision", sa.String(32), nullable=False),
        sa.Column("ran_at", sa.DateTime, server_default=sa.func.now()),
    )
    op.execute("INSERT INTO accounts (email) VALUES "
               "('ada@example.com'), ('grace@example.com'), ('linus@example.com')")
    # A slow data step: it holds the deploy's transaction open for a moment, as real backfills do.
    op.execute("SELECT pg_sleep(0.5)")
    op.execute("INSERT INTO deploy_log (revision) VALUES ('0001')")


def downgrade():
    op.drop_table("deploy_log")
    op.drop_table("accounts")
'''),
    "0002_add_display_name.py": ("0002", "0001", "add display name", '''
def upgrade():
    op.add_column("accounts", sa.Column("display_name", sa.String(120), nullable=True))
    # The data step: every account gets a display name from its e-mail address.
    op.execute("UPDATE accounts SET display_name = initcap(split_part(email, '@', 1)) "
               "WHERE display_name IS NULL")
    op.execute("INSERT INTO deploy_log (revision) VALUES ('0002')")


def downgrade():
    op.drop_column("accounts", "display_name")
'''),
    "0003_create_orders.py": ("0003", "0002", "create orders", '''
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("status", sa.Enum("pending", "paid", "shipped", name="order_status"), nullable=False),
    )
    # Orders carried over from the old system; 'paid' is the label the story's enum lacks.
    op.execute("INSERT INTO orders (account_id, status) VALUES (1, 'paid'), (2, 'pending'), (3, 'shipped')")
    op.execute("INSERT INTO deploy_log (revision) VALUES ('0003')")


def downgrade():
    op.drop_table("orders")
    sa.Enum(name="order_status").drop(op.get_bind())
'''),
    "0004_create_invoices.py": ("0004", "0003", "create invoices", '''
def upgrade():
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO deploy_log (revision) VALUES ('0004')")


def downgrade():
    op.drop_table("invoices")
'''),
}


def write_project(root: Path) -> Path:
    """Write the sample project under `root` and return its folder (where `alembic` runs)."""
    project = root / "shop"
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (project / "alembic.ini").write_text(ALEMBIC_INI, encoding="utf-8")
    (project / "migrations" / "env.py").write_text(ENV_PY, encoding="utf-8")
    (project / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO, encoding="utf-8")
    for name, (rev, down, doc, body) in VERSIONS.items():
        (versions / name).write_text(_HEADER.format(doc=doc, rev=rev, down=down) + body, encoding="utf-8")
    return project
