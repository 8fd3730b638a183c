"""MySQL/MariaDB and SQLite statements read by sqlglot's parser (shared by operations/mysql.py and sqlite.py).

The AST says what a statement does (its Effects). sqlglot's tokenizer also says where each token is in
the user's own text; `Tokens` uses that for the two jobs that need positions: cutting alembic's offline
output into statements, and letting a shadow replay the user's exact text with only a table name changed
(a statement regenerated from the AST could render a type differently from the one written).
A statement sqlglot cannot parse (it falls back to `Command`) carries no checkable effect: recovery
refuses for lack of evidence rather than guess from the text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from migration_guard.operations.effect import Effect

# sqlglot logs a warning for every statement it reads as a bare Command; that is an answer here, not news.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_DATA = (exp.Insert, exp.Update, exp.Delete, exp.Query, exp.Merge)
_CONSTRAINT_KIND = {exp.UniqueColumnConstraint: "unique", exp.CheckColumnConstraint: "check",
                    exp.ForeignKey: "foreign", exp.PrimaryKey: "primary"}
_DROP_KIND = {"TABLE": "drop_table", "VIEW": "drop_view", "INDEX": "drop_index"}
_DROP_IN_ALTER = {"COLUMN": "drop_column", "INDEX": "drop_index", "KEY": "drop_index",
                  "FOREIGN KEY": "drop_constraint", "CONSTRAINT": "drop_constraint", "CHECK": "drop_constraint"}


def parse(statement: str, dialect: str) -> list[exp.Expression]:
    """The statement's ASTs; [] when sqlglot cannot read it."""
    try:
        return [tree for tree in sqlglot.parse(statement, read=dialect) if tree is not None]
    except (ParseError, TokenError, ValueError):
        return []


def effects(statement: str, dialect: str) -> list[Effect]:
    trees = parse(statement, dialect)
    if not trees:
        return [Effect("other", "", statement, detail={"unparsed": True, "dialect": dialect})]
    out: list[Effect] = []
    for tree in trees:
        out.extend(_effects(tree, statement))
    return out


def _table(node: exp.Expression | None) -> tuple[str | None, str]:
    if isinstance(node, exp.Schema):
        node = node.this
    if not isinstance(node, exp.Table):
        return None, node.name if node is not None else ""
    return (node.db or None), node.name


def _column_names(nodes) -> list[str]:
    out = []
    for node in nodes or ():
        node = node.this if isinstance(node, exp.Ordered) else node
        out.append(node.name if isinstance(node, (exp.Column, exp.Identifier, exp.ColumnPrefix)) else node.sql())
    return out


def _effects(node: exp.Expression, statement: str) -> list[Effect]:
    if isinstance(node, exp.Command):
        return [Effect("other", node.name, statement, detail={"unparsed": True})]
    if isinstance(node, _DATA):
        return [Effect("data", type(node).__name__, statement)]
    if isinstance(node, exp.Create):
        return _create(node, statement)
    if isinstance(node, exp.Alter) and str(node.args.get("kind") or "").upper() == "TABLE":
        return _alter_table(node, statement)
    if isinstance(node, exp.Drop) and str(node.args.get("kind") or "").upper() in _DROP_KIND:
        op = _DROP_KIND[str(node.args["kind"]).upper()]
        on = node.args.get("cluster")
        table = _table(on.this)[1] if isinstance(on, exp.OnProperty) else None
        out = []
        for target in node.args.get("expressions") or node.args.get("tables") or ():
            schema, name = _table(target)
            out.append(Effect(op, name, statement, table=table, schema=schema,
                              detail={"if_exists": bool(node.args.get("exists"))}))
        return out or [Effect("other", "Drop", statement)]
    return [Effect("other", type(node).__name__, statement)]


