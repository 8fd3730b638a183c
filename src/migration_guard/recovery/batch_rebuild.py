"""duplicate_column inside a table rebuild on SQLite: alembic's batch mode and Django's `new__` rebuilds.

Alembic batch mode. A batch operation (`with op.batch_alter_table(t)`, or every op under
`render_as_batch=True`) that must rebuild t reflects t from the live database, puts the migration's new
column in place of a column of that name already there, and copies nothing into it. The column's values
would be discarded: the child's hook stops such a rebuild before any change when the column holds values,
and an older alembic fails on the same `CREATE TABLE _alembic_tmp_t` with "duplicate column name".
Evidence rule: none can make this right, because the statement to skip does not exist: the rebuild is
one unit that the guard cannot cut without rewriting the migration. So refuse, with the live column,
the number of values it holds, and the two ways out. (A batch that only adds columns is not rebuilt:
alembic emits a plain ALTER TABLE ADD COLUMN, which duplicate_column handles like any other.)

Django. Django's SQLite schema editor adds a NOT NULL column, or one with a default, by rebuilding t
from the migration's state (operations/rebuild.py): new__t gets the new column, filled with the field's
default for every row, and whatever t held in a column of that name (a hotfix) is replaced, with exit
code 0. The child's hook stops the rebuild at its CREATE TABLE, before any change, when that column
holds values. Here the rebuild's four statements are known one by one, so they can be skipped together.
Evidence rule: t already has the whole definition the rebuild gives it (every column's declared type,
NOT NULL, default and collation, the keys and constraints): the rebuild is satisfied, and
history.resolve decides as for any satisfied statement (skip it and run the rest of the migration, its
RunPython steps included; or record a lost history). Otherwise refuse, with what differs, the number
of values, and the SQL of a rebuild that keeps them.
"""

from __future__ import annotations

from sqlalchemy import text

from migration_guard.db.shadow import open_shadow
from migration_guard.operations import Effect, normalize_statement
from migration_guard.recovery.evidence import check
from migration_guard.recovery.history import Evaluator, resolve
from migration_guard.recovery.steps import Decision

KINDS = {"duplicate_column"}
PREFIX = "_alembic_tmp_"


def _rebuilt(ctx) -> str | None:
    """The table a batch rebuild was making, from the failing CREATE TABLE _alembic_tmp_<t>."""
    f = ctx.failure
    if ctx.dialect != "sqlite" or not f.statement:
        return None
    for effect in ctx.effects(f.statement):
        if effect.op == "create_table" and effect.name.startswith(PREFIX):
            return next((t.name for t in ctx.catalog.tables.values() if (PREFIX + t.name)[:50] == effect.name),
                        effect.name[len(PREFIX):])
    return None


def _django_rebuild(ctx) -> Effect | None:
    f = ctx.failure
    if ctx.dialect != "sqlite" or not f.statement:
        return None
    return next((e for e in ctx.effects(f.statement) if e.op == "rebuild_table"), None)


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS and (_rebuilt(ctx) is not None or _django_rebuild(ctx) is not None)


def decide(ctx) -> Decision:
    effect = _django_rebuild(ctx)
    if effect is not None:
        return _decide_django(ctx, effect)
    table, column = _rebuilt(ctx), ctx.failure.column or ctx.failure.object_name or "?"
    rev = ctx.failure.revision or "the failing revision"
    live = ctx.catalog.column(table, column)
    if live is None:
        return Decision.refuse(ctx.failure.kind, f"alembic batch mode failed adding {table}.{column}, but the "
                               "catalog shows no such column now", ["rerun, and read the log if it fails again"])
    quoted = '"' + column.replace('"', '""') + '"'
    with ctx.engine.connect() as conn:
        held = conn.execute(text(f'SELECT count(*) FROM "{table}" WHERE {quoted} IS NOT NULL')).scalar()
    return Decision.refuse(
        ctx.failure.kind,
        f"revision {rev} adds column {table}.{column} inside an alembic batch operation, and {table}.{column} "
        f"already exists ({live.type or 'no declared type'}{'' if live.nullable else ' NOT NULL'}) with "
        f"{held} value(s). Batch mode rebuilds {table} from its live definition with the migration's column in "
        "place of that one and copies nothing into it, so those values would be lost; the rebuild is one unit "
        "the guard cannot skip part of without rewriting the migration", [
            f"if the existing column is what {rev} wants: move that add_column out of the batch "
            "(a plain op.add_column, which the guard can skip), or apply the rest of the revision by hand "
            f"and `{ctx.framework.mark_hint(rev)}`",
            f"if it is not: copy its values elsewhere or rename it by hand ({table}.{column}), then run again"])


