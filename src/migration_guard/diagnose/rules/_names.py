"""Name patterns shared by the rules: how each database quotes the object it names."""

from __future__ import annotations

import re

# PostgreSQL quotes names with double quotes and never escapes them inside messages.
PG_NAME = r'"(?P<{}>[^"\n]{{1,300}})"'
# MySQL quotes with single quotes.
MY_NAME = r"'(?P<{}>[^'\n]{{1,300}})'"
# SQLite prints the name as written in the statement: bare, or in "", ``, [].
SQLITE_NAME = r'(?P<{}>"[^"\n]{{1,300}}"|`[^`\n]{{1,300}}`|\[[^\]\n]{{1,300}}\]|[^\s"`\[\]]{{1,300}})'

HISTORY_TABLES = ("alembic_version", "django_migrations")
# Names that say "index", "sequence" or "constraint" by the conventions of SQLAlchemy, Django, Rails
# and PostgreSQL's own defaults; used only when no statement says what a relation is.
_NOT_A_TABLE = re.compile(
    r"^(?:ix|idx|uq|pk|fk|ck|uix|ux)_|_(?:pkey|key|idx|index|seq|uniq|uc|fkey|check|ix)$", re.IGNORECASE
)


def pg(group: str) -> str:
    return PG_NAME.format(group)


def my(group: str) -> str:
    return MY_NAME.format(group)


def sqlite(group: str) -> str:
    return SQLITE_NAME.format(group)


def looks_like_table(name: str) -> bool:
    return not _NOT_A_TABLE.search(name)


def is_history_table(name: str | None) -> bool:
    return bool(name) and name.casefold() in HISTORY_TABLES