def _create(node: exp.Create, statement: str) -> list[Effect]:
    kind = str(node.args.get("kind") or "").upper()
    props = node.args.get("properties")
    temporary = bool(props and props.find(exp.TemporaryProperty))
    if kind == "TABLE" and not temporary:
        schema, name = _table(node.this)
        columns = [e.name for e in node.this.expressions if isinstance(e, exp.ColumnDef)] \
            if isinstance(node.this, exp.Schema) else []
        return [Effect("create_table", name, statement, table=name, schema=schema,
                       detail={"columns": columns, "if_not_exists": bool(node.args.get("exists"))})]
    if kind == "INDEX" and isinstance(node.this, exp.Index):
        index = node.this
        schema, table = _table(index.args.get("table"))
        params = index.args.get("params")
        columns = _column_names(params.args.get("columns") if params else ())
        return [Effect("create_index", index.name, statement, table=table, schema=schema,
                       detail={"unique": bool(node.args.get("unique")), "columns": columns,
                               "if_not_exists": bool(node.args.get("exists"))})]
    if kind == "VIEW" and not temporary:
        schema, name = _table(node.this)
        return [Effect("create_view", name, statement, schema=schema,
                       detail={"replace": bool(node.args.get("replace"))})]
    return [Effect("other", f"Create{kind.title()}", statement)]


def _alter_table(node: exp.Alter, statement: str) -> list[Effect]:
    schema, table = _table(node.this)
    out = []
    for i, action in enumerate(node.args.get("actions") or ()):
        common = {"table": table, "schema": schema, "cmd": i}
        if isinstance(action, exp.ColumnDef):
            out.append(Effect("add_column", action.name, statement,
                              detail={"if_not_exists": bool(action.args.get("exists"))}, **common))
        elif isinstance(action, exp.AddConstraint):
            out.extend(_added(part, statement, common) for part in action.expressions)
        elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() in _DROP_IN_ALTER:
            op = _DROP_IN_ALTER[str(action.args["kind"]).upper()]
            for target in action.args.get("expressions") or action.args.get("tables") or ():
                out.append(Effect(op, target.name, statement, detail={"if_exists": bool(action.args.get("exists"))},
                                  **common))
        else:
            out.append(Effect("other", type(action).__name__, statement, **common))
    return out or [Effect("other", "Alter", statement, table=table, schema=schema)]


def _added(part: exp.Expression, statement: str, common: dict) -> Effect:
    """One `ADD ...` of an ALTER TABLE: a named constraint, or (MySQL) an index added by name."""
    if isinstance(part, exp.Constraint) and part.expressions:
        inner = part.expressions[0]
        kind = _CONSTRAINT_KIND.get(type(inner))
        if kind is None:
            return Effect("other", part.name, statement, **common)
        detail: dict = {"type": kind}
        if kind == "unique":
            detail["columns"] = _column_names(inner.this.expressions if isinstance(inner.this, exp.Schema) else ())
        elif kind == "foreign":
            detail["columns"] = _column_names(inner.expressions)
            ref = inner.args.get("reference")
            if ref is not None and isinstance(ref.this, exp.Schema):
                detail["ref_table"] = _table(ref.this)[1]
                detail["ref_columns"] = _column_names(ref.this.expressions)
        elif kind == "primary":
            detail["columns"] = _column_names(inner.expressions)
        return Effect("add_constraint", part.name, statement, detail=detail, **common)
    if isinstance(part, exp.IndexColumnConstraint) and part.name:
        return Effect("create_index", part.name, statement,
                      detail={"unique": False, "columns": _column_names(part.expressions),
                              "kind": str(part.args.get("kind") or "").upper() or None}, **common)
    if isinstance(part, exp.UniqueColumnConstraint) and isinstance(part.this, exp.Schema) and part.this.name:
        return Effect("create_index", part.this.name, statement,
                      detail={"unique": True, "columns": _column_names(part.this.expressions)}, **common)
    return Effect("other", type(part).__name__, statement, **common)


