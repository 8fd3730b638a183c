"""Plain words for statuses, failures and actions, shared by the Markdown report and the stderr summary.

Every name, statement or message taken from the database or the log goes into a code span made by
`mdtext.code`, so the sentences are safe Markdown and still read well as plain text on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from migration_guard.diagnose.failure import Failure
from migration_guard.report.mdtext import code, shorten

HEADLINES = {
    "succeeded": "Migrated",
    "recovered": "Migrated after recovery",
    "refused": "Refused: a human must decide",
    "failed": "Migration failed",
    "predicted_failure": "Check predicts a failure",
    "clean": "Check found nothing",
}

# Plain-text markers rather than emoji: they survive terminals, log viewers and grep.
MARKERS = {
    "succeeded": "[OK]",
    "recovered": "[RECOVERED]",
    "refused": "[REFUSED]",
    "failed": "[FAILED]",
    "predicted_failure": "[WARNING]",
    "clean": "[OK]",
}

DIALECTS = {"postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB", "mariadb": "MariaDB", "sqlite": "SQLite"}

# What each recovery did, in words a person reads before the evidence. Unknown kinds fall back to the name.
ACTION_WORDS = {
    "skip_satisfied": "Ran the revision again, skipping the statements the catalog shows already satisfied",
    "mark_applied": "Recorded the revision as applied without running it",
    "complete_enum": "Completed the enum type with its missing labels",
    "drop_stale_type": "Dropped a stale type left by an interrupted run (its definition is recorded)",
    "wait_and_retry": "Waited for the other migrator to finish, then ran again",
    "dedupe": "Moved duplicate rows to a quarantine table, then ran again",
}


def statements_label(kind: str, applied: bool) -> str:
    """What the statements listed under an action are: skipped, run, or only planned."""
    if not applied:
        return "Statements it would skip" if kind.startswith("skip") else "Statements it would run"
    return "Statements skipped (already satisfied)" if kind.startswith("skip") else "Statements run"


def headline(status: str, attempts: int | None = None) -> str:
    """A run that found the database at head ran nothing: saying "Migrated" would claim work not done."""
    if status == "succeeded" and attempts == 0:
        return "Nothing to do: already at head"
    return HEADLINES.get(status, status)


def marker(status: str) -> str:
    return MARKERS.get(status, f"[{status.upper()}]")


def action_words(kind: str) -> str:
    return ACTION_WORDS.get(kind, kind.replace("_", " ").capitalize())


def dialect_name(dialect: str | None) -> str:
    if not dialect:
        return "unknown database"
    return DIALECTS.get(dialect.lower(), dialect)


def error_code(f: Failure) -> str:
    """'PostgreSQL 42701', 'MySQL/MariaDB 1060': the server's own name for the error, when the log had one."""
    number = f.sqlstate or (str(f.errno) if f.errno is not None else None)
    if not number:
        return ""
    name = DIALECTS.get((f.dialect or "").lower())
    if name:
        return f"{name} {number}"
    return f"SQLSTATE {number}" if f.sqlstate else f"error {number}"


def _qualified(f: Failure) -> str:
    """`table.column` for a column, the object name otherwise."""
    if f.column:
        return f"{f.table}.{f.column}" if f.table else f.column
    return f.object_name or f.table or "?"


def _object(f: Failure, default_type: str) -> str:
    kind = (f.object_type or default_type).replace("_", " ")
    on_table = f" on table {code(f.table)}" if f.table and f.table != f.object_name else ""
    return f"{kind.capitalize()} {code(f.object_name or f.table or '?')}{on_table}"


# Each describer returns (what happened, why it matters). The error code and the revision/statement go
# between the two, so the sentence reads "X already exists (PostgreSQL 42701) while revision R ran S".
Clauses = tuple[str, str]


def _duplicate_column(f: Failure) -> Clauses:
    return f"Column {code(_qualified(f))} already exists", ""


def _duplicate_relation(f: Failure) -> Clauses:
    return f"{_object(f, 'relation')} already exists", ""


def _duplicate_type(f: Failure) -> Clauses:
    return f"Type {code(f.object_name or '?')} already exists", ""


def _duplicate_object(f: Failure) -> Clauses:
    return f"{_object(f, 'object')} already exists", ""


def _type_catalog_conflict(f: Failure) -> Clauses:
    what = f"type {code(f.object_name)}" if f.object_name else "a type"
    index = code(f.constraint or "pg_type_typname_nsp_index")
    return (
        f"Two sessions created {what} at the same moment",
        f": a unique violation on {index}, which almost always means two migrators ran at once",
    )


def _duplicate_data(f: Failure) -> Clauses:
    name = f.constraint or f.object_name
    what = f"Unique index {code(name)}" if name else "A unique index"
    on = f" on {code(f.table)}" if f.table else ""
    rows = f"rows share {code(f.key)}" if f.key else "some rows share the same values"
    return f"{what}{on} cannot be built", f": {rows}"


def _history_table_conflict(f: Failure) -> Clauses:
    return (
        f"Recording the revision in the history table {code(f.table or 'alembic_version')} failed",
        ": it is already recorded, most likely by another migrator running at the same time",
    )


def _inconsistent_history(f: Failure) -> Clauses:
    who = f"migration {code(f.revision)} is" if f.revision else "a migration is"
    return (
        "The migration history is inconsistent",
        f": {who} recorded as applied before a migration it depends on",
    )


