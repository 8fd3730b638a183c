"""The schema as the pending statements leave it, statement by statement, on top of the live catalog.

The catalog is read once, before anything runs; a statement of revision 5 meets the database as
revisions 1-4 left it. So each statement's effects are recorded here as it is analysed: what it
created, what it dropped, which tables' rows it changed. A check then asks:

- exists(): is the object there when this statement runs? True, False, or None when an earlier
  statement could not be read (then nothing is claimed to be absent);
- rows_known(): are the live rows of this table still the rows this statement will meet? Not after
  a data step wrote to it, nor after a statement that could not be read.

Never guess: a state this module cannot vouch for answers None, and the check predicts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migration_guard.db.catalog.model import Catalog
from migration_guard.operations import Effect

# Effects of statements that change no object this module tracks (functions, triggers, comments, grants).
_NEUTRAL = {"CreateFunctionStmt", "CreateTrigStmt", "CommentStmt", "GrantStmt", "GrantRoleStmt",
            "VariableSetStmt", "AlterOwnerStmt", "CreatePolicyStmt", "AlterPolicyStmt", "AlterSeqStmt",
            "CreateEventTrigStmt", "AlterFunctionStmt", "CreateExtensionStmt", "AlterDefaultPrivilegesStmt",
            "CreateSchemaStmt", "NotifyStmt", "LockStmt", "AlterDomainStmt", "DefineStmt",
            "CreateCastStmt", "CreateConversionStmt", "CreateOpClassStmt", "CreateStatsStmt",
            "VacuumStmt", "ClusterStmt", "ReindexStmt", "ExplainStmt", "AlterEnumStmt",
            # ALTER TABLE subcommands that keep every object and row where it was:
            "AT_SetNotNull", "AT_DropNotNull", "AT_ColumnDefault", "AT_SetStatistics", "AT_SetOptions",
            "AT_ResetOptions", "AT_SetStorage", "AT_ClusterOn", "AT_DropCluster", "AT_SetRelOptions",
            "AT_ResetRelOptions", "AT_EnableTrig", "AT_DisableTrig", "AT_EnableTrigAll", "AT_DisableTrigAll",
            "AT_EnableTrigUser", "AT_DisableTrigUser", "AT_EnableRowSecurity", "AT_DisableRowSecurity",
            "AT_ForceRowSecurity", "AT_NoForceRowSecurity", "AT_ValidateConstraint", "AT_ChangeOwner",
            "AT_SetCompression", "AT_AddIdentity", "AT_SetIdentity", "AT_DropIdentity", "AT_AlterConstraint",
            "AT_ReplicaIdentity", "AT_SetLogged", "AT_SetUnLogged", "AT_AddInherit", "AT_DropInherit",
            "AT_GenericOptions", "AT_CookedColumnDefault", "AT_SetAccessMethod", "AT_SetTableSpace",
            "SelectStmt"}
# Statements that write rows to the table they name.
_WRITES = {"InsertStmt", "UpdateStmt", "DeleteStmt", "CopyStmt", "MergeStmt", "TruncateStmt",
           "AT_AlterColumnType"}


@dataclass
class State:
    catalog: Catalog
    made: dict = field(default_factory=dict)  # key -> revision that creates it in this run
    gone: dict = field(default_factory=dict)  # key -> revision that drops it in this run
    written: set = field(default_factory=set)  # table keys whose rows a pending data step changed
    new_tables: set = field(default_factory=set)  # table keys created in this run (no rows unless written)
    null_columns: set = field(default_factory=set)  # column keys added in this run with no default: NULL in every row
    renamed: set = field(default_factory=set)  # table keys that are an older table under a new name
    index_tables: dict = field(default_factory=dict)  # index key -> table key, for indexes made in this run
    blind: str | None = None  # why the state past this point cannot be vouched for

    # -- keys -----------------------------------------------------------------------------------------
    def schema(self, schema: str | None, name: str, finder) -> str:
        """The schema an unqualified name resolves to: where the catalog finds it, else the first on the path."""
        if schema:
            return schema
        live = finder(name)
        if live is not None:
            return live.schema
        return (self.catalog.search_path or ["public"])[0]

    def table_key(self, name: str, schema: str | None = None) -> tuple:
        return ("table", self.schema(schema, name, self.catalog.table), name)

    def key(self, kind: str, name: str, schema: str | None = None, table: str | None = None) -> tuple:
        if kind in ("column", "constraint"):
            return (kind, self.table_key(table or "", schema)[1], table, name)
        finder = {"index": self.catalog.index, "type": self.catalog.type, "enum": self.catalog.enum,
                  "sequence": self.catalog.sequence}.get(kind, self.catalog.table)
        if kind == "index" and self.catalog.dialect in ("mysql", "mariadb"):
            # MySQL names indexes per table (every table has a PRIMARY).
            return (kind, self.table_key(table or "", schema)[1], f"{table}.{name}")
        kind = {"enum": "type", "view": "table"}.get(kind, kind)
        return (kind, self.schema(schema, name, finder), name)

    # -- questions ------------------------------------------------------------------------------------
    def exists(self, kind: str, name: str, schema: str | None = None, table: str | None = None) -> bool | None:
        k = self.key(kind, name, schema, table)
        if k in self.gone:
            return False
        if k in self.made:
            return True
        if kind in ("column", "constraint", "index"):
            owner = table or self._index_table(name, schema)
            if owner and self.table_key(owner, schema) in self.gone:
                return False
            if owner and self.table_key(owner, schema) in self.renamed:
                return None
            if owner and self.table_key(owner, schema) in self.made:
                # A table created in this run has the columns its CREATE TABLE lists (recorded as made);
                # its implicit indexes and constraints (primary key, inline UNIQUE) are not tracked.
                return False if kind == "column" and not self.blind else None
        if kind == "index" and self._index_lost_a_column(name, schema):
            return False
        live = self._live(kind, name, schema, table)
        if live:
            return True
        return None if self.blind else False

    def made_by(self, kind: str, name: str, schema: str | None = None, table: str | None = None) -> str | None:
        return self.made.get(self.key(kind, name, schema, table))

    def rows_known(self, table: str, schema: str | None = None) -> bool:
        """The live rows of `table` are the ones a statement at this point will meet."""
        k = self.table_key(table, schema)
        return not self.blind and k not in self.written

    def is_new_table(self, table: str, schema: str | None = None) -> bool:
        return self.table_key(table, schema) in self.new_tables

    def is_null_column(self, table: str, column: str, schema: str | None = None) -> bool:
        """Added by an earlier pending statement without a default, and not written since."""
        return self.key("column", column, schema, table) in self.null_columns and self.rows_known(table, schema)

    def _live(self, kind: str, name: str, schema: str | None, table: str | None) -> bool:
        c = self.catalog
        if kind == "column":
            return c.column(table or "", name, schema) is not None
        if kind == "constraint":
            return c.constraint(table or "", name, schema) is not None
        if kind == "index":
            return c.index(name, schema, table=table if c.dialect in ("mysql", "mariadb") else None) is not None
        if kind in ("type", "enum"):
            return c.type(name, schema) is not None or c.enum(name, schema) is not None
        if kind == "sequence":
            return c.sequence(name, schema) is not None
        return c.table(name, schema) is not None  # table, view

    def _index_table(self, name: str, schema: str | None) -> str | None:
        if self.catalog.dialect in ("mysql", "mariadb"):
            return None  # MySQL needs the table to find an index at all: it is always given
        live = self.catalog.index(name, schema)
        return live.table if live else None

    def _index_lost_a_column(self, name: str, schema: str | None) -> bool:
        """PostgreSQL drops an index with any of its columns."""
        live = self.catalog.index(name, schema)
        return bool(live) and any(self.key("column", col, schema, live.table) in self.gone for col in live.columns)

    # -- recording ------------------------------------------------------------------------------------
    def record(self, revision: str, effects: list[Effect], reading, requirements=()) -> None:
        """What one statement did: its effects (operations/), its reading (preflight/reading.py) and
        the columns it adds with no value for existing rows (preflight/requirements.py)."""
        for e in effects:
            self._record(revision, e)
        for req in requirements:
            # A column of a user type (a domain may carry its own default) is not assumed NULL.
            if req.kind == "added_column" and not req.fills and self.catalog.type(req.new_type or "") is None:
                self.null_columns.add(self.key("column", req.columns[0], req.schema, req.table))
        for table, schema in reading.written:
            self.written.add(self.table_key(table, schema))
        for kind, old, new, schema, table in reading.renames:
            self.rename(revision, kind, old, new, schema, table)
        unknown = [p for p in reading.parts if p not in _NEUTRAL and p not in _WRITES and p not in _KNOWN]
        if unknown and not self.blind:
            self.blind = f"revision {revision} runs a statement the analysis cannot follow ({unknown[0]})"

    def rename(self, revision: str, kind: str, old: str, new: str, schema: str | None = None,
               table: str | None = None) -> None:
        """The object keeps its rows under a new name, where the live catalog does not know it."""
        old_key, new_key = self.key(kind, old, schema, table), self.key(kind, new, schema, table)
        self.gone[old_key] = revision
        self.made.pop(old_key, None)
        self.made[new_key] = revision
        self.gone.pop(new_key, None)
        if kind == "table":
            self.renamed.add(new_key)
        if kind in ("table", "column"):
            self.written.add(self.table_key(new if kind == "table" else table or "", schema))
            self.written.add(self.table_key(old if kind == "table" else table or "", schema))

    def _drop_indexes(self, revision: str, table: str, schema: str | None) -> None:
        """A table's indexes go with it: the live ones and those pending statements made on it."""
        keys = [self.key("index", index.name, schema, table) for index in self.catalog.indexes_of(table, schema)]
        keys += [k for k, owner in self.index_tables.items() if owner == self.table_key(table, schema)]
        for k in keys:
            self.gone[k] = revision
            self.made.pop(k, None)

    def _record(self, revision: str, e: Effect) -> None:
        op = e.op
        if op == "rebuild_table":
            # Django's rebuild (operations/rebuild.py), whose four statements all carry this effect: the
            # scratch table exists until its RENAME (read as any rename, after this) puts it in the
            # table's place, and the table's indexes are gone until the statements after the rebuild
            # make them again. Recording this at each of the four is the same as at the first.
            k = self.table_key(e.detail.get("scratch") or "", e.schema)
            self.made[k] = revision
            self.gone.pop(k, None)
            self.new_tables.add(k)
            self._drop_indexes(revision, e.table or "", e.schema)
        elif op == "create_table":
            k = self.table_key(e.name, e.schema)
            self.made[k] = revision
            self.gone.pop(k, None)
            self.new_tables.add(k)
            for col in e.detail.get("columns") or ():
                ck = self.key("column", col, e.schema, e.name)
                self.made[ck] = revision
                self.gone.pop(ck, None)
        elif op == "add_column":
            k = self.key("column", e.name, e.schema, e.table)
            self.made[k] = revision
            self.gone.pop(k, None)
        elif op in ("create_index", "create_sequence", "create_view", "create_enum", "create_type"):
            kind = {"create_index": "index", "create_sequence": "sequence", "create_view": "view"}.get(op, "type")
            k = self.key(kind, e.name, e.schema, e.table)
            self.made[k] = revision
            self.gone.pop(k, None)
            if kind == "index" and e.table:
                self.index_tables[k] = self.table_key(e.table, e.schema)
        elif op == "add_constraint":
            k = self.key("constraint", e.name, e.schema, e.table)
            self.made[k] = revision
            self.gone.pop(k, None)
        elif op.startswith("drop_"):
            kind = op.split("_", 1)[1]
            k = self.key(kind, e.name, e.schema, e.table)
            self.gone[k] = revision
            self.made.pop(k, None)
            if kind == "table":
                self.new_tables.discard(k)
                self._drop_indexes(revision, e.name, e.schema)


# Statement types whose effects record() reads itself (creates and drops of tracked objects, data).
_KNOWN = {"CreateStmt", "CreateTempStmt", "IndexStmt", "CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt",
          "CreateSeqStmt", "ViewStmt", "DropStmt", "RenameStmt (followed)", "AT_AddColumn", "AT_AddConstraint",
          "AT_DropColumn", "AT_DropConstraint", "AT_DropIndex"}