# -- positions in the user's text ------------------------------------------------------------------------
@dataclass
class Span:
    start: int  # character offsets in the statement, end exclusive
    end: int


class Tokens:
    """A statement's tokens with their offsets, and the few structural questions replays ask."""

    def __init__(self, sql: str, dialect: str):
        self.sql = sql
        self.toks: list[Token] = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)

    def text(self, lo: int, hi: int) -> str:
        """Original text of tokens lo..hi-1."""
        return self.sql[self.toks[lo].start: self.toks[hi - 1].end + 1] if hi > lo else ""

    def find(self, kind: TokenType, start: int = 0) -> int | None:
        return next((i for i in range(start, len(self.toks)) if self.toks[i].token_type == kind), None)

    def word(self, i: int) -> str:
        return self.toks[i].text.upper() if i < len(self.toks) else ""

    def name_at(self, i: int) -> tuple[Span, int] | None:
        """The possibly qualified name starting at token i (`t`, `db.t`, `"main"."t"`): its span and the
        index after it."""
        if i >= len(self.toks):
            return None
        j = i
        while j + 2 < len(self.toks) and self.toks[j + 1].token_type == TokenType.DOT:
            j += 2
        return Span(self.toks[i].start, self.toks[j].end + 1), j + 1

    def skip_words(self, i: int, *words: str) -> int:
        """Index after an optional run of exact keywords (`IF NOT EXISTS`) at i."""
        if all(self.word(i + k) == w for k, w in enumerate(words)):
            return i + len(words)
        return i

    def chunks(self, lo: int, hi: int | None = None) -> list[tuple[int, int]]:
        """Token ranges between top-level commas in lo..hi (the commands of an ALTER TABLE, the elements
        of a CREATE TABLE body)."""
        hi = len(self.toks) if hi is None else hi
        out, depth, begin = [], 0, lo
        for i in range(lo, hi):
            kind = self.toks[i].token_type
            if kind == TokenType.L_PAREN:
                depth += 1
            elif kind == TokenType.R_PAREN:
                depth -= 1
            elif depth == 0 and kind in (TokenType.COMMA, TokenType.SEMICOLON):
                if i > begin:
                    out.append((begin, i))
                begin = i + 1
        if hi > begin:
            out.append((begin, hi))
        return out

    def matching(self, i: int) -> int:
        """Index of the `)` closing the `(` at token i."""
        depth = 0
        for j in range(i, len(self.toks)):
            if self.toks[j].token_type == TokenType.L_PAREN:
                depth += 1
            elif self.toks[j].token_type == TokenType.R_PAREN:
                depth -= 1
                if depth == 0:
                    return j
        return len(self.toks) - 1

    def is_name(self, i: int, name: str) -> bool:
        """Token i spells `name` (compared case-insensitively: MySQL and SQLite fold column and index names)."""
        return i < len(self.toks) and self.toks[i].text.casefold() == name.casefold()


def replace(sql: str, span: Span, text: str) -> str:
    return sql[: span.start] + text + sql[span.end:]


def split_statements(body: str, dialect: str) -> list[str] | None:
    """Alembic's offline output cut into statements: a `;` token (never one inside a string or comment)
    followed by a blank line, which is how alembic ends each statement; None when it cannot be tokenized."""
    try:
        toks = sqlglot.Dialect.get_or_raise(dialect).tokenize(body)
    except (TokenError, ValueError):
        return None
    out, begin = [], 0
    for i, tok in enumerate(toks):
        if tok.token_type != TokenType.SEMICOLON:
            continue
        following = body[tok.end + 1: toks[i + 1].start] if i + 1 < len(toks) else "\n\n"
        if following.count("\n") >= 2:
            out.append(body[begin: tok.end + 1].strip().rstrip(";").strip())
            begin = tok.end + 1
    rest = body[begin:].strip().rstrip(";").strip()
    if rest:
        out.append(rest)
    return [s for s in out if s]
