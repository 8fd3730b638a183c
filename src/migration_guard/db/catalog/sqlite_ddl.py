"""Reading SQLite's stored CREATE TABLE / CREATE INDEX text for what no pragma reports.

SQLite keeps constraint names, CHECK expressions, generated-column expressions, AUTOINCREMENT,
index key expressions and partial-index predicates only in the DDL text in `sqlite_master.sql`.
This is a small tokenizer and a structural reader of those two statements, not a SQL parser:
it splits on top-level parentheses and commas and recognises the constraint keywords, keeping
the original text of every expression. The pragmas stay the source of truth for structure
(columns, key columns, foreign key targets); this only adds what they leave out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

# Strings, quoted identifiers (all four SQLite styles), comments, words, numbers, single symbols.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|/\*.*?(?:\*/|$))
  | (?P<str>'(?:[^']|'')*')
  | (?P<ident>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
  | (?P<word>[A-Za-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
  | (?P<sym>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class Tok(NamedTuple):  # a tuple, not a dataclass: tokens are made by the ten thousand
    kind: str  # str, ident, word, num, sym
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """The identifier this token spells, unquoted."""
        t = self.text
        if self.kind == "ident":
            if t[0] == "[":
                return t[1:-1]
            return t[1:-1].replace(t[0] * 2, t[0])
        if self.kind == "str":  # SQLite accepts 'name' where an identifier is expected
            return t[1:-1].replace("''", "'")
        return t


@dataclass
class Check:
    name: str | None
    expression: str
    column: str | None = None  # set for a column constraint
    names: list[str] = field(default_factory=list)  # identifiers in the expression


@dataclass
class ForeignKey:
    name: str | None
    columns: list[str]
    ref_table: str


@dataclass
class TableDDL:
    constraint_names: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)  # (kind, cols)
    checks: list[Check] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    generated: dict[str, str] = field(default_factory=dict)  # column -> expression
    autoincrement: set[str] = field(default_factory=set)
    without_rowid: bool = False


def tokenize(sql: str) -> list[Tok]:
    return [
        Tok(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(sql) if m.lastgroup != "ws"
    ]


def _matching(toks: list[Tok], i: int) -> int:
    """Index of the ")" closing the "(" at toks[i]."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _split(toks: list[Tok]) -> list[list[Tok]]:
    """Split on commas that are not inside parentheses."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        if t.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def _body(toks: list[Tok], start: int = 0) -> tuple[int, int]:
    """Bounds (exclusive) of the first parenthesised list at or after toks[start]."""
    i = next((k for k in range(start, len(toks)) if toks[k].text == "("), len(toks))
    return i + 1, _matching(toks, i)


def _text(sql: str, toks: list[Tok]) -> str:
    return sql[toks[0].start : toks[-1].end] if toks else ""


def _names(toks: list[Tok]) -> list[str]:
    """Column names of a "(a COLLATE x DESC, b)" list: the first token of each item."""
    return [item[0].name for item in _split(toks)]


def _paren_after(sql: str, toks: list[Tok], i: int) -> tuple[str, int]:
    """Text inside the parentheses opening at toks[i], and the index after them."""
    end = _matching(toks, i)
    return _text(sql, toks[i + 1 : end]), end + 1


def parse_table(sql: str) -> TableDDL:
    out = TableDDL()
    toks = tokenize(sql or "")
    lo, hi = _body(toks)
    out.without_rowid = "ROWID" in {t.upper for t in toks[hi + 1 :]}
    for item in _split(toks[lo:hi]):
        head = item[0].upper
        if head in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
            _table_constraint(sql, item, out)
        else:
            _column(sql, item, out)
    return out


def _table_constraint(sql: str, item: list[Tok], out: TableDDL) -> None:
    name = None
    i = 0
    if item[0].upper == "CONSTRAINT" and len(item) > 1:
        name, i = item[1].name, 2
    kw = item[i].upper if i < len(item) else ""
    if kw == "CHECK":
        expression, _ = _paren_after(sql, item, i + 1)
        names = [t.name for t in item[i + 1 :] if t.kind in ("word", "ident")]
        out.checks.append(Check(name, expression, names=names))
        return
    lo, hi = _body(item, i)
    cols = tuple(_names(item[lo:hi]))
    if kw in ("PRIMARY", "UNIQUE"):
        if name:
            out.constraint_names[("primary" if kw == "PRIMARY" else "unique", cols)] = name
        if kw == "PRIMARY" and "AUTOINCREMENT" in {t.upper for t in item}:
            out.autoincrement.update(cols)
    elif kw == "FOREIGN":
        ref = next((k for k in range(hi, len(item)) if item[k].upper == "REFERENCES"), None)
        if ref is not None and ref + 1 < len(item):
            out.foreign_keys.append(ForeignKey(name, list(cols), item[ref + 1].name))


def _column(sql: str, item: list[Tok], out: TableDDL) -> None:
    column = item[0].name
    name = None  # a CONSTRAINT name applies to the constraint that follows it
    i = 1
    while i < len(item):
        if item[i].text == "(":  # a type's size or a DEFAULT expression: nothing to find inside
            i = _matching(item, i) + 1
            continue
        kw = item[i].upper
        if kw == "CONSTRAINT" and i + 1 < len(item):
            name, i = item[i + 1].name, i + 2
            continue
        if kw == "CHECK" and i + 1 < len(item) and item[i + 1].text == "(":
            expression, i = _paren_after(sql, item, i + 1)
            out.checks.append(Check(name, expression, column))
            name = None
            continue
        if kw == "AS" and i + 1 < len(item) and item[i + 1].text == "(":
            out.generated[column], i = _paren_after(sql, item, i + 1)
            continue
        if kw == "REFERENCES" and i + 1 < len(item):
            out.foreign_keys.append(ForeignKey(name, [column], item[i + 1].name))
            name = None
        elif kw in ("PRIMARY", "UNIQUE"):
            if name:
                out.constraint_names[("primary" if kw == "PRIMARY" else "unique", (column,))] = name
            name = None
        elif kw == "AUTOINCREMENT":
            out.autoincrement.add(column)
        i += 1


def parse_index(sql: str) -> tuple[list[str], str | None]:
    """Key terms (without ASC/DESC/COLLATE) and the WHERE predicate of a CREATE INDEX."""
    toks = tokenize(sql or "")
    on = next((k for k, t in enumerate(toks) if t.upper == "ON"), 0)
    lo, hi = _body(toks, on)
    keys = []
    for item in _split(toks[lo:hi]):
        # Trailing ordering and collation belong to the index, not to the key expression.
        while item and item[-1].upper in ("ASC", "DESC"):
            item = item[:-1]
        if len(item) >= 2 and item[-2].upper == "COLLATE":
            item = item[:-2]
        keys.append(item[0].name if len(item) == 1 else _text(sql, item))
    rest = toks[hi + 1 :]
    predicate = _text(sql, rest[1:]) if rest and rest[0].upper == "WHERE" else None
    return keys, predicate
