"""A leftover scratch table of an interrupted table rebuild on SQLite blocks every later run (duplicate_relation).

Two tools rebuild a SQLite table t through a scratch table, and an interrupted rebuild leaves it behind:
- alembic's batch mode: CREATE TABLE _alembic_tmp_t, INSERT ... SELECT from t, DROP TABLE t, ALTER TABLE
  _alembic_tmp_t RENAME TO t. Through Python's sqlite3 the CREATE commits at once and the rest runs in one
  transaction, so a run that fails while copying (a NOT NULL the rows break, a killed process) leaves an
  empty _alembic_tmp_t beside an intact t.
- Django's SQLite schema editor, the same four steps through `new__t`. A migration runs in one transaction
  and leaves nothing, but one with `atomic = False` runs each statement on its own: a copy that fails (a
  new UNIQUE the rows break) leaves an empty new__t.
Every later run then fails with "table ... already exists".

Evidence rule: the table the failure names is such a scratch table of t (alembic's prefix; for Django, the
`new__t` of a rebuild of t in a pending migration, so a user's own table named new__... is never taken for
one), t exists, and the scratch table holds no row, counted again inside the write transaction that drops
it (BEGIN IMMEDIATE: no other writer can add one in between). Then its definition is recorded in the report,
it is dropped, and the run goes on. A scratch table that holds rows, or a t that is gone (a run stopped
after dropping t: the rows are in the scratch table), is refused with the counts and what to check: the
guard never drops a table that holds data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from migration_guard import faults
from migration_guard.recovery import journal
from migration_guard.recovery.steps import Decision, Step, StepFailed
from migration_guard.report.model import Action

KINDS = {"duplicate_relation"}
PREFIX = "_alembic_tmp_"


def _leftover(ctx) -> tuple[str, str, str] | None:
    """(the scratch table, the table it rebuilds, what made it), when the failure names one."""
    name = ctx.failure.object_name or ctx.failure.table or ""
    if ctx.dialect != "sqlite":
        return None
    if name.startswith(PREFIX):
        # Alembic cuts the scratch name at 50 characters, so find the table it was made for.
        target = next((t.name for t in ctx.catalog.tables.values()
                       if t.kind == "table" and (PREFIX + t.name)[:50] == name), name[len(PREFIX):])
        return name, target, "alembic batch mode"
    rebuild = ctx.rebuild_through(name)
    return (name, rebuild.table, "Django's SQLite table rebuild") if rebuild is not None else None


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS and _leftover(ctx) is not None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count(conn, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {_q(table)}")).scalar())


def decide(ctx) -> Decision:
    (leftover, target, maker), kind = _leftover(ctx), ctx.failure.kind
    if ctx.catalog.table(leftover) is None:
        return Decision.refuse(kind, f"the log says table {leftover} already exists, but the catalog does not "
                               "show it now", ["rerun; another process may have removed it"])
    with ctx.engine.connect() as conn:
        held = _count(conn, leftover)
        definition = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"),
                                  {"n": leftover}).scalar()
        target_rows = _count(conn, target) if ctx.catalog.table(target) is not None else None
    if target_rows is None:
        return Decision.refuse(kind, f"table {target} does not exist and {leftover}, {maker}'s copy of it, holds "
                               f"{held} row(s): a rebuild stopped after dropping {target}, so its rows may be "
                               f"only in {leftover}", [
                                   f"check that {leftover} holds every row {target} had",
                                   f"then `ALTER TABLE {leftover} RENAME TO {target}` and run the migration again"])
    if held:
        return Decision.refuse(kind, f"{leftover}, {maker}'s copy of {target}, holds {held} row(s) "
                               f"beside {target} ({target_rows} row(s)): the guard never drops a table that "
                               "holds data", [
                                   f"compare {leftover} with {target}; if it is only a stale copy, "
                                   f"`DROP TABLE {leftover}` and run the migration again"])
    action = Action(
        id="", kind="drop_empty_leftover", target=f"table {leftover}", failure_kind=kind,
        evidence=[f"table {leftover} is the scratch table {maker} makes to rebuild {target}, left by a run that "
                  "stopped before its copy was committed",
                  f"it holds 0 rows (counted again inside the transaction that drops it); {target} exists with "
                  f"{target_rows} row(s)",
                  f"its definition, recorded here to recreate it if ever needed: {definition}"],
        recorded={"dropped_table": leftover, "definition": definition})
    return Decision([DropIfEmpty(action, table=leftover)])


@dataclass
class DropIfEmpty(Step):
    """DROP TABLE in one write transaction, only if the table still holds no row."""

    table: str = ""
    # A drop is a change a killed run must be able to report (with the definition it recorded), and
    # SQLite can commit the journal's 'applied' with the drop itself.
    changes_database = True
    journals_itself = True

    def apply(self, ctx, plan: dict) -> None:
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                if _count(conn, self.table):
                    raise StepFailed(f"{self.table} is no longer empty; nothing was dropped")
                statement = f"DROP TABLE {_q(self.table)}"
                conn.exec_driver_sql(statement)
                faults.point("mid-apply")
                journal.applied_within(conn, self.action.id)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        self.action.statements.append(statement)
