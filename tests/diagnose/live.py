"""Produce real migration failures and return what the command printed.

Each function builds a throwaway alembic or Django project in a temporary folder, prepares the
database so that the last migration breaks (its column is already there), runs the real command
as a child process and returns its combined output. Used by test_live.py, and by
`python tests/diagnose/live.py` to refresh the fixtures in shapes/ (kept so that the unit tests
read today's real shapes without a server).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

PG_ADMIN = os.environ.get("MIGRATION_GUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN = os.environ.get("MIGRATION_GUARD_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
SHAPES = Path(__file__).parent / "shapes"

_ALEMBIC_INI = """\
[alembic]
script_location = migrations
sqlalchemy.url = {url}

[loggers]
keys = root,sqlalchemy,alembic
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
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
_ENV = """\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
fileConfig(config.config_file_name)
engine = engine_from_config(config.get_section(config.config_ini_section), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""
_REV1 = """\
\"\"\"create account\"\"\"
import sqlalchemy as sa
from alembic import op

revision = "1a2b3c4d5e6f"
down_revision = None

def upgrade():
    op.create_table(
        "account", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50))
    )
"""
_REV2 = """\
\"\"\"add account email\"\"\"
import sqlalchemy as sa
from alembic import op

revision = "9f8e7d6c5b4a"
down_revision = "1a2b3c4d5e6f"

def upgrade():
    op.add_column("account", sa.Column("email", sa.String(120)))
"""


def _run(args: list[str], cwd: Path, env: dict | None = None) -> str:
    proc = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )
    return proc.stdout + proc.stderr


def _tidy(output: str, *paths: Path | str) -> str:
    """Replace machine paths so a fixture reads the same on any machine."""
    for path in paths:
        output = output.replace(str(path), "/app")
    return output.replace(sys.prefix, "/venv")


def alembic_duplicate_column(url: str, prepare) -> str:
    """`alembic upgrade head` where revision 9f8e7d6c5b4a adds a column that is already there."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "migrations" / "versions").mkdir(parents=True)
        (root / "alembic.ini").write_text(_ALEMBIC_INI.format(url=url.replace("%", "%%")))
        (root / "migrations" / "env.py").write_text(_ENV)
        (root / "migrations" / "versions" / "r1.py").write_text(_REV1)
        alembic = [sys.executable, "-m", "alembic"]
        _run([*alembic, "upgrade", "1a2b3c4d5e6f"], root)
        prepare("ALTER TABLE account ADD COLUMN email VARCHAR(120)")
        (root / "migrations" / "versions" / "r2.py").write_text(_REV2)
        return _tidy(_run([*alembic, "upgrade", "head"], root), root)


def django_duplicate_column(pg_dbname: str, prepare) -> str:
    """`manage.py migrate` where shop.0002_customer_email adds a column that is already there."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "shop" / "migrations").mkdir(parents=True)
        (root / "shop" / "__init__.py").write_text("")
        (root / "shop" / "migrations" / "__init__.py").write_text("")
        (root / "settings.py").write_text(
            textwrap.dedent(f"""\
            SECRET_KEY = "x"
            INSTALLED_APPS = ["shop"]
            USE_TZ = True
            DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "{pg_dbname}",
                                     "USER": "postgres", "HOST": "127.0.0.1", "PORT": 5432}}}}
            """)
        )
        (root / "manage.py").write_text(
            "import sys\nfrom django.core.management import execute_from_command_line\n"
            "execute_from_command_line(sys.argv)\n"
        )
        (root / "shop" / "migrations" / "0001_initial.py").write_text(
            textwrap.dedent("""\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [migrations.CreateModel("Customer", [
                    ("id", models.AutoField(primary_key=True)), ("name", models.CharField(max_length=50))])]
            """)
        )
        env = {"DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(root)}
        manage = [sys.executable, "manage.py", "migrate", "--no-input"]
        _run(manage, root, env)
        prepare("ALTER TABLE shop_customer ADD COLUMN email VARCHAR(120)")
        (root / "shop" / "migrations" / "0002_customer_email.py").write_text(
            textwrap.dedent("""\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [migrations.AddField("customer", "email", models.CharField(max_length=120,
                                                                                       null=True))]
            """)
        )
        return _tidy(_run(manage, root, env), root)


class PgDatabase:
    """A fresh PostgreSQL database, dropped on exit."""

    def __enter__(self) -> PgDatabase:
        import psycopg2

        self.name = f"mg_diag_{uuid.uuid4().hex[:10]}"
        self._admin = psycopg2.connect(PG_ADMIN.replace("postgresql://", "postgresql://", 1))
        self._admin.autocommit = True
        self._admin.cursor().execute(f'CREATE DATABASE "{self.name}"')
        base = PG_ADMIN.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"
        return self

    def execute(self, sql: str) -> None:
        import psycopg2

        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(sql)
        conn.close()

    def __exit__(self, *exc) -> None:
        self._admin.cursor().execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin.close()


class MysqlDatabase:
    """A fresh MariaDB/MySQL database, dropped on exit."""

    def __enter__(self) -> MysqlDatabase:
        import sqlalchemy as sa

        self.name = f"mg_diag_{uuid.uuid4().hex[:10]}"
        self._admin = sa.create_engine(MYSQL_ADMIN)
        with self._admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{self.name}`")
        self.url = f"{MYSQL_ADMIN.rsplit('/', 1)[0]}/{self.name}"
        return self

    def execute(self, sql: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url)
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
        engine.dispose()

    def __exit__(self, *exc) -> None:
        with self._admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.name}`")
        self._admin.dispose()


def sqlite_file_execute(path: Path):
    def execute(sql: str) -> None:
        import sqlite3

        with sqlite3.connect(path) as conn:
            conn.execute(sql)
        conn.close()

    return execute


def capture_all() -> dict[str, str]:
    """Every shape, freshly produced: {fixture name: output}."""
    out = {}
    with PgDatabase() as db:
        out["alembic_psycopg2_duplicate_column.log"] = alembic_duplicate_column(
            db.url.replace("postgresql://", "postgresql+psycopg2://"), db.execute
        )
    with PgDatabase() as db:
        out["alembic_psycopg3_duplicate_column.log"] = alembic_duplicate_column(
            db.url.replace("postgresql://", "postgresql+psycopg://"), db.execute
        )
    with PgDatabase() as db:
        out["django_postgresql_duplicate_column.log"] = django_duplicate_column(db.name, db.execute)
    with MysqlDatabase() as db:
        out["alembic_pymysql_duplicate_column.log"] = alembic_duplicate_column(db.url, db.execute)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.db"
        out["alembic_sqlite3_duplicate_column.log"] = alembic_duplicate_column(
            f"sqlite:///{path}", sqlite_file_execute(path)
        ).replace(str(path), "/app/app.db")
    return out


if __name__ == "__main__":
    SHAPES.mkdir(exist_ok=True)
    for name, output in capture_all().items():
        (SHAPES / name).write_text(output)
        print(f"wrote {SHAPES / name} ({len(output)} chars)")
