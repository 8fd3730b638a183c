"""duplicate_data: a unique index, unique constraint or primary key cannot be built over rows that
already collide (PG 23505 "could not create unique index ... Key (a, b)=(1, 2) is duplicated").

Evidence rule:
- the key is read from the failing statement itself (the child's hook captured it; else the pending
  statement that builds the named index), parsed by PostgreSQL's parser (its columns and expressions,
  its WHERE predicate, NULLS NOT DISTINCT), or by sqlglot on MySQL/MariaDB and SQLite, or, for a SQLite
  batch-mode copy, from the columns SQLite's own message names. The catalog must show the table with
  every key column, and no valid index or constraint of that name yet (a failed CREATE INDEX
  CONCURRENTLY leaves an INVALID one: it is dropped with the dedupe, its definition recorded);
- the table must have a primary key: it tells the rows of a group apart, and says which is oldest
  (or a column named with --dedupe-order does, ties broken by the primary key);
- grouping the live rows by that exact key (rows the predicate covers; rows with a NULL in the key
  never collide unless NULLS NOT DISTINCT) must find duplicate groups. None: the duplicates come from
  the revision's own data steps, and removing rows from the table cannot help: refuse;
- rows of other tables that reference a surplus row are never lost or changed silently: without
  --dedupe-repoint, refuse and name the referencing tables; with it, point them at the kept row of
  the group in the same transaction, each old value recorded in the quarantine for `restore`;
- a user DELETE trigger or rule on the table would run code the guard cannot see: refuse.
Then, with --dedupe keep-oldest|keep-newest, in one transaction (quarantine.py): every surplus row is
copied to the quarantine and deleted, and the revision runs again. With --dedupe off (the default):
refuse, list the groups, and give the SQL a human could run. On MySQL/MariaDB a table with a
column JSON cannot hold exactly (BLOB, BINARY, BIT, geometry) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from migration_guard.diagnose.failure import Failure
from migration_guard.recovery import duplicates, quarantine
from migration_guard.recovery.duplicates import UniqueKey
from migration_guard.recovery.steps import Decision, Step, StepFailed
from migration_guard.report.model import Action

KINDS = {"duplicate_data"}
DIALECTS = {"postgresql", "mysql", "sqlite"}
BATCH_PREFIX = "_alembic_tmp_"  # Alembic's batch mode copies a SQLite table into _alembic_tmp_<table>

_DELETE_HOOKS = text("""
SELECT 'trigger ' || t.tgname FROM pg_trigger t
 WHERE t.tgrelid = CAST(:rel AS regclass) AND NOT t.tgisinternal AND (t.tgtype & 8) <> 0
