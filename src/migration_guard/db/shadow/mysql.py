"""What a statement would create on MySQL / MariaDB, read the way the server reads the live object.

Text comparison fails here as on PostgreSQL (`INTEGER` is stored as `int(11)`, `BOOL` as `tinyint(1)`,
a column takes the table's collation). So the failing statement is replayed on a copy of its table:
`CREATE TEMPORARY TABLE mg_shadow_n LIKE t`, the object of the same name dropped from the copy, then the
user's own text with only the table name changed (positions from sqlglot's tokenizer). The copy and the
live table are then read with the same SHOW FULL COLUMNS / SHOW INDEX / SHOW CREATE TABLE.

A temporary table is private to the session, holds no rows, takes no lock on the live table beyond
reading its definition (bounded by a 3 s lock_wait_timeout), and is dropped at once with `DROP TEMPORARY
TABLE`, which can never drop a permanent table. CREATE/DROP TEMPORARY TABLE do not commit implicitly;
an ALTER of the copy does, which is harmless on the guard's own connection: it has nothing open.
Foreign keys cannot exist on a temporary table, so they are compared part by part by the evidence.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import text
from sqlglot.tokens import TokenType

from migration_guard.db.catalog.model import Catalog, Constraint, Index
from migration_guard.db.shadow.base import BaseShadow, ColumnShape
from migration_guard.operations import Effect
from migration_guard.operations._sqlglot import Tokens, replace

_NAME_TOKENS = (TokenType.VAR, TokenType.IDENTIFIER)


class MySQLShadow(BaseShadow):
    def __enter__(self) -> MySQLShadow:
        self._lock_wait = None
        with contextlib.suppress(Exception):
            self._lock_wait = self.conn.execute(text("SELECT @@SESSION.lock_wait_timeout")).scalar()
            self.conn.execute(text("SET SESSION lock_wait_timeout = 3"))
        return self

    def __exit__(self, *exc) -> None:
        # The session goes back to the guard's pool: the next user of it (a recovery's own DDL) must not
        # inherit a 3 s limit on waiting for a table.
        if self._lock_wait is not None:
            with contextlib.suppress(Exception):
                self.conn.execute(text("SET SESSION lock_wait_timeout = :v"), {"v": int(self._lock_wait)})
        return None

    # -- plumbing -----------------------------------------------------------------------------------
    def _q(self, name: str) -> str:
        return self.conn.dialect.identifier_preparer.quote(name)

    def _live(self, effect: Effect, table: str | None = None) -> str:
        name = self._q(table or effect.table or effect.name)
        return f"{self._q(effect.schema)}.{name}" if effect.schema else name

    def _replay(self, steps: list[str], read: str, temporary: str) -> list | None:
        """Run steps, then the read; the rows as mappings, or None when the server refused a step."""
        try:
            for sql in steps:
                self.conn.exec_driver_sql(sql)
            return [row._mapping for row in self.conn.exec_driver_sql(read).fetchall()]
        except Exception as exc:  # a replay the server refuses is evidence of nothing
            self._failed(exc)
            return None
        finally:
            with contextlib.suppress(Exception):
                self.conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {self._q(temporary)}")

    def _read(self, sql: str) -> list | None:
        try:
            return [row._mapping for row in self.conn.exec_driver_sql(sql).fetchall()]
        except Exception as exc:
            self._failed(exc)
            return None

    def _command(self, effect: Effect, names_at: int) -> str | None:
        """The text of the one ALTER TABLE command that creates effect.name (`ADD COLUMN c ...`,
        `ADD UNIQUE KEY k (...)`, `ADD CONSTRAINT k CHECK (...)`)."""
        tk = Tokens(effect.statement, "mysql")
        at = tk.find(TokenType.TABLE)
        if at is None or tk.word(0) != "ALTER":
            return None
        start = tk.skip_words(at + 1, "IF", "EXISTS")
        name = tk.name_at(start)
        if name is None:
            return None
        for lo, hi in tk.chunks(name[1]):
            if tk.word(lo) != "ADD":
                continue
            for i in range(lo + 1, min(hi, lo + 1 + names_at)):
                if tk.is_name(i, effect.name) and tk.toks[i].token_type in _NAME_TOKENS:
                    return tk.text(lo, hi)
        return None

    # -- columns ------------------------------------------------------------------------------------
    @staticmethod
    def _shape(row) -> ColumnShape:
        return ColumnShape(row["Type"], row["Null"] == "YES", row["Default"],
                           (("collate", row["Collation"] or ""), ("extra", row["Extra"] or "")))

    def column(self, effect: Effect) -> ColumnShape | None:
        command = self._command(effect, names_at=5)  # ADD [COLUMN] [IF NOT EXISTS] name
        if command is None:
            self.errors.append(f"no ADD COLUMN {effect.name} found in the statement")
            return None
        copy = self._q(self._name())
        rows = self._replay([
            f"CREATE TEMPORARY TABLE {copy} LIKE {self._live(effect)}",
            # a placeholder, so that dropping the column never leaves the copy without columns
            f"ALTER TABLE {copy} ADD COLUMN mg_shadow_keep INT",
            f"ALTER TABLE {copy} DROP COLUMN {self._q(effect.name)}",
            f"ALTER TABLE {copy} {command}",
        ], f"SHOW FULL COLUMNS FROM {copy}", copy)
        found = [r for r in rows or () if r["Field"].casefold() == effect.name.casefold()]
        return self._shape(found[0]) if found else None

    def live_column(self, effect: Effect, catalog: Catalog) -> ColumnShape | None:
        rows = self._read(f"SHOW FULL COLUMNS FROM {self._live(effect)}")
        found = [r for r in rows or () if r["Field"].casefold() == effect.name.casefold()]
        return self._shape(found[0]) if found else None

    def table_columns(self, effect: Effect) -> dict[str, ColumnShape] | None:
        tk = Tokens(effect.statement, "mysql")
        at = tk.find(TokenType.TABLE)
        if at is None:
            return None
        name = tk.name_at(tk.skip_words(at + 1, "IF", "NOT", "EXISTS"))
        opening = tk.find(TokenType.L_PAREN, name[1]) if name else None
        if opening is None:
            return None
        closing = tk.matching(opening)
        # A temporary table cannot have foreign keys; the evidence compares columns only.
        elements = [tk.text(lo, hi) for lo, hi in tk.chunks(opening + 1, closing) if not _foreign_key(tk, lo)]
        copy = self._q(self._name())
        sql = tk.sql
        rewritten = (sql[: tk.toks[at].start] + f"TEMPORARY TABLE {copy} (" + ", ".join(elements) + ")"
                     + sql[tk.toks[closing].end + 1:])
        rows = self._replay([rewritten], f"SHOW FULL COLUMNS FROM {copy}", copy)
        return None if rows is None else {r["Field"]: self._shape(r) for r in rows}

    def live_table_columns(self, effect: Effect, catalog: Catalog) -> dict[str, ColumnShape] | None:
        rows = self._read(f"SHOW FULL COLUMNS FROM {self._live(effect, effect.name)}")
        return None if rows is None else {r["Field"]: self._shape(r) for r in rows}

    # -- indexes and constraints --------------------------------------------------------------------
    def _index_shape(self, rows, name: str) -> str | None:
        parts = sorted((r for r in rows or () if r["Key_name"].casefold() == name.casefold()),
                       key=lambda r: r["Seq_in_index"])
        if not parts:
            return None
        terms = []
        for r in parts:
            term = r["Column_name"] if r["Column_name"] is not None else f"({r.get('Expression')})"
            term += f"({r['Sub_part']})" if r["Sub_part"] else ""
            term += " DESC" if r["Collation"] == "D" else ""
            terms.append(term)
        unique = "UNIQUE " if not int(parts[0]["Non_unique"]) else ""
        return f"{unique}{parts[0]['Index_type']} INDEX ({', '.join(terms)})"

    def _replay_on_copy(self, effect: Effect, drop: str) -> list | None:
        """Replay a CREATE INDEX or an ALTER TABLE ADD ... on a copy of the table, after `drop` (the
        copy's own object of that name, which LIKE brought along); the copy's SHOW INDEX rows."""
        copy = self._q(self._name())
        tk = Tokens(effect.statement, "mysql")
        if tk.word(0) == "CREATE":
            on = tk.find(TokenType.ON)
            name = tk.name_at(on + 1) if on is not None else None
            if name is None:
                return None
            replay = replace(tk.sql, name[0], copy)
        else:
            command = self._command(effect, names_at=4)  # ADD [UNIQUE|FULLTEXT] [INDEX|KEY] name, ADD CONSTRAINT name
            if command is None:
                self.errors.append(f"no ADD ... {effect.name} found in the statement")
                return None
            replay = f"ALTER TABLE {copy} {command}"
        live = self._live(effect)
        present = self._read(f"SHOW CREATE TABLE {live}")
        steps = [f"CREATE TEMPORARY TABLE {copy} LIKE {live}"]
        if present and _has_key(present[0]["Create Table"], effect.name):
            steps.append(f"ALTER TABLE {copy} {drop} {self._q(effect.name)}")
        read = f"SHOW INDEX FROM {copy}" if drop == "DROP INDEX" else f"SHOW CREATE TABLE {copy}"
        return self._replay([*steps, replay], read, copy)

    def index_definition(self, effect: Effect) -> str | None:
        return self._index_shape(self._replay_on_copy(effect, "DROP INDEX"), effect.name)

    def live_index_definition(self, effect: Effect, index: Index) -> str | None:
        return self._index_shape(self._read(f"SHOW INDEX FROM {self._live(effect, index.table)}"), index.name)

    def constraint_definition(self, effect: Effect) -> str | None:
        kind = effect.detail.get("type")
        if kind == "unique":  # a unique constraint is an index on MySQL
            return self._index_shape(self._replay_on_copy(effect, "DROP INDEX"), effect.name)
        if kind == "check":
            rows = self._replay_on_copy(effect, "DROP CONSTRAINT")
            return _check_clause(rows[0]["Create Table"], effect.name) if rows else None
        return None

    def live_constraint_definition(self, effect: Effect, constraint: Constraint) -> str | None:
        live = self._live(effect, constraint.table)
        if constraint.type == "unique":
            return self._index_shape(self._read(f"SHOW INDEX FROM {live}"), constraint.name)
        if constraint.type == "check":
            rows = self._read(f"SHOW CREATE TABLE {live}")
            return _check_clause(rows[0]["Create Table"], constraint.name) if rows else None
        return constraint.definition


_KEY_WORDS = {"KEY", "UNIQUE", "INDEX", "FULLTEXT", "SPATIAL", "CONSTRAINT"}


def _foreign_key(tk: Tokens, lo: int) -> bool:
    """The element is a FOREIGN KEY clause (sqlglot reads `FOREIGN KEY` as one token)."""
    at = lo + 2 if tk.word(lo) == "CONSTRAINT" else lo
    return at < len(tk.toks) and tk.toks[at].token_type == TokenType.FOREIGN_KEY


def _elements(create_table: str) -> list[tuple[Tokens, int, int]]:
    tk = Tokens(create_table, "mysql")
    opening = tk.find(TokenType.L_PAREN)
    if opening is None:
        return []
    return [(tk, lo, hi) for lo, hi in tk.chunks(opening + 1, tk.matching(opening))]


def _has_key(create_table: str, name: str) -> bool:
    """SHOW CREATE TABLE names an index or constraint `name` (`KEY \\`name\\``, `CONSTRAINT \\`name\\``)."""
    for tk, lo, hi in _elements(create_table):
        if tk.word(lo) in _KEY_WORDS and any(tk.is_name(i, name) for i in range(lo + 1, min(hi, lo + 4))):
            return True
    return False


def _check_clause(create_table: str, name: str) -> str | None:
    """`CHECK (...)` of the named constraint, as SHOW CREATE TABLE prints it."""
    for tk, lo, hi in _elements(create_table):
        if tk.word(lo) == "CONSTRAINT" and tk.is_name(lo + 1, name) and tk.word(lo + 2) == "CHECK":
            return tk.text(lo + 2, hi)
    return None