def _decide_django(ctx, effect: Effect) -> Decision:
    kind, table = ctx.failure.kind, effect.table or effect.name
    column = ctx.failure.column or ctx.failure.object_name or "?"
    rev, statement, found = ctx.locate({"rebuild_table"}, lambda e: e.table == table)
    if rev is None or found is None:
        return Decision.refuse(kind, f"`{statement}` is not a statement of any pending migration",
                               ["check that the command runs this project's migrations"])
    with ctx.engine.connect() as conn, open_shadow(conn, ctx.dialect) as shadow:
        verdict = check(found, ctx.catalog, shadow)
        if verdict.ok:
            return resolve(ctx, rev, statement, Evaluator(ctx, shadow), [])
        held = conn.execute(text(f"SELECT count(*) FROM {_q(table)} WHERE {_q(column)} IS NOT NULL")).scalar() \
            if ctx.catalog.column(table, column) is not None else 0
    what = verdict.reason or "; ".join(verdict.facts)
    hint = ctx.framework.mark_hint(rev.id)
    return Decision.refuse(
        kind,
        f"migration {rev.id} adds column {table}.{column}, which already exists with {held} value(s). Django "
        f"rebuilds {table} on SQLite from the migration's state and fills that column with the field's default, "
        f"so running the migration would replace those values; and the rebuild cannot be skipped, because {what}",
        [f"decide whether the {held} value(s) of {table}.{column} are what {rev.id} should produce",
         f"to keep them: rebuild {table} the way {rev.id} does, but copying {column} (the SQL below), then deploy "
         f"again: the guard finds {table} as {rev.id} leaves it, skips its rebuild and runs the rest of it, data "
         f"steps included (or, if those ran already, `{hint}`)",
         f"to let {rev.id} make the column again: copy the values elsewhere if they matter, "
         f"`ALTER TABLE {_q(table)} DROP COLUMN {_q(column)}`, then deploy again"],
        sql=_keeping(ctx, rev, found))


def _keeping(ctx, rev, effect: Effect) -> list[str]:
    """The rebuild's statements with its copy taking every column the live table already has, and the
    indexes the migration makes again after it."""
    table, scratch = effect.table or effect.name, effect.detail["scratch"]
    copied, filled = effect.detail["copied"], effect.detail["filled"]
    targets = [*copied, *filled]
    sources = [_q(copied[c]) if c in copied else _q(c) if ctx.catalog.column(table, c) is not None else filled[c]
               for c in targets]
    group = effect.detail["group"]
    statements = ctx.sql.get(rev.id) or []
    indexes = [s for s in statements if normalize_statement(s) not in {normalize_statement(g) for g in group}
               and any(e.detail.get("after_rebuild") is not None and e.table == table for e in ctx.effects(s))]
    insert = (f"INSERT INTO {_q(scratch)} ({', '.join(map(_q, targets))}) SELECT {', '.join(sources)} "
              f"FROM {_q(table)}")
    return [group[0].rstrip().rstrip(";"), insert, *(g.rstrip().rstrip(";") for g in group[2:]),
            *(s.rstrip().rstrip(";") for s in indexes)]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
