"""Alembic projects: `alembic [-c FILE] [-n NAME] [-x K=V] upgrade TARGET`."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from migration_guard.errors import UsageError
from migration_guard.frameworks.base import Framework, Revision, ToolRun
from migration_guard.frameworks.command import split_options

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine  # the guard's own: imported before this is used

GLOBAL_VALUE_OPTS = {"-c", "--config", "-n", "--name", "-x"}
UPGRADE_VALUE_OPTS = {"--tag"}
_RUNNING = re.compile(r"^-- Running upgrade (?P<src>.*?) -> (?P<dst>[^,\s]+(?:, [^,\s]+)*)", re.M)


class AlembicProject(Framework):
    name = "alembic"
    statements_from = "alembic's offline --sql mode"

    def __init__(self, argv: list[str], cwd: Path, launcher: list[str], args: list[str]):
        super().__init__(argv, cwd)
        self.launcher = launcher  # ["alembic"] or ["python", "-m", "alembic"]
        globals_, rest = _split_globals(args)
        self.global_opts = globals_
        _, gvalues, _ = split_options(globals_, GLOBAL_VALUE_OPTS)
        self.config_file = (gvalues.get("-c") or gvalues.get("--config") or ["alembic.ini"])[-1]
        self.ini_section = (gvalues.get("-n") or gvalues.get("--name") or ["alembic"])[-1]
        self.subcommand = rest[0] if rest else ""
        _, values, positionals = split_options(rest[1:], UPGRADE_VALUE_OPTS)
        self.target = positionals[0] if positionals else "head"
        self.offline = "--sql" in values
        self._script = None

    # -- configuration --------------------------------------------------------------------------
    def _config(self):
        from alembic.config import Config

        path = Path(self.config_file)
        if not path.is_absolute():
            path = self.cwd / path
        if path.is_file():
            return Config(str(path), ini_section=self.ini_section)
        pyproject = self.cwd / "pyproject.toml"
        if pyproject.is_file() and "[tool.alembic]" in pyproject.read_text(encoding="utf-8", errors="replace"):
            return Config(toml_file=str(pyproject))
        raise UsageError(f"alembic config {path} not found (pass -c in the command, or run from the project)")

    def script(self):
        """The revision scripts, read once per run: they do not change while the guard runs."""
        if self._script is not None:
            return self._script
        from alembic.script import ScriptDirectory

        try:
            self._script = ScriptDirectory.from_config(self._config())
            return self._script
        except UsageError:
            raise
        except Exception as exc:  # alembic raises CommandError and plain OSErrors here
            raise UsageError(f"cannot read the alembic scripts: {exc}") from None

    def config_url(self, env: dict) -> str | None:
        try:
            url = self._config().get_main_option("sqlalchemy.url")
        except UsageError:
            return None
        if not url or "driver://" in url:  # alembic's template placeholder
            return None
        return url

    def version_table(self) -> str:
        from migration_guard.frameworks.revision_files import named_version_table

        env_py = Path(self.script().dir) / "env.py"
        try:
            found = named_version_table(env_py.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            found = None
        return found or "alembic_version"

    def prepare(self) -> None:
        """Load every revision file now, while another replica may hold the lock, so that once this
        one holds it, finding nothing to do costs one query."""
        with contextlib.suppress(Exception):  # pending() reports what is wrong, under the lock
            _ = self.script().revision_map.heads

    @property
    def upgrades_to_head(self) -> bool:
        return self.subcommand == "upgrade" and self.target in ("head", "heads") and not self.offline

    def plain_files(self) -> tuple[str, Path] | None:
        """The version table and the script folder, read from the config alone (see revision_files),
        for the up-to-date check a waiting replica makes; None when only Alembic can tell."""
        if not self.upgrades_to_head:
            return None
        from migration_guard.frameworks import revision_files

        ini = Path(self.config_file)
        ini = ini if ini.is_absolute() else self.cwd / ini
        if not ini.is_file():
            return None
        folder = revision_files.script_folder(ini, self.ini_section, self.cwd, self._script_folder())
        if folder is None:
            return None
        table = revision_files.version_table(folder)
        return (table, folder) if table else None

    def _script_folder(self) -> str | None:
        """The script folder the command names itself, over the config's (Flask-Migrate's -d)."""
        return None

    # -- state ----------------------------------------------------------------------------------
    def current_heads(self, engine: Engine) -> tuple[str, ...]:
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": self.version_table()})
            return tuple(ctx.get_current_heads())

    def applied(self, engine: Engine) -> set[str]:
        return set(self.current_heads(engine))

    def pending(self, engine: Engine) -> list[Revision] | None:
        if self.subcommand != "upgrade":
            return None
        script = self.script()
        try:
            steps = script._upgrade_revs(self.target, self.current_heads(engine))
        except Exception:
            return None  # unknown revision, multiple heads: the command itself will say so
        return [self._revision(step.revision) for step in steps]

    @staticmethod
    def _revision(sc) -> Revision:
        down = sc.down_revision
        downs = tuple(down) if isinstance(down, (list, tuple)) else ((down,) if down else ())
        return Revision(sc.revision, (sc.doc or "").strip().splitlines()[0] if sc.doc else "", sc.path, downs)

    # -- tooling ---------------------------------------------------------------------------------
    def _base(self) -> list[str]:
        return [*self.launcher, *self.global_opts]

    def sql_argv(self, start: str | None, end: str) -> list[str]:
        return [*self._base(), "upgrade", f"{start}:{end}" if start else end, "--sql"]

    def stamp_argv(self, revision: str) -> list[str]:
        return [*self._base(), "stamp", revision]

    def revision_sql(self, env: dict, revisions: list[Revision], engine: Engine) -> dict[str, list[str] | None]:
        out: dict[str, list[str] | None] = {r.id: None for r in revisions}
        if not revisions:
            return out
        heads = self.current_heads(engine)
        if len(heads) > 1:
            return out
        run = self.tool(self.sql_argv(heads[0] if heads else None, revisions[-1].id), env)
        return self.statements_of(run, revisions, engine.dialect.name)

    def statements_of(self, run: ToolRun, revisions: list[Revision], dialect: str) -> dict[str, list[str] | None]:
        """Each revision's statements in the output of an offline print of (at least) those revisions."""
        out: dict[str, list[str] | None] = {r.id: None for r in revisions}
        if run.exit_code != 0 and not _RUNNING.search(run.stdout):
            return out
        for rev, statements in split_offline_sql(run.stdout, dialect, self.version_table()).items():
            if rev in out:
                out[rev] = statements
        if run.exit_code != 0:
            # The tool stopped inside the last revision it announced: its statements are incomplete.
            last = _RUNNING.findall(run.stdout)
            if last:
                out[last[-1][1].split(",")[0].strip()] = None
        return out

    def early_print(self, engine: Engine) -> tuple[tuple[str, ...], list[str]] | None:
        """(heads, argv): the offline print of every pending revision, told without loading a revision
        file or importing Alembic (the history table is read with a plain query), so that it can start
        as soon as the guard is connected. `upgrade HEAD:head --sql` prints what `upgrade HEAD:<last
        pending> --sql` prints. Only a guess at where the history is kept: its user compares the heads
        with current_heads() under the lock and drops the print when they differ. None when it cannot
        be told this cheaply."""
        table = self.history_table_guess()
        if table is None:
            return None
        from sqlalchemy import text

        with engine.connect() as conn:
            if not engine.dialect.has_table(conn, table):
                heads: tuple[str, ...] = ()
            else:
                quoted = engine.dialect.identifier_preparer.quote(table)
                heads = tuple(row[0] for row in conn.execute(text(f"SELECT version_num FROM {quoted}")))
        return self.early_argv(heads)

    def history_table_guess(self) -> str | None:
        """The history table env.py names (or Alembic's default), found without Alembic; None when the
        command is not a plain `upgrade head` or the scripts' place is not plainly written."""
        found = self.plain_files() if self.target == "head" else None
        return found[0] if found else None

    def early_argv(self, heads: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]] | None:
        if len(heads) > 1:
            return None
        return heads, self.sql_argv(heads[0] if heads else None, "head")

    def mark_hint(self, revision_id: str) -> str:
        """The user's own tool, as they invoke it: `alembic -c x.ini stamp R`, `flask --app a db stamp R`."""
        import shlex

        return shlex.join(self.stamp_argv(revision_id))

    def mark_applied(self, revision: Revision, env: dict) -> ToolRun:
        return self.tool(self.stamp_argv(revision.id), env)


