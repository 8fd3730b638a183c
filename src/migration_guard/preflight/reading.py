"""What a statement does to the schema as a whole, beyond the objects it creates (operations/ says those).

A Reading lists the statement's parts by type (so the state knows whether it can follow them), the
tables whose rows it writes, the objects it renames, and the objects it needs to be there (an ALTER
TABLE needs its table, a DROP without IF EXISTS needs its object). PostgreSQL statements are read
by pglast, MySQL/MariaDB and SQLite statements by sqlglot; the part names are PostgreSQL's node
names for both, so state.py has one vocabulary.
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
    if dialect in ("mysql", "mariadb", "sqlite"):
        return _sqlglot(statement, dialect, nodes)
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


# -- MySQL/MariaDB and SQLite (sqlglot) ---------------------------------------------------------------
_SG_DROP = {"TABLE": "table", "VIEW": "view", "INDEX": "index"}
_SG_DROP_IN_ALTER = {"COLUMN": ("column", "AT_DropColumn"), "INDEX": ("index", "AT_DropIndex"),
                     "KEY": ("index", "AT_DropIndex"), "FOREIGN KEY": ("constraint", "AT_DropConstraint"),
                     "CONSTRAINT": ("constraint", "AT_DropConstraint"), "CHECK": ("constraint", "AT_DropConstraint")}


def _sqlglot(statement: str, dialect: str, trees=None) -> Reading:
    from sqlglot import exp

    from migration_guard.operations import _sqlglot as sg

    trees = sg.parse(statement, dialect) if trees is None else trees
    if not trees:
        return Reading(parts=[f"{dialect} statement sqlglot does not read"])
    r = Reading()
    for node in trees:
        if isinstance(node, exp.Create):
            kind = str(node.args.get("kind") or "").upper()
            props = node.args.get("properties")
            if props is not None and props.find(exp.TemporaryProperty):
                r.parts.append("CreateTempStmt")
                continue
            part = {"TABLE": "CreateStmt", "INDEX": "IndexStmt", "VIEW": "ViewStmt"}.get(kind, f"Create {kind}")
            r.parts.append(part)
            if kind == "INDEX" and isinstance(node.this, exp.Index):
                schema, table = sg._table(node.this.args.get("table"))
                r.needs.append(Need("table", table, schema, how="index"))
        elif isinstance(node, exp.Alter) and str(node.args.get("kind") or "").upper() == "TABLE":
            _sg_alter(node, r, exp, sg)
        elif isinstance(node, exp.Drop):
            kind = _SG_DROP.get(str(node.args.get("kind") or "").upper())
            r.parts.append("DropStmt" if kind else f"Drop {node.args.get('kind')}")
            on = node.args.get("cluster")
            table = sg._table(on.this)[1] if isinstance(on, exp.OnProperty) else None
            for target in node.args.get("expressions") or node.args.get("tables") or ():
                schema, name = sg._table(target)
                if kind and not node.args.get("exists"):
                    r.needs.append(Need(kind, name, schema, table if kind == "index" else None, how="drop"))
        elif isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
            r.parts.append(f"{type(node).__name__}Stmt")
            target = node.this
            schema, table = sg._table(target.this if isinstance(target, exp.Schema) else target)
            if table:
                r.written.append((table, schema))
        elif isinstance(node, exp.Query):
            r.parts.append("SelectStmt")
        elif isinstance(node, (exp.Set, exp.Pragma)):
            r.parts.append("VariableSetStmt")
        else:
            r.parts.append(f"{type(node).__name__} statement")
    return r


def _sg_alter(node, r: Reading, exp, sg) -> None:
    schema, table = sg._table(node.this)
    if not node.args.get("exists"):
        r.needs.append(Need("table", table, schema, how="alter"))
    for action in node.args.get("actions") or ():
        if isinstance(action, exp.ColumnDef):
            r.parts.append("AT_AddColumn")
        elif isinstance(action, exp.AddConstraint):
            r.parts.append("AT_AddConstraint")
        elif isinstance(action, exp.Drop):
            what = _SG_DROP_IN_ALTER.get(str(action.args.get("kind") or "").upper())
            r.parts.append(what[1] if what else f"Drop {action.args.get('kind')} in ALTER TABLE")
            for target in action.args.get("expressions") or action.args.get("tables") or ():
                if what and not action.args.get("exists"):
                    r.needs.append(Need(what[0], target.name, schema, table, how="drop"))
        elif isinstance(action, exp.ModifyColumn):
            old = action.args.get("rename_from")
            column = old.name if old is not None else action.this.name
            r.needs.append(Need("column", column, schema, table, how="alter"))
            r.parts.append("AT_AlterColumnType")
            r.written.append((table, schema))
            if old is not None and old.name != action.this.name:
                r.renames.append(("column", old.name, action.this.name, schema, table))
        elif isinstance(action, exp.AlterColumn):
            r.parts.append("AT_ColumnDefault")
            r.needs.append(Need("column", action.this.name, schema, table, how="alter"))
        elif isinstance(action, exp.RenameColumn):
            r.parts.append("RenameStmt (followed)")
            r.needs.append(Need("column", action.this.name, schema, table, how="alter"))
            r.renames.append(("column", action.this.name, action.args["to"].name, schema, table))
        elif isinstance(action, exp.AlterRename):
            r.parts.append("RenameStmt (followed)")
            r.renames.append(("table", table, sg._table(action.this)[1], schema, None))
        else:
            r.parts.append(f"{type(action).__name__} in ALTER TABLE")
