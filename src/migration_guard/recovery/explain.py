"""Every failure no recovery acts on: no action, and plain words on what to check.

These are refused because nothing in the catalog could make a fix right: the history itself is
inconsistent, the code and the database disagree on which revisions exist, or the failure is not
in a migration step at all.
"""

from __future__ import annotations

from migration_guard.recovery.steps import Decision

ADVICE: dict[str, tuple[str, list[str]]] = {
    "duplicate_data": (
        "a unique index or constraint cannot be built because the table already holds duplicate rows",
        ["list the duplicate groups (the SQL below) and decide which rows to keep",
         "or rerun with --dedupe keep-oldest / keep-newest: surplus rows are moved to a quarantine "
         "table, restorable with `migration-guard restore`"]),
    "inconsistent_history": (
        "Django found a migration recorded as applied before one it depends on",
        ["check django_migrations for the two migrations named in the log",
         "usually an app (often a custom user model) was added after its dependents were migrated"]),
    "unknown_revision": (
        "the database records a revision that is not in this code (a deleted or unmerged migration, or "
        "a database from another branch)",
        ["find the revision in the history of the migrations folder",
         "if the database really is at an equivalent revision of this code, `alembic stamp` it"]),
    "multiple_heads": (
        "the migrations folder has several heads (two branches added revisions on the same parent)",
        ["merge them: `alembic merge heads -m merge` (or `flask db merge`), commit, deploy again"]),
    "not_up_to_date": (
        "the command needs the database at the latest revision first",
        ["run the upgrade before generating a new revision"]),
    "unrelated": (
        "the command failed after its migrations finished, in a step that is not a migration",
        ["the schema is migrated; fix the failing step (often a data load or a start-up task)"]),
    "null_data": (
        "NOT NULL cannot be set: rows hold NULL in the column, and which value they should get is a "
        "decision about the data",
        ["fill the NULLs (the SQL below lists them) in a data step before the NOT NULL, or give the column "
         "a default", "then deploy again"]),
    "orphan_data": (
        "the foreign key cannot be added: rows reference parent rows that are not there, and whether to "
        "delete them, re-point them or restore the parents is a decision about the data",
        ["list the orphan rows, then fix or remove them in a data step before the "
         "foreign key, or add it NOT VALID and validate later", "then deploy again"]),
    "type_conversion": (
        "the column's type cannot be changed: its values (or its type) do not convert, and how they "
        "should is a decision about the data",
        ["fix the values that do not convert, or give the migration a USING expression that converts them",
         "then deploy again"]),
    "missing_object": (
        "the migration drops or changes an object that is not in the database; the migration history and "
        "the schema disagree",
        ["find where the object went (a hand-made change, another branch's migration)",
         "if it is rightly gone, make the statement IF EXISTS (or remove it) in the migration"]),
    "unknown": (
        "the failure is not one the guard recognises, so it does not act on it",
        ["read the log tail in this report"]),
}


def applies(ctx) -> bool:
    return True


_CONNECTION_LOST = ("server closed the connection", "terminating connection", "connection to server",
                    "Lost connection to MySQL server", "MySQL server has gone away", "connection already closed")


def _connection_lost(f) -> bool:
    # Class 08 (connection exception) and 57P01-57P03 (admin shutdown, crash, cannot connect now).
    return (f.sqlstate or "").startswith(("08", "57P")) or any(t in (f.message or "") for t in _CONNECTION_LOST)


def decide(ctx) -> Decision:
    f = ctx.failure
    if f.kind == "unknown" and _connection_lost(f):
        return Decision.refuse(f.kind, "the connection to the database was lost while "
                               f"{'revision ' + f.revision if f.revision else 'the migration'} ran (a server "
                               "restart, a failover or a network cut); on PostgreSQL its transaction rolled back "
                               "and nothing of it was recorded", ["deploy again once the database answers"])
    reason, steps = ADVICE.get(f.kind, (f"no recovery acts on {f.kind} failures here", ADVICE["unknown"][1]))
    sql = []
    if f.kind == "duplicate_data" and f.table and f.key:
        cols = f.key.split("=")[0].strip().strip("Key").strip().strip("()")
        # A table rebuild on SQLite meets the duplicates while copying into its new table: they are in the old one.
        rebuilt = ctx.rebuild_through(f.table) if ctx.dialect == "sqlite" else None
        table = rebuilt.table if rebuilt is not None else f.table
        if cols:
            sql.append(f"SELECT {cols}, count(*) FROM {table} GROUP BY {cols} HAVING count(*) > 1;")
    sql.extend(_finding_sql(ctx, f))
    from migration_guard.recovery.plan import ACTIONABLE_DIALECTS

    if f.kind in ("duplicate_column", "duplicate_relation", "duplicate_type", "duplicate_object") \
            and ctx.dialect not in ACTIONABLE_DIALECTS:
        reason = (f"{f.kind} on {ctx.dialect}: the guard compares definitions on PostgreSQL, MySQL/MariaDB "
                  "and SQLite only, so it does not act here")
        steps = ["compare the existing object with what the migration wants, then stamp or fix by hand"]
    return Decision.refuse(f.kind, reason, steps, sql)


def _finding_sql(ctx, f) -> list[str]:
    """A query a human can run to see the rows a NOT NULL failure is about."""
    if f.kind != "null_data" or not f.table or not f.column:
        return []
    prep = ctx.engine.dialect.identifier_preparer
    return [f"SELECT * FROM {prep.quote(f.table)} WHERE {prep.quote(f.column)} IS NULL;"]
