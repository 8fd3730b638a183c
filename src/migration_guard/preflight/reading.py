"""What a statement does to the schema as a whole, beyond the objects it creates (operations/ says those).

A Reading lists the statement's parts by type (so the state knows whether it can follow them), the
tables whose rows it writes, the objects it renames, and the objects it needs to be there (an ALTER
TABLE needs its table, a DROP without IF EXISTS needs its object). PostgreSQL statements are read
by pglast; other dialects have no reader here yet, so their statements cannot be followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast, enums

from migration_guard.operations import postgresql as pg


@dataclass
class Need:
    kind: str  # table, view, column, index, constraint, type, sequence
    name: str
    schema: str | None = None
    table: str | None = None  # for columns and constraints
    how: str = ""  # what the statement does with it: "drop", "alter", "index"


@dataclass
class Reading:
    parts: list[str] = field(default_factory=list)  # statement and ALTER TABLE subcommand types
    written: list[tuple[str, str | None]] = field(default_factory=list)  # (table, schema)
    renames: list[tuple] = field(default_factory=list)  # (kind, old, new, schema, table)
    needs: list[Need] = field(default_factory=list)


_DROP_KIND = {
    enums.ObjectType.OBJECT_TABLE: "table",
    enums.ObjectType.OBJECT_VIEW: "view",
    enums.ObjectType.OBJECT_INDEX: "index",
    enums.ObjectType.OBJECT_SEQUENCE: "sequence",
    enums.ObjectType.OBJECT_TYPE: "type",
    enums.ObjectType.OBJECT_DOMAIN: "type",
}
# Objects whose drop touches nothing the state tracks.
_DROP_NEUTRAL = {enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_PROCEDURE, enums.ObjectType.OBJECT_TRIGGER,
                 enums.ObjectType.OBJECT_POLICY, enums.ObjectType.OBJECT_RULE, enums.ObjectType.OBJECT_AGGREGATE,
                 enums.ObjectType.OBJECT_ROUTINE, enums.ObjectType.OBJECT_EVENT_TRIGGER}
_RENAME_KIND = {
    enums.ObjectType.OBJECT_TABLE: "table",
    enums.ObjectType.OBJECT_VIEW: "view",
    enums.ObjectType.OBJECT_INDEX: "index",
    enums.ObjectType.OBJECT_SEQUENCE: "sequence",
    enums.ObjectType.OBJECT_COLUMN: "column",
    enums.ObjectType.OBJECT_TABCONSTRAINT: "constraint",
    enums.ObjectType.OBJECT_TYPE: "type",
}
_COLUMN_CMDS = {"AT_SetNotNull", "AT_DropNotNull", "AT_AlterColumnType", "AT_ColumnDefault", "AT_SetStatistics",
                "AT_SetStorage", "AT_DropColumn", "AT_SetOptions", "AT_ResetOptions", "AT_SetCompression"}


def of(statement: str, dialect: str, nodes=None) -> Reading:
    """`nodes`: the statement already parsed by the dialect's parser (read here, never changed)."""
    if dialect != "postgresql":
        return Reading(parts=[f"unread {dialect} statement"])
    nodes = pg.parse(statement) if nodes is None else nodes
    if not nodes:
        return Reading(parts=["statement PostgreSQL's parser does not accept"])
    reading = Reading()
    for node in nodes:
        _read(node, reading)
    return reading


def _read(node, r: Reading) -> None:
    name = type(node).__name__
    if isinstance(node, ast.AlterTableStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE:
        rel = node.relation
        if not node.missing_ok:
            r.needs.append(Need("table", rel.relname, rel.schemaname, how="alter"))
        for cmd in node.cmds or ():
            sub = cmd.subtype.name
            r.parts.append(sub)
            if sub in _COLUMN_CMDS and cmd.name and not (sub == "AT_DropColumn" and cmd.missing_ok):
                r.needs.append(Need("column", cmd.name, rel.schemaname, rel.relname,
                                    how="drop" if sub == "AT_DropColumn" else "alter"))
            if sub == "AT_DropConstraint" and not cmd.missing_ok:
                r.needs.append(Need("constraint", cmd.name, rel.schemaname, rel.relname, how="drop"))
            if sub == "AT_AlterColumnType":
                r.written.append((rel.relname, rel.schemaname))
        return
    r.parts.append(name)
    if isinstance(node, ast.IndexStmt):
        r.needs.append(Need("table", node.relation.relname, node.relation.schemaname, how="index"))
    elif isinstance(node, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)) or (
            isinstance(node, ast.CopyStmt) and node.relation is not None and node.is_from):
        r.written.append((node.relation.relname, node.relation.schemaname))
    elif isinstance(node, ast.TruncateStmt):
        r.written.extend((rel.relname, rel.schemaname) for rel in node.relations or ())
    elif isinstance(node, ast.DropStmt):
        kind = _DROP_KIND.get(node.removeType)
        if kind is None:
            if node.removeType not in _DROP_NEUTRAL:
                r.parts[-1] = f"DropStmt of {node.removeType.name}"
            return
        for obj in node.objects or ():
            parts = [n.sval for n in (obj.names if isinstance(obj, ast.TypeName) else obj) or ()
                     if isinstance(n, ast.String)]
            if parts and not node.missing_ok:
                r.needs.append(Need(kind, parts[-1], parts[-2] if len(parts) > 1 else None, how="drop"))
        if node.behavior == enums.DropBehavior.DROP_CASCADE:
            r.parts[-1] = "DropStmt CASCADE"  # what else goes with it is not listed in the statement
    elif isinstance(node, ast.RenameStmt) and node.renameType in _RENAME_KIND:
        kind = _RENAME_KIND[node.renameType]
        rel = node.relation
        if kind in ("column", "constraint"):
            r.renames.append((kind, node.subname, node.newname, rel.schemaname, rel.relname))
        elif rel is not None:
            r.renames.append((kind, rel.relname, node.newname, rel.schemaname, None))
        else:
            parts = [n.sval for n in (node.object or ()) if isinstance(n, ast.String)]
            if not parts:
                return
            r.renames.append((kind, parts[-1], node.newname, parts[-2] if len(parts) > 1 else None, None))
        r.parts[-1] = "RenameStmt (followed)"
