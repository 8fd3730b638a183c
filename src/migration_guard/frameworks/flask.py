"""Flask-Migrate projects: `flask [--app X] db upgrade [-d DIR] [TARGET]` (Alembic underneath)."""

from __future__ import annotations

import sys
from pathlib import Path

from migration_guard.errors import UsageError
from migration_guard.frameworks.alembic import AlembicProject
from migration_guard.frameworks.command import split_options

FLASK_VALUE_OPTS = {"--app", "-A", "--env-file", "-e"}
DB_VALUE_OPTS = {"-d", "--directory", "-x", "--x-arg", "--tag"}
_URL_MARK = "@@migration-guard-url@@"

# Runs in the user's environment: load the app the way `flask` does and print the engine's URL.
_URL_PROBE = f"""
import sys
from flask.cli import ScriptInfo
app = ScriptInfo(app_import_path=sys.argv[1] or None).load_app()
with app.app_context():
    migrate = app.extensions.get("migrate")
    db = getattr(migrate, "db", None)
    url = db.engine.url.render_as_string(hide_password=False) if db is not None else \\
        app.config.get("SQLALCHEMY_DATABASE_URI")
    print("{_URL_MARK}" + str(url))
"""


class FlaskMigrateProject(AlembicProject):
    name = "flask-migrate"
    statements_from = "`flask db upgrade --sql`"

    def __init__(self, argv: list[str], cwd: Path, launcher: list[str], args: list[str]):
        if "db" not in args:
            raise UsageError("`flask` command without `db upgrade`: nothing for migration-guard to guard")
        at = args.index("db")
        self.flask_opts = args[:at]
        _, fvalues, _ = split_options(self.flask_opts, FLASK_VALUE_OPTS)
        self.app = (fvalues.get("--app") or fvalues.get("-A") or [""])[-1]
        sub = args[at + 1:]
        self.subcommand = sub[0] if sub else ""
        opts, values, positionals = split_options(sub[1:], DB_VALUE_OPTS)
        self.directory = (values.get("-d") or values.get("--directory") or ["migrations"])[-1]
        self.x_opts = [t for i, t in enumerate(opts) if t in ("-x", "--x-arg") or
                       (i and opts[i - 1] in ("-x", "--x-arg")) or t.startswith(("-x=", "--x-arg="))]
        self.target = positionals[0] if positionals else "head"
        self.offline = "--sql" in values
        self._script = None
        self.argv, self.cwd, self.launcher = argv, cwd, launcher
        self.global_opts = []
        self.config_file = str(Path(self.directory) / "alembic.ini")
        self.ini_section = "alembic"

    def _config(self):
        config = super()._config()
        directory = Path(self.directory)
        config.set_main_option("script_location", str(directory if directory.is_absolute()
                                                      else self.cwd / directory))
        return config

    def _script_folder(self) -> str | None:
        return self.directory
    def config_url(self, env: dict) -> str | None:
        """Flask-Migrate keeps the URL in the app's config: ask the app, in the user's environment."""
        python = self.launcher[0] if len(self.launcher) > 1 else _python_of(self.launcher[0])
        run = self.tool([python, "-c", _URL_PROBE, self.app], env, timeout=120)
        for line in run.stdout.splitlines():
            if line.startswith(_URL_MARK):
                url = line[len(_URL_MARK):].strip()
                return url if url and url != "None" else None
        return None

    def _db(self, subcommand: str, *args: str) -> list[str]:
        directory = ["-d", self.directory] if self.directory != "migrations" else []
        return [*self.launcher, *self.flask_opts, "db", subcommand, *directory, *self.x_opts, *args]

    def sql_argv(self, start: str | None, end: str) -> list[str]:
        return self._db("upgrade", "--sql", f"{start}:{end}" if start else end)

    def stamp_argv(self, revision: str) -> list[str]:
        return self._db("stamp", revision)


def _python_of(flask_script: str) -> str:
    """The interpreter behind a `flask` console script (its shebang), so the probe sees the app's venv."""
    import shutil

    path = shutil.which(flask_script)
    if path:
        try:
            first = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[0]
        except (OSError, IndexError):
            first = ""
        if first.startswith("#!") and "python" in first:
            return first[2:].strip().split()[0]
    return sys.executable
