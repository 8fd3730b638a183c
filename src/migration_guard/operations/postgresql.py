"""PostgreSQL statements read by PostgreSQL's own parser (pglast, libpg_query)."""

from __future__ import annotations

import re

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

from migration_guard.operations.effect import Effect

_DATA = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt, ast.DoStmt, ast.CopyStmt,
         ast.MergeStmt, ast.CallStmt)
_DROP_KIND = {
    enums.ObjectType.OBJECT_TABLE: "drop_table",
    enums.ObjectType.OBJECT_INDEX: "drop_index",
    enums.ObjectType.OBJECT_TYPE: "drop_type",
    enums.ObjectType.OBJECT_SEQUENCE: "drop_sequence",
    enums.ObjectType.OBJECT_VIEW: "drop_view",
}


def parse(statement: str):
    """The statement's AST nodes (one per statement in the text); [] when it does not parse."""
    try:
        return [raw.stmt for raw in parse_sql(statement)]
    except ParseError:
        return []


# An identifier as PostgreSQL's scanner reads one: unquoted (folded to lower case) or double-quoted.
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # ASCII only, as the server
_IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*)')


# The parser names a type written in SQL's own words by PostgreSQL's name for it (INTEGER is int4),
# and the analysis looks types up by those names.
_TYPE_WORDS = {"integer": ("int4",), "int": ("int4",), "smallint": ("int2",), "bigint": ("int8",),
               "real": ("float4",), "float": ("float4", "float8"), "double": ("float8",), "boolean": ("bool",),
               "decimal": ("numeric",), "dec": ("numeric",), "char": ("bpchar",), "character": ("bpchar", "varchar"),
               "nchar": ("bpchar",), "national": ("bpchar", "varchar"), "varying": ("varchar", "varbit"),
               "timestamp": ("timestamptz",), "time": ("timetz",), "bit": ("varbit",)}


def names(statement: str) -> set[str]:
    """Every identifier in the statement: a superset of the objects it names (words of its string
    literals and comments come along; nothing is missed but the odd U&"..." spelling). Read by a
    pattern, not the parser: this runs over every pending statement, on the path of every check."""
    out = set()
    for quoted, bare in _IDENTIFIER.findall(statement):
        name = quoted.replace('""', '"') if quoted else bare.translate(_FOLD)
        if len(name.encode()) < 64:  # NAMEDATALEN: longer is no identifier
            out.add(name)
            if bare:
                out.update(_TYPE_WORDS.get(name, ()))
    return out


def deparse(node) -> str:
    return RawStream()(node)


def _names(nodes) -> list[str]:
    return [n.sval for n in nodes or () if isinstance(n, ast.String)]


def _qualified(nodes) -> tuple[str | None, str]:
    parts = _names(nodes)
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def effects(statement: str, nodes=None) -> list[Effect]:
    """`nodes`: the statement already parsed by parse() (read here, never changed)."""
    nodes = parse(statement) if nodes is None else nodes
    if not nodes:
        return [Effect("other", "", statement, detail={"unparsed": True})]
    out: list[Effect] = []
    for node in nodes:
        out.extend(_effects(node, statement))
    return out


