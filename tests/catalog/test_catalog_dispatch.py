"""snapshot() picks the reader by dialect name and refuses the ones it cannot read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from migration_guard.db.catalog import UnsupportedDialect, snapshot


def test_unknown_dialect_is_refused():
    conn = SimpleNamespace(dialect=SimpleNamespace(name="oracle"))
    with pytest.raises(UnsupportedDialect, match="oracle"):
        snapshot(conn)
