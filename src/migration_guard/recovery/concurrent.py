"""type_catalog_conflict and history_table_conflict: another migrator ran at the same moment.

A unique violation on pg_type_typname_nsp_index, or on the history table itself (alembic_version,
django_migrations), is what two sessions creating the same thing at once produce. The guard holds
the migration lock, so the other migrator is one that does not take it (a replica started without
the guard, a hand-run command). Its transaction decides what exists.

Evidence rule: nothing is changed. Wait (longer on each attempt), read the state again, and run
again; the next attempt either succeeds, finds nothing to do, or fails in a way another recovery
can judge on the catalog (e.g. the table now exists: duplicate_relation). After two waits the
conflict is not a race: refuse.
"""

from __future__ import annotations

from migration_guard.recovery.steps import Decision, Wait
from migration_guard.report.model import Action

KINDS = {"type_catalog_conflict", "history_table_conflict"}
MAX_WAITS = 2


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS


def decide(ctx) -> Decision:
    f = ctx.failure
    waits = sum(1 for k in ctx.acted_on if k[0] == f.kind)
    if waits >= MAX_WAITS:
        return Decision.refuse(f.kind, f"the conflict on {f.constraint or f.object_name or 'the catalog'} "
                               f"persisted after {waits} waits: it is not a passing race", [
                                   "look for another process migrating this database without the guard",
                                   "for django_migrations_pkey: the id sequence is behind the table; "
                                   "reset it with `python manage.py sqlsequencereset migrations`"])
    seconds = 2.0 * (waits + 1)
    what = f.constraint or f.object_name or "the catalog"
    action = Action(id="", kind="wait_and_retry", target=what, failure_kind=f.kind,
                    evidence=[f"unique violation on {what}: another session created the same object at the "
                              "same moment", "the guard holds the migration lock, so that session is a "
                              "migrator not using the guard; its outcome decides what exists",
                              f"waiting {seconds:g}s, then reading the state again and rerunning"])
    return Decision([Wait(action, seconds=seconds)])
