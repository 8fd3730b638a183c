"""duplicate_column inside alembic's batch mode on SQLite: refused, with what to do.

A batch operation (`with op.batch_alter_table(t)`, or every op under `render_as_batch=True`) that must
rebuild t reflects t from the live database, puts the migration's new column in place of a column of
that name already there, and copies nothing into it. The column's values would be discarded: the child's
hook stops such a rebuild before any change when the column holds values, and an older alembic fails on
the same `CREATE TABLE _alembic_tmp_t` with "duplicate column name".

Evidence rule: none can make this right, because the statement to skip does not exist: the rebuild is
one unit that the guard cannot cut without rewriting the migration. So refuse, with the live column,
the number of values it holds, and the two ways out. (A batch that only adds columns is not rebuilt:
alembic emits a plain ALTER TABLE ADD COLUMN, which duplicate_column handles like any other.)
"""

from __future__ import annotations

from sqlalchemy import text

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


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS and _rebuilt(ctx) is not None


def decide(ctx) -> Decision:
    table, column = _rebuilt(ctx), ctx.failure.column or ctx.failure.object_name or "?"
    rev, tool = ctx.failure.revision or "the failing revision", ctx.framework.name
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
            f"and `{tool} stamp {rev}`",
            f"if it is not: copy its values elsewhere or rename it by hand ({table}.{column}), then run again"])
