"""`migration-guard restore ACTION_ID`: put back what a dedupe moved to the quarantine.

Takes the migration lock (a restore changes data, and must not run into a deploy), then, in one
transaction, inserts the quarantined rows into their table as it is now and points the references a
repoint changed back at them. If a unique index of the table (the new constraint, usually) would
reject any row, nothing is changed and each colliding row is named.
"""

from __future__ import annotations

import os

from migration_guard.db import url as urls
from migration_guard.db.connect import engine_for, wait_for
from migration_guard.db.lock import Lock
from migration_guard.errors import UsageError
from migration_guard.recovery import quarantine
from migration_guard.settings import Settings


def main(action_id: str, settings: Settings, say) -> int:
    raw = settings.database_url or os.environ.get("DATABASE_URL")
    if not raw:
        raise UsageError("no database URL: pass --database-url or set DATABASE_URL")
    url = urls.parse(raw)
    if urls.dialect_of(url) not in quarantine.DIALECTS:
        raise UsageError(f"restore works on PostgreSQL and SQLite, where the guard dedupes; not on "
                         f"{urls.dialect_of(url)}")
    engine = engine_for(url, connect_timeout=min(settings.connect_timeout, 10))
    wait_for(engine, timeout=settings.connect_timeout)
    lock = Lock.for_engine(engine)
    lock.acquire(settings.lock_timeout, lambda waited, holder: say(
        f"waiting for the migration lock, held by another migrator{holder} ({waited:.0f}s)"))
    try:
        result = quarantine.restore(engine, action_id)
    finally:
        lock.release()
        engine.dispose()
    if result.problem:
        say(f"nothing restored: {result.problem}")
        return 2 if result.problem.startswith(("no quarantined rows", "no quarantine table")) else 1
    if result.collisions:
        say(f"nothing restored: {len(result.collisions)} quarantined row(s) of {result.table} would violate a "
            "unique index of the table as it is now (drop or change it first, e.g. downgrade the revision "
            "that added it):")
        for line in result.collisions:
            say(f"    {line}")
        return 1
    say(f"restored {result.rows} row(s) into {result.table} from {quarantine.TABLE} (action {action_id})")
    if result.references:
        say(f"pointed {result.references} reference(s) back at the restored rows")
    if result.references_changed:
        say(f"left {result.references_changed} reference(s) alone: they were changed since the dedupe")
    if result.dropped_columns:
        say(f"columns dropped since the dedupe: {', '.join(result.dropped_columns)}; their values stay in "
            f"{quarantine.TABLE}")
    return 0
