"""Reading a deduped table back: what was kept, what went to the quarantine, what other tables hold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from tests.support.cli import run_cli
from tests.support.guard import rows

QUARANTINE = "migration_guard_quarantine"


def content(url: str, table: str) -> list[tuple]:
    """Every row of the table, every column, in primary key order: what 'exact content' compares."""
    return rows(url, f"SELECT * FROM {table} ORDER BY 1")


def exact(url: str, table: str) -> list[tuple]:
    """Every row as PostgreSQL prints it (`row::text`): equal only if every value is (NaN included)."""
    return rows(url, f"SELECT t.id, t::text FROM {table} t ORDER BY t.id")


def counts(url: str, *, but: tuple[str, ...] = ()) -> dict[str, int]:
    """Row count of every application table, to show that nothing outside the deduped table was deleted."""
    names = [r[0] for r in rows(url, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                     "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY relname")]
    # The guard's own tables (quarantine, journal) are not the application's.
    return {t: rows(url, f'SELECT count(*) FROM "{t}"')[0][0] for t in names
            if not t.startswith("migration_guard_") and t not in but}


def quarantined(url: str, action_id: str, entry: str = "row") -> list[dict]:
    return [r[0] for r in rows(url, f"SELECT row_data FROM {QUARANTINE} WHERE action_id = :a AND entry = :e "
                                    "ORDER BY id", a=action_id, e=entry)]


def has_quarantine(url: str) -> bool:
    return bool(rows(url, "SELECT 1 FROM pg_class WHERE relname = :t", t=QUARANTINE))


def constraint_exists(url: str, name: str) -> bool:
    return bool(rows(url, "SELECT 1 FROM pg_class WHERE relname = :n AND relkind = 'i'", n=name))


def expected_removed(before: list[tuple], key: Callable[[tuple], tuple | None],
                     keep: Callable[[list[tuple]], tuple]) -> set:
    """Primary keys (first column) a dedupe must remove: in each group of rows with the same key
    (rows whose key is None cannot collide), all but the row `keep` names."""
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for row in before:
        k = key(row)
        if k is not None:
            groups[k].append(row)
    return {r[0] for g in groups.values() if len(g) > 1 for r in g if r is not keep(g)}


def assert_deduped(url: str, table: str, before: list[tuple], action: dict, removed: set) -> None:
    after = content(url, table)
    moved = quarantined(url, action["id"])
    assert len(after) + len(moved) == len(before)
    assert action["rows_quarantined"] == len(moved) == len(removed)
    assert {d["id"] for d in moved} == removed
    by_id = {r[0]: r for r in before}
    assert all(by_id[r[0]] == r for r in after)  # the kept rows are untouched
    assert {r[0] for r in after} == set(by_id) - removed


def restore(url: str, action_id: str):
    return run_cli(["restore", action_id, "--database-url", url])