def _effects(node, statement: str) -> list[Effect]:
    if isinstance(node, _DATA):
        return [Effect("data", type(node).__name__, statement)]
    if isinstance(node, ast.CreateStmt):
        rel = node.relation
        cols = [e.colname for e in node.tableElts or () if isinstance(e, ast.ColumnDef)]
        return [Effect("create_table", rel.relname, statement, table=rel.relname, schema=rel.schemaname,
                       detail={"columns": cols, "if_not_exists": bool(node.if_not_exists)})]
    if isinstance(node, ast.AlterTableStmt):
        return _alter_table(node, statement)
    if isinstance(node, ast.IndexStmt):
        rel = node.relation
        params = [p.name or deparse(p.expr) for p in node.indexParams or ()]
        return [Effect("create_index", node.idxname or "", statement, table=rel.relname, schema=rel.schemaname,
                       detail={"unique": bool(node.unique), "columns": params,
                               "concurrent": bool(node.concurrent),
                               "if_not_exists": bool(node.if_not_exists)})]
    if isinstance(node, ast.CreateEnumStmt):
        schema, name = _qualified(node.typeName)
        return [Effect("create_enum", name, statement, schema=schema,
                       detail={"labels": _names(node.vals)})]
    if isinstance(node, ast.AlterEnumStmt):
        schema, name = _qualified(node.typeName)
        if node.oldVal:  # RENAME VALUE
            return [Effect("other", name, statement)]
        return [Effect("add_enum_value", node.newVal, statement, table=name, schema=schema,
                       detail={"type": name, "before": node.newValNeighbor if node.newValIsAfter is False
                               else None, "after": node.newValNeighbor if node.newValIsAfter else None,
                               "if_not_exists": bool(node.skipIfNewValExists)})]
    if isinstance(node, ast.CompositeTypeStmt):
        return [Effect("create_type", node.typevar.relname, statement, schema=node.typevar.schemaname)]
    if isinstance(node, ast.CreateDomainStmt):
        schema, name = _qualified(node.domainname)
        return [Effect("create_type", name, statement, schema=schema)]
    if isinstance(node, ast.CreateSeqStmt):
        return [Effect("create_sequence", node.sequence.relname, statement, schema=node.sequence.schemaname,
                       detail={"if_not_exists": bool(node.if_not_exists)})]
    if isinstance(node, ast.ViewStmt):
        return [Effect("create_view", node.view.relname, statement, schema=node.view.schemaname,
                       detail={"replace": bool(node.replace)})]
    if isinstance(node, ast.DropStmt) and node.removeType in _DROP_KIND:
        out = []
        for obj in node.objects or ():
            parts = _names(obj.names if isinstance(obj, ast.TypeName) else obj)
            if parts:
                out.append(Effect(_DROP_KIND[node.removeType], parts[-1], statement,
                                  schema=parts[-2] if len(parts) > 1 else None,
                                  detail={"if_exists": bool(node.missing_ok)}))
        return out
    return [Effect("other", type(node).__name__, statement)]


def _alter_table(node: ast.AlterTableStmt, statement: str) -> list[Effect]:
    rel = node.relation
    out = []
    for i, cmd in enumerate(node.cmds or ()):
        sub = cmd.subtype
        common = {"table": rel.relname, "schema": rel.schemaname, "cmd": i}
        if sub == enums.AlterTableType.AT_AddColumn:
            out.append(Effect("add_column", cmd.def_.colname, statement,
                              detail={"if_not_exists": bool(cmd.missing_ok)}, **common))
        elif sub == enums.AlterTableType.AT_AddConstraint and cmd.def_.conname:
            con = cmd.def_
            kind = con.contype.name.removeprefix("CONSTR_").lower()
            out.append(Effect("add_constraint", con.conname, statement,
                              detail={"type": kind, "columns": _names(con.keys or con.fk_attrs)}, **common))
        elif sub == enums.AlterTableType.AT_DropColumn:
            out.append(Effect("drop_column", cmd.name, statement, detail={"if_exists": bool(cmd.missing_ok)},
                              **common))
        elif sub == enums.AlterTableType.AT_ColumnDefault and cmd.def_ is None:
            # Django adds a column with a DEFAULT for its existing rows, then drops it (see Context.effects).
            out.append(Effect("drop_default", cmd.name, statement, **common))
        elif sub == enums.AlterTableType.AT_DropConstraint:
            out.append(Effect("drop_constraint", cmd.name, statement,
                              detail={"if_exists": bool(cmd.missing_ok)}, **common))
        else:
            out.append(Effect("other", sub.name, statement, **common))
    return out
