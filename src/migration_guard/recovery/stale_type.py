"""stale_type: a leftover standalone type blocks CREATE TABLE of the same name (PostgreSQL).

A table's row type lives in pg_type under the table's name, so a composite type left behind by an
interrupted run or a hand-made script makes `CREATE TABLE x` fail with "type x already exists"
(42710) or, in a race, a unique violation on pg_type_typname_nsp_index (23505).

Evidence rule: the failing statement is CREATE TABLE x; no table x exists; a type x exists that is
standalone (not a relation's row type), and nothing depends on it (no column, no other type, no
function). Then its full definition is recorded in the report and it is dropped (RESTRICT, so
PostgreSQL itself refuses if anything does depend on it), and the revision runs again. Otherwise
this recovery does not apply.
"""

from __future__ import annotations

from sqlalchemy import text

from migration_guard.recovery.steps import Decision, RunSQL
from migration_guard.report.model import Action

KINDS = {"duplicate_type", "duplicate_object", "type_catalog_conflict", "duplicate_relation"}

_DEFINITION = text("""
SELECT t.typtype, format_type(t.oid, NULL),
       (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                          ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
       (SELECT count(*) FROM pg_depend d WHERE d.refobjid = t.oid AND d.deptype = 'n'
          AND d.classid <> 'pg_type'::regclass) +
       (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          WHERE a.atttypid IN (t.oid, t.typarray) AND c.oid <> t.typrelid AND NOT a.attisdropped),
       (SELECT relkind FROM pg_class WHERE oid = t.typrelid)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typname = :name AND n.nspname = ANY (current_schemas(false))
ORDER BY array_position(current_schemas(false), n.nspname) LIMIT 1
""")


def _table_created(ctx):
    f = ctx.failure
    if ctx.dialect != "postgresql" or not f.statement:
        return None
    for effect in ctx.effects(f.statement):
        if effect.op == "create_table" and (f.object_name in (None, effect.name)
                                            or f.kind == "type_catalog_conflict"):
            return effect
    return None


def applies(ctx) -> bool:
    if ctx.failure.kind not in KINDS:
        return False
    effect = _table_created(ctx)
    return effect is not None and ctx.catalog.table(effect.name, effect.schema) is None \
        and _stale(ctx, effect) is not None


def _stale(ctx, effect):
    with ctx.engine.connect() as conn:
        row = conn.execute(_DEFINITION, {"name": effect.name}).first()
    if row is None:
        return None
    typtype, qualified, attributes, dependents, relkind = row
    if dependents or (relkind is not None and relkind != "c"):
        return None
    if typtype == "c":
        definition = f"CREATE TYPE {qualified} AS ({attributes or ''})"
    elif typtype == "e":
        enum = ctx.catalog.enum(effect.name, effect.schema)
        labels = ", ".join("'" + label.replace("'", "''") + "'" for label in (enum.labels if enum else ()))
        definition = f"CREATE TYPE {qualified} AS ENUM ({labels})"
    else:
        return None  # domains and ranges carry more than a name; leave them to a human
    return qualified, definition


def decide(ctx) -> Decision:
    effect = _table_created(ctx)
    qualified, definition = _stale(ctx, effect)
    prep = ctx.engine.dialect.identifier_preparer
    name = prep.quote(effect.name)
    target = f"{prep.quote_schema(effect.schema)}.{name}" if effect.schema else name
    action = Action(
        id="", kind="drop_stale_type", target=f"type {qualified}", failure_kind=ctx.failure.kind,
        evidence=[f"CREATE TABLE {effect.name} failed because type {qualified} exists",
                  f"no table {effect.name} exists; type {qualified} is standalone and nothing depends on it",
                  f"its definition, recorded here to recreate it if ever needed: {definition}"],
        recorded={"dropped_type": qualified, "definition": definition})
    return Decision([RunSQL(action, sql=[f"DROP TYPE {target} RESTRICT"])])
