"""Does the live database already hold what a statement wants? The catalog answers, not the log.

A Verdict per Effect:
- satisfied: the object exists and matches what the statement would create (or a dropped object
  is already gone);
- missing: the object is not there (the statement still has work to do);
- incomplete: an enum exists with a subset of the wanted labels, in the same relative order;
- differs: something of that name exists with another definition (never acted on);
- unknown: nothing the catalog can show settles it (data steps, unparsed SQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from migration_guard.db.catalog.model import Catalog
from migration_guard.db.shadow import BaseShadow, ColumnShape
from migration_guard.operations import Effect


@dataclass
class Verdict:
    state: str
    facts: list[str] = field(default_factory=list)
    reason: str = ""
    missing_labels: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == "satisfied"


def check(effect: Effect, catalog: Catalog, shadow: BaseShadow | None) -> Verdict:
    fn = _CHECKS.get(effect.op)
    if fn is None:
        return Verdict("unknown", reason=f"{effect.op} statements cannot be checked against the catalog")
    # Without a shadow the live side still reads from the catalog, and the wanted side stays unknown.
    return fn(effect, catalog, shadow if shadow is not None else BaseShadow(None))


def _add_column(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    have = shadow.live_column(e, cat) if cat.table(e.table or "", e.schema) is not None else None
    if have is None:
        return Verdict("missing", [f"{e.subject} does not exist"])
    wanted = shadow.column(e)
    if wanted is None:
        return Verdict("unknown", reason=f"could not replay the statement on a scratch copy: {_last(shadow)}")
    after = ""
    if e.detail.get("default_dropped"):
        # The same revision drops this default again (Django's ADD COLUMN ... DEFAULT, then DROP DEFAULT):
        # what the revision leaves has no default, and its DROP DEFAULT is judged as a statement of its own.
        have, wanted, after = replace(have, default=None), replace(wanted, default=None), \
            " once the revision drops its default"
    if have != wanted:
        return Verdict("differs", reason=f"{e.subject} is {have.describe()}; the migration wants "
                                         f"{wanted.describe()}{after}")
    return Verdict("satisfied", [f"{e.subject} exists as {have.describe()}, exactly as the migration wants"
                                 f"{after}"])


def _drop_default(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    live = cat.column(e.table or "", e.name, e.schema)
    if live is None:
        return Verdict("missing", [f"column {e.table}.{e.name} does not exist"])
    if live.default is None:
        return Verdict("satisfied", [f"column {e.table}.{e.name} has no default"])
    return Verdict("missing", [f"column {e.table}.{e.name} has DEFAULT {live.default}, which the revision drops"])


def _create_table(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    live = cat.table(e.name, e.schema)
    if live is None:
        other = cat.relation(e.name, e.schema)
        if other is not None:
            return Verdict("differs", reason=f"the name {e.name} is taken by another kind of object")
        return Verdict("missing", [f"table {e.name} does not exist"])
    if live.kind not in ("table", "partitioned"):
        return Verdict("differs", reason=f"{e.name} is a {live.kind}, not a table")
    wanted = shadow.table_columns(e)
    if wanted is None:
        return Verdict("unknown", reason=f"could not replay CREATE TABLE on a scratch copy: {_last(shadow)}")
    have = shadow.live_table_columns(e, cat) or {}
    problems = []
    for name, want in wanted.items():
        col = have.get(name)
        if col is None:
            problems.append(f"column {name} is missing")
        elif col.core != want.core:
            problems.append(f"column {name} is {_core(col)}, wanted {_core(want)}")
    if problems:
        return Verdict("differs", reason=f"table {e.name} exists but differs: " + "; ".join(problems))
    facts = [f"table {e.name} exists with all {len(wanted)} columns the migration creates, same types "
             "and nullability"]
    extra = [c for c in have if c not in wanted]
    if extra:
        facts.append(f"table {e.name} also has columns added since: {', '.join(extra)}")
    return Verdict("satisfied", facts)


def _core(shape: ColumnShape) -> str:
    return f"{shape.type}{'' if shape.nullable else ' NOT NULL'}"


def _create_index(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    # Index names are per schema on PostgreSQL and SQLite, per table on MySQL.
    live = cat.index(e.name, e.schema) or cat.index(e.name, e.schema, table=e.table)
    if live is None:
        if cat.relation(e.name, e.schema) is not None:
            return Verdict("differs", reason=f"the name {e.name} is taken by a table or sequence")
        return Verdict("missing", [f"index {e.name} does not exist"])
    if live.table != e.table:
        return Verdict("differs", reason=f"index {e.name} exists on table {live.table}, not {e.table}")
    wanted = shadow.index_definition(e)
    if wanted is None:
        return Verdict("unknown", reason=f"could not replay CREATE INDEX on a scratch copy: {_last(shadow)}")
    have = shadow.live_index_definition(e, live)
    if have != wanted:
        return Verdict("differs", reason=f"index {e.name} is `{have or live.definition}`; the migration wants "
                                         f"`{wanted}`")
    return Verdict("satisfied", [f"index {e.name} exists: {live.definition}"])


def _add_constraint(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    live = cat.constraint(e.table or "", e.name, e.schema)
    if live is None:
        return Verdict("missing", [f"constraint {e.name} on {e.table} does not exist"])
    if e.detail.get("type") == "foreign":
        # A temporary table cannot hold a foreign key to a permanent one: compare the parts instead.
        wanted_cols = e.detail.get("columns") or []
        same_target = "ref_table" not in e.detail or (
            (live.ref_table or "").casefold() == e.detail["ref_table"].casefold()
            and [c.casefold() for c in live.ref_columns] == [c.casefold() for c in e.detail.get("ref_columns") or []])
        if live.type == "foreign" and live.columns == wanted_cols and same_target:
            return Verdict("satisfied", [f"constraint {e.name} exists: {live.definition}"])
        return Verdict("differs", reason=f"constraint {e.name} is `{live.definition}`")
    wanted = shadow.constraint_definition(e)
    if wanted is None:
        return Verdict("unknown", reason=f"could not replay the constraint on a scratch copy: {_last(shadow)}")
    have = shadow.live_constraint_definition(e, live)
    if wanted != have:
        return Verdict("differs", reason=f"constraint {e.name} is `{have or live.definition}`; the migration "
                                         f"wants `{wanted}`")
    return Verdict("satisfied", [f"constraint {e.name} on {e.table} exists: {live.definition}"])


def _create_enum(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    wanted = list(e.detail.get("labels") or [])
    live = cat.enum(e.name, e.schema)
    if live is None:
        if cat.type(e.name, e.schema) is not None:
            return Verdict("differs", reason=f"type {e.name} exists and is not an enum")
        return Verdict("missing", [f"type {e.name} does not exist"])
    have = list(live.labels)
    shown = f"enum {e.name} has labels {have}"
    if have == wanted:
        return Verdict("satisfied", [f"{shown}, the same labels in the same order as the migration wants"])
    if _ordered_subset(have, wanted):
        missing = [label for label in wanted if label not in have]
        return Verdict("incomplete", [f"{shown}; the migration wants {wanted}: the existing labels are a "
                                      f"subset in the same order, {missing} can be added"],
                       missing_labels=missing)
    return Verdict("differs", reason=f"{shown}; the migration wants {wanted}")


def _ordered_subset(have: list[str], wanted: list[str]) -> bool:
    it = iter(wanted)
    return len(set(have)) == len(have) and all(label in it for label in have)


def _add_enum_value(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    live = cat.enum(e.table or "", e.schema)
    if live is not None and e.name in live.labels:
        return Verdict("satisfied", [f"enum {e.table} already has label {e.name!r}"])
    return Verdict("missing", [f"enum {e.table} has no label {e.name!r}"])


def _exists(kind: str, finder):
    def check_(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
        if finder(cat, e) is not None:
            return Verdict("satisfied", [f"{kind} {e.name} exists"])
        return Verdict("missing", [f"{kind} {e.name} does not exist"])
    return check_


def _create_view(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
    live = cat.table(e.name, e.schema)
    if live is None:
        return Verdict("missing", [f"view {e.name} does not exist"])
    if live.kind != "view":
        return Verdict("differs", reason=f"{e.name} is a {live.kind}")
    wanted, have = shadow.view_definition(e), shadow.live_view_definition(e)
    if wanted is None or have is None:
        return Verdict("unknown", reason=f"could not compare view definitions: {_last(shadow)}")
    if wanted != have:
        return Verdict("differs", reason=f"view {e.name} has another definition")
    return Verdict("satisfied", [f"view {e.name} exists with the same definition"])


def _dropped(kind: str, finder):
    def check_(e: Effect, cat: Catalog, shadow: BaseShadow) -> Verdict:
        if finder(cat, e) is None:
            return Verdict("satisfied", [f"{kind} {e.name} is already gone"])
        return Verdict("missing", [f"{kind} {e.name} still exists"])
    return check_


def _last(shadow: BaseShadow | None) -> str:
    return shadow.errors[-1] if shadow and shadow.errors else "no scratch copy on this database"


_CHECKS = {
    "add_column": _add_column,
    "create_table": _create_table,
    "create_index": _create_index,
    "add_constraint": _add_constraint,
    "create_enum": _create_enum,
    "add_enum_value": _add_enum_value,
    "create_sequence": _exists("sequence", lambda c, e: c.sequence(e.name, e.schema)),
    "create_view": _create_view,
    "drop_table": _dropped("table", lambda c, e: c.table(e.name, e.schema)),
    "drop_default": _drop_default,
    "drop_column": _dropped("column", lambda c, e: c.column(e.table or "", e.name, e.schema)),
    "drop_index": _dropped("index", lambda c, e: c.index(e.name, e.schema) or c.index(e.name, e.schema, e.table)),
    "drop_constraint": _dropped("constraint", lambda c, e: c.constraint(e.table or "", e.name, e.schema)),
    "drop_type": _dropped("type", lambda c, e: c.type(e.name, e.schema) or c.enum(e.name, e.schema)),
    "drop_sequence": _dropped("sequence", lambda c, e: c.sequence(e.name, e.schema)),
    "drop_view": _dropped("view", lambda c, e: c.table(e.name, e.schema)),
}