UNION ALL
SELECT 'rule ' || r.rulename FROM pg_rewrite r WHERE r.ev_class = CAST(:rel AS regclass) AND r.ev_type = '4'
""")


_MYSQL_TRIGGERS = text("SELECT CONCAT('trigger ', TRIGGER_NAME) FROM information_schema.TRIGGERS "
                       "WHERE EVENT_OBJECT_TABLE = :t AND EVENT_OBJECT_SCHEMA = :s AND EVENT_MANIPULATION = 'DELETE'")
_SQLITE_TRIGGERS = text("SELECT 'trigger ' || name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t")


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS and ctx.dialect in DIALECTS


def read_key(ctx) -> tuple[UniqueKey | None, str | None]:
    """The key being built, and the statement it was read from."""
    f = ctx.failure
    prep = ctx.engine.dialect.identifier_preparer
    if f.statement:
        key = duplicates.from_statement(f.statement, ctx.dialect, prep)
        if key is not None:
            return key, f.statement
    name = f.constraint or f.object_name

    def matches(e):
        unique = e.detail.get("unique") or e.detail.get("type") in ("unique", "primary")
        return unique and (name is None or e.name == name) and (f.table is None or e.table == f.table)

    _rev, statement, effect = ctx.locate({"create_index", "add_constraint"}, matches)
    if effect is not None:
        return duplicates.from_statement(statement, ctx.dialect, prep), statement
    if ctx.dialect == "sqlite" and f.table and f.key and f.key.startswith("("):
        # 'UNIQUE constraint failed: t.a, t.b' names the columns itself (batch mode: of the copy).
        columns = [c.strip() for c in f.key.strip("()").split(",") if c.strip()]
        return duplicates.from_columns(f.table.removeprefix(BATCH_PREFIX), columns, prep, name), f.statement
    return None, None


@dataclass
class Dedupe(Step):
    plan: quarantine.Plan | None = None
    session: quarantine.Session | None = None  # open, holding the lock, when decide looked under it
    changes_database = True
    journals_itself = True

    def apply(self, ctx, plan: dict) -> None:
        from sqlalchemy import inspect, update

        from migration_guard.recovery import journal

        session = self.session or quarantine.Session(ctx.engine, ctx.catalog, self.plan, lock=True)
        self.session = None
        # The journal says 'applied' in the dedupe's own transaction: a kill just after the commit is
        # then reported as what it is, not as rolled back.
        also = []
        if inspect(ctx.engine).has_table(journal.NAME):
            also.append(update(journal.journal).where(journal.journal.c.action_id == self.action.id)
                        .values(state="applied", updated_at=journal._now()))
        try:
            outcome = session.commit_dedupe(self.action.id, also)
        except quarantine.Abort as exc:
            raise StepFailed(str(exc)) from None
        with ctx.engine.connect() as conn:
            self.action.quarantine_table = quarantine.quarantine_name(conn)
        self.action.rows_quarantined = outcome.rows
        self.action.statements.extend(outcome.statements)
        self.action.recorded["rows_quarantined"] = outcome.rows
        if outcome.repointed:
            self.action.recorded["references_repointed"] = dict(outcome.repointed)
        self.action.evidence.append(
            f"moved {outcome.rows} surplus row(s) to {self.action.quarantine_table} and deleted them in one "
            f"transaction; undo with `migration-guard restore {self.action.id}`")


def decide(ctx) -> Decision:
    f = ctx.failure
    key, statement = read_key(ctx)
    if key is None:
        return Decision.refuse(f.kind, "the guard cannot read which key the failing statement builds "
                               f"({f.constraint or f.object_name or 'unnamed index'}), so it cannot find the "
                               "duplicate rows", ["find the duplicates of the new unique key by hand; the "
                                                  "failure's Key (...) values name one group"])
    catalog = ctx.catalog
    live = catalog.table(key.table, key.schema)
    if live is None or live.kind not in ("table", "partitioned"):
        return Decision.refuse(f.kind, f"table {key.table} is not in the catalog as a table, so the guard "
                               "cannot look at its rows")
    key.bind(live)
    missing = [c for c in key.columns if c is not None and c not in live.columns]
    if missing:
        return Decision.refuse(f.kind, f"the key names column(s) {', '.join(missing)} that table {live.name} "
                               "does not have (yet): the duplicates come from this revision's own steps")
    prep = ctx.engine.dialect.identifier_preparer
    leftover = _invalid_index(ctx, key, live) if ctx.dialect == "postgresql" else None
    if leftover is None and key.name and (catalog.index(key.name, live.schema)
                                          or catalog.constraint(live.name, key.name, live.schema)):
        return Decision.refuse(f.kind, f"{key.what} {key.name} already exists on {live.name}: rows cannot "
                               "collide on it, so the failure is not what it seems")
    where = f"{key.what} {key.name + ' ' if key.name else ''}{key.describe()}"
    human = [duplicates.groups_sql(prep, catalog, key)]
    pk = duplicates.primary_key(catalog, live.name, live.schema)
    if not pk:
        with ctx.engine.connect() as conn:
            groups = duplicates.find_groups(conn, catalog, key)
        return Decision.refuse(f.kind, f"{groups.surplus} duplicate row(s) in {live.name} block {where}, and "
                               f"{live.name} has no primary key to tell the rows of a group apart",
                               ["decide by hand which row of each group to keep (the SQL lists the groups)"],
                               human)
    unkept = [c.name for c in live.columns.values()
              if ctx.dialect == "mysql" and quarantine.MYSQL_UNKEPT.search(c.type)]
    if unkept and ctx.settings.dedupe != "off":
        with ctx.engine.connect() as conn:
            groups = duplicates.find_groups(conn, catalog, key)
        return Decision.refuse(f.kind, f"{groups.surplus} duplicate row(s) in {live.name} block {where}, and "
                               f"column(s) {', '.join(unkept)} hold bytes that JSON cannot keep exactly, so the "
                               "guard will not quarantine them", ["dedupe by hand (the SQL lists the groups); keep "
                                                                  "a copy of what you remove"], human)
    order = ctx.settings.dedupe_order
    if order and order not in live.columns:
        return Decision.refuse(f.kind, f"--dedupe-order {order}: table {live.name} has no such column",
                               [f"name one of: {', '.join(live.columns)}"], human)
    policy = ctx.settings.dedupe if ctx.settings.dedupe != "off" else "keep-oldest"
    plan = quarantine.Plan(key, pk, policy, order, quarantine.references_to(catalog, live.name, live.schema),
                           bool(ctx.settings.dedupe_repoint), leftover)
    with ctx.engine.connect() as conn:
        if ctx.dialect == "postgresql":
            hooks = list(conn.execute(_DELETE_HOOKS, {"rel": duplicates.qualified(prep, live.name, live.schema)})
                         .scalars())
        elif ctx.dialect == "mysql":
            hooks = list(conn.execute(_MYSQL_TRIGGERS, {"t": live.name, "s": live.schema}).scalars())
        else:  # SQLite: any trigger on the table (its text says when it fires; the guard does not guess)
            hooks = list(conn.execute(_SQLITE_TRIGGERS, {"t": live.name}).scalars())
    # Acting on PostgreSQL: look at the rows under the lock that the dedupe then commits under, so the
    # groups and references reported are exactly the rows moved. SQLite's lock is the whole database's,
    # which the run's own bookkeeping needs before the dedupe, and MySQL's locking read must come after
    # its quarantine table is made (DDL commits): there the dedupe counts again under the lock.
    acting = ctx.settings.dedupe != "off" and not ctx.settings.dry_run and not hooks
    acting = acting and ctx.dialect == "postgresql"
    try:
        session = quarantine.Session(ctx.engine, catalog, plan, lock=acting)
    except OperationalError as exc:
        return Decision.refuse(f.kind, f"could not lock {live.name} against writes within "
                               f"{quarantine.LOCK_TIMEOUT}: {str(getattr(exc, 'orig', exc)).splitlines()[0]}",
                               ["rerun when the table is less busy"], human)
    decision = _judge(ctx, plan, session.groups, where, hooks, human, statement)
    if decision.refusal is not None or not acting:
        session.close()
    else:
        decision.steps[0].session = session
    return decision


_INVALID = text("""
SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = :name AND n.nspname = :schema AND i.indrelid = CAST(:rel AS regclass)
""")


def _invalid_index(ctx, key: UniqueKey, live) -> tuple[str, str] | None:
    """A failed CREATE UNIQUE INDEX CONCURRENTLY leaves its index behind, INVALID: (SQL name, definition)."""
    if not key.name:
        return None
    prep = ctx.engine.dialect.identifier_preparer
    with ctx.engine.connect() as conn:
        row = conn.execute(_INVALID, {"name": key.name, "schema": live.schema,
                                      "rel": duplicates.qualified(prep, live.name, live.schema)}).first()
    if row is None or row[0]:
        return None
    return duplicates.qualified(prep, key.name, live.schema), row[1]


def _indexed(catalog, ref: quarantine.Reference) -> bool:
    """Does an index lead with the foreign key's columns (what PostgreSQL's check on delete looks up)?"""
    wanted = set(ref.columns)
    return any(i.table == ref.table and i.schema == ref.schema and set(i.columns[:len(wanted)]) == wanted
               for i in catalog.indexes.values())


def _judge(ctx, plan: quarantine.Plan, groups: duplicates.Groups, where: str, hooks: list[str], human: list[str],
           statement: str | None) -> Decision:
    f, key, pk = ctx.failure, plan.key, plan.pk
    table = key.table
    if groups.count == 0:
        return Decision.refuse(f.kind, f"no rows of {table} collide on {where} now: the duplicates come "
                               "from the revision's own data steps (or were removed since), so removing rows "
                               "cannot help", ["read the revision's data steps before the unique key"], human)
    facts = [f"the failing statement builds {where} on {table}",
             f"{groups.count} group(s) of rows share a key value; {groups.surplus} row(s) beyond the first of "
             "each group block the index",
             *(f"e.g. {line}" for line in groups.sample_lines(key))]
    if not key.nulls_distinct:
        facts.append("NULLS NOT DISTINCT: rows with NULLs in the key collide too")
    else:
        spared = ["rows with a NULL in the key"] if any(c not in key.not_null for c in key.columns) else []
        spared += [f"rows outside WHERE {key.predicate}"] if key.predicate else []
        if spared:
            facts.append(f"{' and '.join(spared)} never collide in this index and are left alone")
    referenced = [r for r in plan.references if r.rows]
    facts.append(f"kept in each group: {plan.kept_words()}")
    if plan.invalid_index:
        facts.append(f"index {key.name} is left INVALID by the failed CREATE INDEX CONCURRENTLY "
                     f"(`{plan.invalid_index[1]}`): it enforces nothing and holds no data; it is dropped in the "
                     "same transaction so that the migration builds it again (its definition is recorded here)")
    for ref in plan.references:
        if not _indexed(ctx.catalog, ref):
            facts.append(f"{ref.table}.{', '.join(ref.columns)} has no index: the database reads {ref.table} "
                         "once for each removed row to check the foreign key, which is slow on a large table")
    for ref in referenced:
        facts.append(f"{ref.rows} row(s) of {ref.label} reference surplus rows")
    human = human + quarantine.human_sql(ctx.engine, ctx.catalog, plan, "manual-dedupe")
    if ctx.settings.dedupe == "off":
        steps = [f"rerun with --dedupe keep-oldest or --dedupe keep-newest (kept row: by {', '.join(pk)}, or by "
                 "a column named with --dedupe-order COLUMN): the surplus rows are copied to "
                 f"{quarantine.TABLE} and deleted in one transaction; `migration-guard restore ACTION_ID` "
                 "puts them back",
                 "or remove the duplicates by hand (the SQL below lists them, then does what --dedupe "
                 "keep-oldest would do)"]
        if referenced:
            steps.append("rows of other tables reference surplus rows: add --dedupe-repoint to point them at "
                         "the kept row of their group (recorded, and undone by restore)")
        return Decision.refuse(f.kind, f"{groups.count} duplicate group(s) ({groups.surplus} surplus row(s)) in "
                               f"{table} block {where}; --dedupe is off, so nothing was changed",
                               [*(f"e.g. {line}" for line in groups.sample_lines(key)), *steps], human)
    if hooks:
        return Decision.refuse(f.kind, f"{table} has DELETE {', '.join(hooks)}: removing rows would run code "
                               "the guard cannot see", ["dedupe by hand (the SQL below), or disable the "
                                                        "trigger for the dedupe"], human)
    if referenced and not plan.repoint:
        tables = ", ".join(sorted({r.table for r in referenced}))
        return Decision.refuse(f.kind, f"surplus rows of {table} are referenced by rows of {tables}: "
                               "removing them would delete (CASCADE), change (SET NULL) or block (NO ACTION) "
                               "those rows", [*(f"{r.rows} row(s) of {r.label}" for r in referenced),
                                              "rerun with --dedupe-repoint to point them at the kept row of "
                                              "their group (recorded in the quarantine, undone by restore)"],
                               human)
    unkeyed = [r.table for r in referenced if not r.pk]
    if unkeyed:
        return Decision.refuse(f.kind, f"{', '.join(unkeyed)} reference surplus rows but have no primary key, so "
                               "a repoint could not be recorded and undone", ["repoint those rows by hand"], human)
    if referenced:
        facts.append("--dedupe-repoint: those references will point at the kept row of their group, in the same "
                     "transaction; the old values are recorded in the quarantine")
    action = Action(id="", kind="dedupe", target=f"table {table} {key.describe()}", failure_kind=f.kind,
                    revision=f.revision, evidence=facts,
                    recorded={"key": key.describe(), "groups": groups.count, "surplus": groups.surplus,
                              "policy": plan.policy, "order": plan.order_column or ", ".join(pk),
                              "statement": statement})
    if plan.invalid_index:
        action.recorded["dropped_invalid_index"] = plan.invalid_index[1]
    return Decision([Dedupe(action, plan=plan)])


def predict(ctx, statement: str, revision: str, earlier: list[str]) -> Failure | None:
    """`check`: the duplicate_data failure this statement would meet, from the live rows. None when it
    builds no unique key, when its table or columns are made by the pending run itself, or when an
    earlier pending statement writes to the table (its data step may remove the duplicates)."""
    prep = ctx.engine.dialect.identifier_preparer
    key = duplicates.from_statement(statement, ctx.dialect, prep)
    if key is None:
        return None
    live = ctx.catalog.table(key.table, key.schema)
    if live is None or any(c is not None and c not in live.columns for c in key.columns):
        return None
    if key.name and (ctx.catalog.index(key.name, live.schema) or ctx.catalog.constraint(live.name, key.name,
                                                                                         live.schema)):
        return None  # an 'already exists' failure, not this one
    if any(_writes(s, live.name, ctx.dialect) for s in earlier):
        return None
    key.bind(live)
    with ctx.engine.connect() as conn:
        groups = duplicates.find_groups(conn, ctx.catalog, key, sample=1)
    if not groups.count:
        return None
    values, _n = groups.sample[0]
    shown = ", ".join(duplicates.mask(v, s) for v, s in zip(values, key.sensitive, strict=True))
    return Failure("duplicate_data", object_type="constraint" if key.what != "unique index" else "index",
                   object_name=key.name, constraint=key.name, table=live.name,
                   key=f"({', '.join(key.labels)})=({shown})", statement=statement, revision=revision,
                   dialect=ctx.dialect, message=f"{groups.count} duplicate group(s), {groups.surplus} surplus "
                   f"row(s) in {live.name} for {key.what} {key.name or ''} {key.describe()}")


def _writes(statement: str, table: str, dialect: str) -> bool:
    """Could this statement change rows of `table` (a write to it, code, or SQL that does not parse)?"""
    if dialect == "postgresql":
        from pglast import ast

        from migration_guard.operations import postgresql as pg

        nodes = pg.parse(statement)
        if not nodes:
            return True
        for node in nodes:
            if isinstance(node, (ast.DoStmt, ast.CallStmt, ast.CopyStmt, ast.MergeStmt)):
                return True
            if isinstance(node, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)) and node.relation.relname == table:
                return True
        return False
    import sqlglot
    from sqlglot import exp

    try:
        trees = sqlglot.parse(statement, read=dialect)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return True
    for tree in trees:
        if isinstance(tree, exp.Command):
            return True
        if isinstance(tree, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
            target = tree.this.find(exp.Table) if tree.this is not None else None
            if target is None or target.name == table:
                return True
    return False
