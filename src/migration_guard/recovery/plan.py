"""Which recovery answers a failure: the first strategy that applies decides."""

from __future__ import annotations

from migration_guard.recovery import (
    concurrent,
    duplicate_column,
    duplicate_data,
    duplicate_object,
    duplicate_relation,
    duplicate_type,
    explain,
    stale_type,
)
from migration_guard.recovery.context import Context
from migration_guard.recovery.steps import Decision

# Order matters: stale_type claims a 'type already exists' that blocks CREATE TABLE before
# duplicate_type reads it as an enum; explain answers everything left.
STRATEGIES = (stale_type, duplicate_column, duplicate_relation, duplicate_object, duplicate_type,
              duplicate_data, concurrent, explain)
ACTIONABLE_DIALECTS = {"postgresql"}  # unless a strategy names its own DIALECTS


def decide(ctx: Context) -> Decision:
    for strategy in STRATEGIES:
        if strategy not in (explain, concurrent) and ctx.dialect not in getattr(strategy, "DIALECTS",
                                                                                 ACTIONABLE_DIALECTS):
            continue
        if strategy.applies(ctx):
            return strategy.decide(ctx)
    return explain.decide(ctx)
