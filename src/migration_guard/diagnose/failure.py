"""The Failure record: what a log says went wrong, in the vocabulary of DESIGN.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

# The failure kinds, in the order DESIGN.md lists them. Reports and `diagnose --json` use these strings.
KINDS = (
    "duplicate_column",
    "duplicate_relation",
    "duplicate_type",
    "duplicate_object",
    "type_catalog_conflict",
    "duplicate_data",
    "history_table_conflict",
    "inconsistent_history",
    "unknown_revision",
    "multiple_heads",
    "not_up_to_date",
    "unrelated",
    "unknown",
    # What a migration meets in the existing rows or schema, predicted by `check` (preflight/):
    "null_data",
    "orphan_data",
    "type_conversion",
    "missing_object",
)


@dataclass
class Failure:
    kind: str
    sqlstate: str | None = None
    errno: int | None = None
    object_type: str | None = None  # column, table, index, sequence, view, type, constraint, trigger, ...
    object_name: str | None = None
    table: str | None = None
    column: str | None = None
    constraint: str | None = None
    key: str | None = None  # "Key (a, b)=(1, 2)" values, for duplicate_data
    statement: str | None = None
    revision: str | None = None  # alembic revision id, or Django "app.migration"
    driver: str | None = None  # psycopg2, psycopg, asyncpg, pymysql, mysqlclient, sqlite3
    dialect: str | None = None  # postgresql, mysql, sqlite
    message: str | None = None  # the error line itself, as the log had it
    line: int | None = None  # 1-based line of the log where the error was read
    location: str | None = None  # "path/to/migration.py:LINE" of the failing operation, where known

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> Failure:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
