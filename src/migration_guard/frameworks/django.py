"""Django projects: `python manage.py migrate [app_label [migration_name]]` and `django-admin migrate`.

Django lives in the user's environment, not the guard's, so every question goes to a probe run by
the user's own interpreter (the `python` in front of manage.py, or the shebang of manage.py or
django-admin): one process per question, answering from Django's own loader, executor and
recorder (django_probe.py). Revisions are named `app_label.migration_name`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from migration_guard.errors import UsageError
from migration_guard.frameworks.base import Framework, Revision, ToolRun, program_name
from migration_guard.frameworks.command import split_options
from migration_guard.frameworks.django_probe import MARK

VALUE_OPTS = {"--settings", "--pythonpath", "--database", "-v", "--verbosity"}
# Options with which `migrate` applies nothing (or only records): nothing to predict or recover.
NOT_APPLYING = {"--plan", "--check", "--fake", "--prune"}
PROBE = Path(__file__).with_name("django_probe.py").read_text(encoding="utf-8")
_NUMBER = re.compile(r"^\d+_")


class DjangoProject(Framework):
    name = "django"

    def __init__(self, argv: list[str], cwd: Path, launcher: list[str], args: list[str]):
        super().__init__(argv, cwd)
        self.launcher = launcher  # ["python", "manage.py"], ["./manage.py"], ["django-admin"], ...
        self.env: dict | None = None  # the runner's environment; os.environ when not given
        at = args.index("migrate") if "migrate" in args else len(args)
        self.subcommand = args[at] if at < len(args) else ""
        _, values, positionals = split_options(args[:at] + args[at + 1:], VALUE_OPTS)
        self.settings_module = (values.get("--settings") or [None])[-1]
        self.pythonpath = (values.get("--pythonpath") or [None])[-1]
        self.database = (values.get("--database") or ["default"])[-1]
        self.app_label = positionals[0] if positionals else None
        self.migration_name = positionals[1] if len(positionals) > 1 else None
        self.applies = self.subcommand == "migrate" and not (NOT_APPLYING & set(values))

    # -- the probe ------------------------------------------------------------------------------
    def _manage_py(self) -> str | None:
        for tok in reversed(self.launcher):
            if program_name(tok) == "manage.py":
                path = Path(tok) if Path(tok).is_absolute() else self.cwd / tok
                return str(path)
        return None

    def _python(self, env: dict) -> list[str]:
        """The interpreter the command itself runs: the `python` in front, else the script's shebang."""
        first = self.launcher[0]
        if program_name(first).startswith(("python", "pypy")):
            return [first]
        script = self._manage_py() or shutil.which(first, path=env.get("PATH"))
        try:
            line = Path(script).read_text(encoding="utf-8", errors="replace").splitlines()[0] if script else ""
        except (OSError, IndexError):
            line = ""
        if line.startswith("#!") and "python" in line:
            return shlex.split(line[2:].strip())
        return [sys.executable]

    def _ask(self, question: str, env: dict | None = None, **fields) -> dict:
        env = dict(env if env is not None else (self.env if self.env is not None else os.environ))
        spec = {"question": question, "manage": self._manage_py(), "settings": self.settings_module,
                "pythonpath": self.pythonpath, "database": self.database, **fields}
        fd, path = tempfile.mkstemp(prefix="migration-guard-django-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(spec, fh)
            run = self.tool([*self._python(env), "-c", PROBE, path], env, timeout=300)
        finally:
            os.unlink(path)
        for line in reversed(run.stdout.splitlines()):
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
        last = (run.output.strip().splitlines() or [f"exit code {run.exit_code}"])[-1]
        return {"error": f"the Django probe gave no answer: {last}"}

    # -- configuration --------------------------------------------------------------------------
    def config_url(self, env: dict) -> str | None:
        """The URL of the command's database alias, from settings.DATABASES as Django reads it."""
        answer = self._ask("url", env)
        if "error" in answer:
            raise UsageError(f"cannot read the Django settings for the database URL: {answer['error']}")
        return url_from_settings(answer, self.cwd)

    # `migrate` also sends post_migrate (content types, permissions, the project's own handlers) when
    # nothing is pending: skipping it would change what a deploy does.
    runs_when_current = True

    @property
    def upgrades_to_head(self) -> bool:
        return self.applies and self.app_label is None

    # -- state ----------------------------------------------------------------------------------
    def applied(self, engine: Engine) -> set[str]:
        """The latest recorded migration of each app (what a person calls the database's state)."""
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT app, name FROM django_migrations ORDER BY id")).all()
        except Exception:  # no history table yet
            return set()
        return {f"{app}.{name}" for app, name in dict(rows).items()}

    def pending(self, engine: Engine) -> list[Revision] | None:
        if not self.applies:
            return None
        answer = self._ask("pending", app_label=self.app_label, migration_name=self.migration_name)
        plan = answer.get("plan")
        if plan is None or any(step["backwards"] for step in plan):
            return None  # an error the command will print itself, or a rollback the guard does not judge
        return [Revision(f"{step['app']}.{step['name']}", describe(step["name"]), step.get("path"),
                         tuple(step.get("parents") or ())) for step in plan]

    # -- tooling ---------------------------------------------------------------------------------
    def revision_sql(self, env: dict, revisions: list[Revision], engine: Engine) -> dict[str, list[str] | None]:
        out: dict[str, list[str] | None] = {r.id: None for r in revisions}
        if not revisions:
            return out
        answer = self._ask("sql", env, ids=[r.id for r in revisions])
        for ident, statements in (answer.get("sql") or {}).items():
            if ident in out and statements is not None:
                out[ident] = [s for s in statements if s.strip()]
        return out

    def mark_applied(self, revision: Revision, env: dict) -> ToolRun:
        return self.record_applied([revision], env)

    def record_applied(self, revisions: list[Revision], env: dict) -> ToolRun:
        """Every revision of the run, through Django's MigrationRecorder, as `migrate --fake` does."""
        answer = self._ask("record", env, ids=[r.id for r in revisions])
        argv = [*self.launcher, "migrate", "--fake", "(each of)", *(r.id for r in revisions)]
        if "error" in answer:
            return ToolRun(argv, 1, "", answer["error"])
        summary = [f"MigrationRecorder.record_applied({ident!r})" for ident in answer["recorded"]]
        summary += [f"{ident} was already recorded" for ident in answer["already"]]
        return ToolRun(argv, 0, "\n".join(summary), summary=summary)

    def mark_hint(self, revision_id: str) -> str:
        app, _, name = revision_id.partition(".")
        return f"{shlex.join(self.launcher)} migrate {app} {name} --fake"


def describe(name: str) -> str:
    """`0002_course_code` -> `course code`: the words of a migration's name, as Alembic's message reads."""
    return _NUMBER.sub("", name).replace("_", " ")


def url_from_settings(s: dict, cwd: Path) -> str | None:
    vendor = s.get("vendor")
    if vendor == "sqlite":
        name = s.get("name") or ""
        if not name or name == ":memory:" or name.startswith("file:"):
            return f"sqlite:///{name}"  # refused later with the reason (an in-memory database)
        path = Path(name) if Path(name).is_absolute() else cwd / name
        return f"sqlite:///{path}"
    driver = {"postgresql": "postgresql", "mysql": "mysql+pymysql"}.get(vendor or "")
    if driver is None:
        raise UsageError(f"Django database uses {s.get('engine')!r} ({vendor}): migration-guard supports "
                         "PostgreSQL, MySQL/MariaDB and SQLite")
    host, query = s.get("host") or None, {}
    if host and host.startswith("/"):  # a Unix socket folder
        host, query = None, {"host": s["host"]}
    if vendor == "postgresql" and s.get("options", {}).get("sslmode"):
        query["sslmode"] = str(s["options"]["sslmode"])
    url = URL.create(driver, username=s.get("user") or None, password=s.get("password") or None, host=host,
                     port=int(s["port"]) if str(s.get("port") or "").isdigit() else None,
                     database=s.get("name") or None, query=query)
    return url.render_as_string(hide_password=False)
