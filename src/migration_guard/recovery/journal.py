"""What each run did to the database, kept in the database, so the next run can say it.

A run writes a row before it applies a recovery step and updates it after; a run that ends (any
way but a kill) closes its rows. The next run, once it holds the lock, reads the rows left open:
those are steps of a run that was killed, and the report says which and how far each got. A step
that writes its 'applied' in its own transaction starts at 'applying': on PostgreSQL and SQLite that
means its transaction rolled back with the dead session; on MySQL, whose DDL commits at once, it
means 'check it'. A step that commits elsewhere (`alembic stamp` in a child) starts at 'started',
which says only that it may or may not have taken effect.

The table is created only when a run first applies a recovery; a clean run never writes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, inspect, select, update
from sqlalchemy.engine import Engine

NAME = "migration_guard_journal"
_meta = MetaData()
journal = Table(
    NAME, _meta,
    Column("action_id", String(80), primary_key=True),
    Column("run_id", String(80), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("target", Text, nullable=False),
    Column("state", String(20), nullable=False),  # applying or started (see left_open), applied, closed
    Column("evidence", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def _now():
    return datetime.now(timezone.utc)


def left_open(engine: Engine) -> list[str]:
    """Plain-words notes on the steps a killed run left, then marks them read."""
    try:
        if not inspect(engine).has_table(NAME):
            return []
        with engine.begin() as conn:
            rows = conn.execute(select(journal).where(journal.c.state != "closed")
                                .order_by(journal.c.updated_at)).all()
            conn.execute(update(journal).where(journal.c.state != "closed").values(state="closed", updated_at=_now()))
    except Exception:
        return []
    notes = []
    for row in rows:
        how = ("had applied it and was then killed" if row.state == "applied" else
               "was killed before it could record whether it took effect; this run read the database afresh"
               if row.state == "started" else
               "was killed while applying it; its transaction rolled back" if engine.dialect.name != "mysql" else
               "was killed while applying it; MySQL DDL is not transactional, so part of it may be in place")
        notes.append(f"an earlier run ({row.run_id}) {how}: {row.kind} on {row.target}")
    return notes


def record(engine: Engine, run_id: str, action, state: str) -> None:
    journal.create(engine, checkfirst=True)
    values = {"run_id": run_id, "kind": action.kind, "target": action.target, "state": state,
              "evidence": json.dumps(action.evidence), "updated_at": _now()}
    with engine.begin() as conn:
        changed = conn.execute(update(journal).where(journal.c.action_id == action.id).values(**values)).rowcount
        if not changed:
            conn.execute(journal.insert().values(action_id=action.id, **values))


def applied_within(conn, action_id: str) -> None:
    """'applied', in the step's own transaction: committed with its change or not at all."""
    if inspect(conn).has_table(NAME):
        conn.execute(update(journal).where(journal.c.action_id == action_id)
                     .values(state="applied", updated_at=_now()))


def close(engine: Engine, run_id: str) -> None:
    try:
        if inspect(engine).has_table(NAME):
            with engine.begin() as conn:
                conn.execute(update(journal).where(journal.c.run_id == run_id)
                             .values(state="closed", updated_at=_now()))
    except Exception:
        pass  # the next run will read them as left open and say so, which is still true enough
