"""Which recovery answers a failure: the first strategy that applies decides."""

from __future__ import annotations

from migration_guard.recovery import (
    batch_leftover,
    batch_rebuild,
    concurrent,
    duplicate_column,
    duplicate_object,
    duplicate_relation,
    duplicate_type,
    explain,
    stale_type,
)
from migration_guard.recovery.context import Context
from migration_guard.recovery.steps import Decision

# Order matters: stale_type claims a 'type already exists' that blocks CREATE TABLE before
# duplicate_type reads it as an enum; the SQLite batch cases claim their failures before the generic
# duplicate_relation / duplicate_column read them; explain answers everything left.
STRATEGIES = (stale_type, batch_leftover, batch_rebuild, duplicate_column, duplicate_relation, duplicate_object,
              duplicate_type, concurrent, explain)
# Where the evidence can be read (db/shadow/). stale_type reads pg_type and stays PostgreSQL-only by itself.
ACTIONABLE_DIALECTS = {"postgresql", "mysql", "sqlite"}


def decide(ctx: Context) -> Decision:
    for strategy in STRATEGIES:
        if strategy is not explain and strategy is not concurrent and ctx.dialect not in ACTIONABLE_DIALECTS:
            continue
        if strategy.applies(ctx):
            return strategy.decide(ctx)
    return explain.decide(ctx)