def _unknown_revision(f: Failure) -> Clauses:
    rev = code(f.revision or f.object_name or "?")
    return f"The database records revision {rev}", ", which none of the migration files define"


def _multiple_heads(f: Failure) -> Clauses:
    return (
        "The migration files have more than one head revision",
        ", so the tool does not know which one to upgrade to",
    )


def _not_up_to_date(f: Failure) -> Clauses:
    return (
        "The database is behind the migration files",
        ", and the command needs it at the latest revision",
    )


def _unrelated(f: Failure) -> Clauses:
    return "The command failed after the migrations finished, in a step that is not a migration", ""


def _null_data(f: Failure) -> Clauses:
    return (f"Column {code(_qualified(f))} cannot be made NOT NULL",
            ": rows hold NULL in it" + (f" ({f.message})" if f.message and "row" in f.message else ""))


def _orphan_data(f: Failure) -> Clauses:
    name = f.constraint or f.object_name
    what = f"Foreign key {code(name)}" if name else "A foreign key"
    on = f" on {code(f.table)}" if f.table else ""
    rows = f"{code(f.key)} has no parent row" if f.key else "some rows reference parent rows that are not there"
    return f"{what}{on} cannot be added", f": {rows}"


def _type_conversion(f: Failure) -> Clauses:
    what = f"Column {code(_qualified(f))}" if f.column or f.table else "A column"
    why = f": {code(shorten(f.message, 160))}" if f.message else ": its values do not convert"
    return f"{what} cannot be changed to its new type", why


def _missing_object(f: Failure) -> Clauses:
    kind = (f.object_type or "object").replace("_", " ")
    name = _qualified(f) if kind == "column" else (f.object_name or f.table or "?")
    on = f" on table {code(f.table)}" if f.table and kind not in ("table", "view", "column") else ""
    return f"{kind.capitalize()} {code(name)}{on} does not exist", ", but the migration drops or changes it"


_DESCRIBERS: dict[str, Callable[[Failure], Clauses]] = {
    "duplicate_column": _duplicate_column,
    "duplicate_relation": _duplicate_relation,
    "duplicate_type": _duplicate_type,
    "duplicate_object": _duplicate_object,
    "type_catalog_conflict": _type_catalog_conflict,
    "duplicate_data": _duplicate_data,
    "history_table_conflict": _history_table_conflict,
    "inconsistent_history": _inconsistent_history,
    "unknown_revision": _unknown_revision,
    "multiple_heads": _multiple_heads,
    "not_up_to_date": _not_up_to_date,
    "unrelated": _unrelated,
    "null_data": _null_data,
    "orphan_data": _orphan_data,
    "type_conversion": _type_conversion,
    "missing_object": _missing_object,
}

# Kinds about the migration history as a whole: no one revision's statement is to blame.
_HISTORY_KINDS = {"inconsistent_history", "unknown_revision", "multiple_heads", "not_up_to_date"}
# Kinds whose sentence does not carry the details, so the error line itself is quoted.
_QUOTE_MESSAGE = {"inconsistent_history", "multiple_heads", "not_up_to_date", "unrelated"}


def describe(failure: Failure, *, predicted: bool = False, with_statement: bool = True) -> str:
    """One sentence a person understands without reading the log, e.g.

    Column `settings.google_calendar_client_id` already exists (PostgreSQL 42701) while revision
    `abc123` ran `ALTER TABLE settings ADD COLUMN google_calendar_client_id VARCHAR(255)`
    """
    if failure.kind not in _DESCRIBERS:  # "unknown", or a kind newer than this module
        return _describe_unknown(failure, with_statement=with_statement)
    main, tail = _DESCRIBERS[failure.kind](failure)
    err = error_code(failure)
    sentence = main + (f" ({err})" if err else "")
    sentence += _context(failure, predicted=predicted, with_statement=with_statement) + tail
    if failure.kind in _QUOTE_MESSAGE and failure.message:
        quoted = code(shorten(failure.message, 200))
        sentence += f"; the log says {quoted}" if tail else f": {quoted}"
    return sentence


def _context(f: Failure, *, predicted: bool, with_statement: bool) -> str:
    if f.kind in _HISTORY_KINDS:
        return ""
    # An unrelated failure happened after the revisions ran; naming one would blame it wrongly.
    revision = f.revision if f.kind != "unrelated" else None
    statement = code(shorten(f.statement)) if with_statement and f.statement else None
    if predicted:
        if revision and statement:
            return f"; revision {code(revision)} would run {statement}"
        if revision:
            return f"; revision {code(revision)} would fail"
        return f"; {statement} would fail" if statement else ""
    if revision and statement:
        return f" while revision {code(revision)} ran {statement}"
    if revision:
        return f" in revision {code(revision)}"
    return f" while running {statement}" if statement else ""


def _describe_unknown(f: Failure, *, with_statement: bool) -> str:
    """An unknown failure has no object to lead with, so the sentence leads with where it happened."""
    sentence = f"Revision {code(f.revision)} failed" if f.revision else "The command failed"
    if with_statement and f.statement:
        sentence += f" while running {code(shorten(f.statement))}"
    sentence += " with an error migration-guard does not recognise"
    err = error_code(f)
    if err:
        sentence += f" ({err})"
    if f.message:
        sentence += f": {code(shorten(f.message, 200))}"
    return sentence + "; migration-guard took no action"
