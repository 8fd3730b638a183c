"""Helpers for the diagnose tests."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from migration_guard.diagnose import Failure, diagnose_text

# live.py (the producer of real failures) sits beside the tests; make it importable under any
# pytest import mode.
sys.path.insert(0, str(Path(__file__).parent))


def _one(log: str) -> Failure:
    failures = diagnose_text(textwrap.dedent(log))
    assert len(failures) == 1, [f.to_dict() for f in failures]
    return failures[0]


@pytest.fixture
def one():
    """Diagnose a (dedented) log that must show exactly one failure, and return it."""
    return _one


@pytest.fixture
def kinds():
    """Diagnose a (dedented) log and return the kinds of its failures, in order."""
    return lambda log: [f.kind for f in diagnose_text(textwrap.dedent(log))]
