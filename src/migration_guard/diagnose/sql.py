"""Read what a failing statement was creating: object type, name, table, column.

The error text names the object that is in the way; the statement says what the migration was
doing when it hit it (`CREATE INDEX ix ON t` makes the relation an index on `t`, `ALTER TABLE t ADD
COLUMN c` gives the table that a MySQL or SQLite message leaves out). Only the head of a statement
is read, with anchored, bounded patterns: this is a reader of DDL shapes, not a SQL parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEAD = 4096  # the object a statement creates is named in its first few hundred characters

_IDENT = r'(?:"[^"]{1,128}"|`[^`]{1,128}`|\[[^\]]{1,128}\]|[\w$]{1,128})'
_QUAL = rf"(?:{_IDENT}\.){{0,2}}{_IDENT}"
_F = re.IGNORECASE | re.DOTALL

_CREATE_TABLE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QUAL})",
    _F,
)
_CREATE_INDEX = re.compile(
    r"CREATE\s+(?P<unique>UNIQUE\s+)?(?:(?:FULLTEXT|SPATIAL|CLUSTERED|NONCLUSTERED)\s+)?INDEX\s+"
    rf"(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QUAL})\s+ON\s+(?:ONLY\s+)?(?P<table>{_QUAL})",
    _F,
)
_CREATE_SEQUENCE = re.compile(
    rf"CREATE\s+(?:TEMP(?:ORARY)?\s+)?SEQUENCE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QUAL})", _F
)
_CREATE_VIEW = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:MATERIALIZED\s+)?VIEW\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QUAL})",
    _F,
)
_CREATE_TYPE = re.compile(rf"CREATE\s+(?:TYPE|DOMAIN)\s+(?P<name>{_QUAL})", _F)
_CREATE_TRIGGER = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_QUAL})\s.{{0,600}}?\bON\s+(?P<table>{_QUAL})",
    _F,
)
_CREATE_OTHER = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?P<otype>EXTENSION|SCHEMA|POLICY|RULE|ROLE|FUNCTION|PROCEDURE)\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QUAL})",
    _F,
)
_ALTER_TABLE = re.compile(
    rf"ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_QUAL})\s+(?P<rest>.*)", _F
)
_ADD_CONSTRAINT = re.compile(
    rf"ADD\s+CONSTRAINT\s+(?P<name>{_IDENT})\s+(?P<ctype>UNIQUE|PRIMARY\s+KEY|FOREIGN\s+KEY|CHECK|EXCLUDE)",
    _F,
)
_ADD_INDEX = re.compile(
    rf"ADD\s+(?P<unique>UNIQUE\s+)?(?:FULLTEXT\s+|SPATIAL\s+)?(?:INDEX|KEY)\s+(?P<name>{_IDENT})", _F
)
_ADD_UNIQUE = re.compile(rf"ADD\s+UNIQUE\s+(?P<name>{_IDENT})\s*\(", _F)
_ADD_UNNAMED = re.compile(r"ADD\s+(?:PRIMARY\s+KEY|FOREIGN\s+KEY|UNIQUE|CHECK|FULLTEXT|SPATIAL)\b", _F)
_ADD_COLUMN = re.compile(rf"ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_IDENT})", _F)
_RENAME_COLUMN = re.compile(
    rf"(?:RENAME\s+COLUMN\s+{_IDENT}\s+TO|CHANGE\s+(?:COLUMN\s+)?{_IDENT})\s+"
    rf"(?P<name>{_IDENT})",
    _F,
)
_RENAME_TABLE = re.compile(rf"RENAME\s+(?:TO\s+)?(?P<name>{_QUAL})", _F)
_INSERT = re.compile(rf"INSERT\s+(?:IGNORE\s+)?INTO\s+(?P<table>{_QUAL})", _F)
_UPDATE = re.compile(rf"UPDATE\s+(?P<table>{_QUAL})\s+SET\b", _F)
_COMMENTS = re.compile(r"\s*(?:--[^\n]{0,2000}\n|/\*.{0,2000}?\*/)", re.DOTALL)


@dataclass
class Statement:
    verb: str  # create, alter, insert, update, other
    object_type: str | None = None  # table, index, sequence, view, type, trigger, column, constraint, ...
    name: str | None = None  # the object the statement creates or adds
    table: str | None = None
    unique: bool = False  # a unique index or constraint: building it can meet duplicate rows
    constraint_type: str | None = None  # for ADD CONSTRAINT: unique, primary key, foreign key, check

    def creates(self, name: str | None) -> bool:
        return bool(name) and same_name(self.name, name)


def unquote(ident: str | None) -> str | None:
    """`"public"."User"` -> `User`: messages name objects without schema or quotes."""
    if not ident:
        return ident
    # The last dot outside quotes separates the name from its schema.
    closing = {'"': '"', "`": "`", "[": "]"}
    start, quote = 0, ""
    for i, ch in enumerate(ident):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in closing:
            quote = closing[ch]
        elif ch == ".":
            start = i + 1
    last = ident[start:]
    if len(last) >= 2 and last[0] in closing and last[-1] == closing[last[0]]:
        return last[1:-1]
    return last


def same_name(a: str | None, b: str | None) -> bool:
    """Unquoted identifiers fold case in every dialect here, so compare without case."""
    if not a or not b:
        return False
    return (unquote(a) or "").casefold() == (unquote(b) or "").casefold()


def _alter(table: str, rest: str) -> Statement:
    m = _ADD_CONSTRAINT.match(rest)
    if m:
        ctype = " ".join(m.group("ctype").lower().split())
        return Statement(
            "alter",
            "constraint",
            unquote(m.group("name")),
            table,
            unique=ctype in ("unique", "primary key"),
            constraint_type=ctype,
        )
    m = _ADD_UNIQUE.match(rest)
    if m:
        return Statement("alter", "index", unquote(m.group("name")), table, unique=True)
    m = _ADD_INDEX.match(rest)
    if m:
        return Statement("alter", "index", unquote(m.group("name")), table, unique=bool(m.group("unique")))
    if _ADD_UNNAMED.match(rest):
        kind = rest[3:].lstrip()[:7].upper()
        return Statement("alter", "constraint", None, table, unique=kind in ("UNIQUE", "PRIMARY"))
    m = _RENAME_COLUMN.match(rest) or _ADD_COLUMN.match(rest)
    if m:
        return Statement("alter", "column", unquote(m.group("name")), table)
    m = _RENAME_TABLE.match(rest)
    if m:
        return Statement("alter", "table", unquote(m.group("name")), table)
    return Statement("alter", None, None, table)


def parse(sql: str | None) -> Statement | None:
    """What the statement creates, or None when it is not one of the shapes read here."""
    if not sql:
        return None
    head = sql[:_HEAD]
    m = _COMMENTS.match(head)
    while m and m.end():
        head = head[m.end() :]
        m = _COMMENTS.match(head)
    head = head.lstrip()
    for pattern, otype in (
        (_CREATE_TABLE, "table"),
        (_CREATE_SEQUENCE, "sequence"),
        (_CREATE_VIEW, "view"),
        (_CREATE_TYPE, "type"),
    ):
        m = pattern.match(head)
        if m:
            return Statement(
                "create",
                otype,
                unquote(m.group("name")),
                unquote(m.group("name")) if otype in ("table", "view") else None,
            )
    m = _CREATE_INDEX.match(head)
    if m:
        return Statement(
            "create",
            "index",
            unquote(m.group("name")),
            unquote(m.group("table")),
            unique=bool(m.group("unique")),
        )
    m = _CREATE_TRIGGER.match(head)
    if m:
        return Statement("create", "trigger", unquote(m.group("name")), unquote(m.group("table")))
    m = _CREATE_OTHER.match(head)
    if m:
        return Statement("create", m.group("otype").lower(), unquote(m.group("name")))
    m = _ALTER_TABLE.match(head)
    if m:
        return _alter(unquote(m.group("table")) or "", m.group("rest"))
    m = _INSERT.match(head)
    if m:
        return Statement("insert", None, None, unquote(m.group("table")))
    m = _UPDATE.match(head)
    if m:
        return Statement("update", None, None, unquote(m.group("table")))
    return Statement(head[:16].split(None, 1)[0].lower() if head.strip() else "other")
