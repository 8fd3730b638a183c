"""Django's table rebuilds on SQLite, read as one unit.

SQLite's ALTER TABLE cannot change a column, add a NOT NULL column without a default, or add a constraint,
so Django's SQLite schema editor rebuilds the table instead (`DatabaseSchemaEditor._remake_table`), with
four statements in a row:

    CREATE TABLE "new__t" (...)                         -- t as the migration leaves it
    INSERT INTO "new__t" (a, b, c) SELECT a, b, '' FROM "t"   -- copies columns, fills the new ones
    DROP TABLE "t"
    ALTER TABLE "new__t" RENAME TO "t"

and then makes t's indexes again. One by one the four read as a new table, a data step, a drop and a
rename, none of which says anything about t. Together they do one thing: give t new__t's definition.
`find` returns each such group, so the evidence can judge a rebuild as a whole (`rebuild_table`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from migration_guard.operations import _sqlglot
from migration_guard.operations.effect import Effect, normalize_statement

SCRATCH = "new__"  # Django's name for the new table: "new__%s" % db_table, never shortened


@dataclass
class Rebuild:
    table: str
    scratch: str
    statements: list[str]  # the four, as the tool gave them
    copied: dict[str, str] = field(default_factory=dict)  # column of new__t -> column of t it is copied from
    filled: dict[str, str] = field(default_factory=dict)  # column of new__t -> what fills it instead (SQL)
    start: int = 0  # position of its CREATE TABLE among the revision's statements

    @property
    def create(self) -> str:
        return self.statements[0]

    def effect(self, statement: str) -> Effect:
        """The one Effect every statement of the group has: t ends with new__t's definition."""
        return Effect("rebuild_table", self.table, statement, table=self.table,
                      detail={"scratch": self.scratch, "create": self.create, "copied": dict(self.copied),
                              "filled": dict(self.filled), "group": list(self.statements)})


def _one(statement: str):
    trees = _sqlglot.parse(statement, "sqlite")
    return trees[0] if len(trees) == 1 else None


def _name(node) -> str | None:
    if isinstance(node, exp.Schema):
        node = node.this
    return node.name if isinstance(node, exp.Table) else None


def find(statements: list[str]) -> list[Rebuild]:
    """Every CREATE TABLE new__t / INSERT INTO new__t ... FROM t / DROP TABLE t / ALTER TABLE new__t RENAME TO t
    run, in order, in a revision's statements."""
    out = []
    for i in range(len(statements) - 3):
        create = _one(statements[i])
        if not (isinstance(create, exp.Create) and str(create.args.get("kind") or "").upper() == "TABLE"):
            continue
        scratch = _name(create.this) or ""
        if not scratch.startswith(SCRATCH) or len(scratch) == len(SCRATCH):
            continue
        table = scratch[len(SCRATCH):]
        insert, drop, rename = (_one(s) for s in statements[i + 1: i + 4])
        select = insert.expression if isinstance(insert, exp.Insert) else None
        if not (isinstance(select, exp.Select) and _name(insert.this) == scratch
                and _name(select.args.get("from_") and select.args["from_"].this) == table):
            continue
        dropped = (drop.args.get("expressions") or drop.args.get("tables") or ()) if isinstance(drop, exp.Drop) else ()
        if [_name(t) for t in dropped] != [table]:
            continue
        actions = rename.args.get("actions") if isinstance(rename, exp.Alter) else None
        if not (_name(rename.this) == scratch and actions and isinstance(actions[0], exp.AlterRename)
                and _name(actions[0].this) == table):
            continue
        targets = [c.name for c in insert.this.expressions] if isinstance(insert.this, exp.Schema) else []
        values = select.expressions
        if len(targets) != len(values):
            continue
        rebuild = Rebuild(table, scratch, list(statements[i: i + 4]), start=i)
        for target, value in zip(targets, values, strict=True):
            if isinstance(value, exp.Column) and not value.table:
                rebuild.copied[target] = value.name
            else:
                rebuild.filled[target] = value.sql(dialect="sqlite")
        out.append(rebuild)
    return out


def in_revision(statements: list[str]) -> tuple[dict[str, Rebuild], dict[str, Rebuild]]:
    """(normalized statement -> its rebuild) for the groups of one revision, and (normalized CREATE INDEX
    statement -> the rebuild before it) for each index made on a table after the revision rebuilt it:
    the rebuild's DROP TABLE took that table's indexes with it, so such an index is only there when
    the rebuild is."""
    groups, indexes = {}, {}
    rebuilds = find(statements)
    for rebuild in rebuilds:
        for s in rebuild.statements:
            groups[normalize_statement(s)] = rebuild
    for position, statement in enumerate(statements):
        for effect in _sqlglot.effects(statement, "sqlite"):
            if effect.op != "create_index":
                continue
            before = [r for r in rebuilds if (effect.table or "").casefold() == r.table.casefold()
                      and r.start + 3 < position]
            if before:
                indexes[normalize_statement(statement)] = before[-1]
    return groups, indexes
