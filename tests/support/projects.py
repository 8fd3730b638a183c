"""Real Alembic and Flask-Migrate projects written to a temporary folder, for integration tests.

Each revision is real migration code (`op.add_column(...)`, `op.execute(...)`); the tests break a
database by preparing it the way the seed stories did (a hotfix column, an emptied history table),
then run the real tool under the guard.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

ENV_PY = '''\
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
target_metadata = None


def run_migrations_offline():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
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

INI = """\
[alembic]
script_location = %(here)s/{location}
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
format = %%(levelname)-5.5s [%%(name)s] %%(message)s
"""


@dataclass
class Rev:
    id: str
    doc: str
    upgrade: str  # body of upgrade(), real alembic op code
    down: str | None = None  # defaults to the previous revision


def write_revisions(versions: Path, revisions: list[Rev]) -> None:
    versions.mkdir(parents=True, exist_ok=True)
    previous = None
    for rev in revisions:
        down = rev.down if rev.down is not None else previous
        body = textwrap.indent(textwrap.dedent(rev.upgrade).strip() or "pass", "    ")
        (versions / f"{rev.id}_{rev.doc.replace(' ', '_')[:30]}.py").write_text(
            f'"""{rev.doc}\n\nRevision ID: {rev.id}\n"""\n'
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {rev.id!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n"
        )
        previous = rev.id


def alembic_project(root: Path, revisions: list[Rev], url: str = "") -> Path:
    """An Alembic project: alembic.ini, migrations/env.py, migrations/versions/*.py."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(INI.format(location="migrations", url=url.replace("%", "%%")))
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "script.py.mako").write_text("")
    write_revisions(root / "migrations" / "versions", revisions)
    return root


FLASK_APP = '''\
import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["APP_DATABASE_URL"]
    db.init_app(app)
    Migrate(app, db)
    return app
'''


def flask_project(root: Path, revisions: list[Rev], env: dict | None = None) -> Path:
    """A Flask-Migrate app made the way users make one: `flask db init`, then revision files.
    The URL lives only in the app's config (APP_DATABASE_URL), like most Flask apps."""
    import subprocess
    import sys

    from tests.support.cli import clean_env

    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(FLASK_APP)
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run([flask, "--app", "app:create_app", "db", "init"], cwd=root, check=True, capture_output=True,
                   env=clean_env({"APP_DATABASE_URL": "sqlite://", **(env or {})}))
    write_revisions(root / "migrations" / "versions", revisions)
    return root