def _split_globals(args: list[str]) -> tuple[list[str], list[str]]:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in GLOBAL_VALUE_OPTS:
            i += 1
        i += 1
    return args[:i], args[i:]


def split_offline_sql(text: str, dialect: str, version_table: str = "alembic_version") -> dict[str, list[str]]:
    """Alembic `--sql` output, cut at its `-- Running upgrade a -> b` comments, version-table SQL removed."""
    blocks: dict[str, list[str]] = {}
    marks = list(_RUNNING.finditer(text))
    for i, m in enumerate(marks):
        body = text[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        rev = m.group("dst").split(",")[0].strip()
        blocks[rev] = [s for s in _statements(body, dialect) if not _bookkeeping(s, version_table)]
    return blocks


def _statements(body: str, dialect: str) -> list[str]:
    body = "\n".join(line for line in body.splitlines() if not line.startswith("-- "))
    if dialect == "postgresql":
        import pglast

        try:
            return [s.strip() for s in pglast.split(body, with_parser=False) if s.strip()]
        except Exception:
            pass
    else:
        from migration_guard.operations import split_statements

        split = split_statements(body, dialect)
        if split is not None:
            return split
    # Alembic ends each statement with its terminator and a blank line.
    return [s.strip() for s in re.split(r";\s*\n\s*\n", body) if s.strip().strip(";").strip()]


def _bookkeeping(statement: str, version_table: str) -> bool:
    head = statement.strip().upper()
    if head in ("BEGIN", "COMMIT", "BEGIN TRANSACTION", "START TRANSACTION"):
        return True
    return version_table.lower() in statement.lower().split("(")[0].split(" set ")[0] and any(
        head.startswith(p) for p in ("CREATE TABLE", "INSERT INTO", "UPDATE", "DELETE FROM")
    )
