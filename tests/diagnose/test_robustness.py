"""The classifier is bounded in time and memory on hostile input, and never crashes."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_guard.diagnose import KINDS, diagnose_text
from migration_guard.diagnose.engine import MAX_MESSAGE, MAX_STATEMENT

REAL_FAILURE = (
    "INFO  [alembic.runtime.migration] Running upgrade a1 -> b2c3, add\n"
    'psycopg2.errors.DuplicateColumn: column "c" of relation "t" already exists\n'
)
# Fragments that steer the rules and the normalizer down their costliest paths.
TOKENS = [
    "ERROR",
    "Error: ",
    "ERROR:  ",
    "already exists",
    'relation "',
    'column "',
    " of relation ",
    "Key (",
    ")=(",
    ") is duplicated",
    "[SQL: ",
    "[SQL: '",
    "]",
    "Traceback (most recent call last):",
    '  File "x.py", line 1, in f',
    "Duplicate entry '",
    "' for key '",
    "UNIQUE constraint failed: ",
    "svc  | ",
    "2021-03-01T10:00:00.123Z",
    "[error]",
    "\x1b[31m",
    "\r",
    "\t",
    "Running upgrade a -> b",
    "  Applying x.0001_a...",
    " OK",
    '"',
    "'",
    "`",
    "(",
    ")",
    ".",
    ",",
    "psycopg2.errors.DuplicateTable: ",
    "(1060, \"Duplicate column name '",
    "STATEMENT:  ",
    "DETAIL:  ",
    "INFO  [alembic] ",
    "$ ",
    "u'",
    "\\",
    "Migration a.0001 is applied before its dependency ",
    "Can't locate revision identified by '",
    "pg_type_typname_nsp_index",
    "could not create unique index ",
    'type "',
    "\x00",
    "\ufffd",
    "é",
]
CORPUS = Path(
    os.environ.get("MIGRATION_GUARD_CORPUS") or Path(__file__).resolve().parents[3] / "shared/corpus/logs"
)
SHAPES = Path(__file__).parent / "shapes"


def _check(failures: list, text: str) -> None:
    assert isinstance(failures, list)
    for f in failures:
        assert f.kind in KINDS
        assert f.line is None or 1 <= f.line <= text.count("\n") + 1
        assert len(f.message or "") <= MAX_MESSAGE
        assert len(f.statement or "") <= MAX_STATEMENT


def _noise(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    block = "\n".join(
        " ".join(
            rng.choice(TOKENS) if rng.random() < 0.3 else f"{rng.getrandbits(40):x}"
            for _ in range(rng.randint(1, 25))
        )
        for _ in range(4000)
    )
    block = block.replace("\r", "") + "\n"
    return block * (size // len(block) + 1)


def _timed(text: str | bytes) -> tuple[list, float]:
    start = time.perf_counter()
    failures = diagnose_text(text)
    return failures, time.perf_counter() - start


def test_50mb_of_noise_finishes_in_seconds_and_finds_the_failure_at_its_end() -> None:
    noise = _noise(50_000_000)
    text = noise + REAL_FAILURE
    failures, elapsed = _timed(text)
    assert elapsed < 5, f"{elapsed:.1f}s"
    last = failures[-1]
    assert (last.kind, last.table, last.column, last.revision) == ("duplicate_column", "t", "c", "b2c3")
    assert last.line == noise.count("\n") + 2  # line numbers count the part of the log not read


@pytest.mark.parametrize(
    "name",
    [
        "one 30 MB line",
        "30 MB of newlines",
        "binary garbage",
        "error lines only",
        "key spam",
        "sql spam",
        "quotes",
    ],
)
def test_hostile_shapes_are_bounded(name: str) -> None:
    text: str | bytes = {
        "one 30 MB line": "ERROR: already exists Key ( " + "x" * 30_000_000,
        "30 MB of newlines": "\n" * 30_000_000,
        "binary garbage": os.urandom(10_000_000),
        "error lines only": "".join(f"ValueError: distinct message {i}\n" for i in range(250_000)),
        "key spam": "ERROR: Key (" + ")=(" * 3_000_000,
        "sql spam": "[SQL: \n" * 1_000_000,
        "quotes": "Error: relation " + "\"'`" * 3_000_000 + " already exists",
    }[name]
    failures, elapsed = _timed(text)
    assert elapsed < 5, f"{name}: {elapsed:.1f}s"
    _check(failures, text if isinstance(text, str) else text.decode("utf-8", "replace"))
    assert len(failures) <= 200


def test_a_real_failure_after_thousands_of_other_errors_is_kept() -> None:
    text = "".join(f"RuntimeError: retry {i}\n" for i in range(5000)) + REAL_FAILURE
    failures = diagnose_text(text)
    assert failures[-1].kind == "duplicate_column"
    assert sum(f.kind == "unknown" for f in failures) == 50


def test_megabyte_line_before_the_failure() -> None:
    failures = diagnose_text("x" * 2_000_000 + "\n" + REAL_FAILURE)
    assert [f.kind for f in failures] == ["duplicate_column"]


def test_real_logs_cut_anywhere_do_not_crash() -> None:
    logs = [p.read_text(errors="replace") for p in sorted(SHAPES.glob("*.log"))]
    if CORPUS.is_dir():
        logs += [p.read_text(errors="replace") for p in sorted(CORPUS.iterdir())]
    rng = random.Random(3)
    for log in logs:
        for _ in range(20):
            cut = log[: rng.randrange(len(log) + 1)]
            _check(diagnose_text(cut), cut)


_fragments = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)), max_size=60).map("".join)
_lines = st.lists(_fragments, max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines)
def test_fuzz_token_soup(text: str) -> None:
    _check(diagnose_text(text), text)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4096))
def test_fuzz_bytes(data: bytes) -> None:
    _check(diagnose_text(data), data.decode("utf-8", "replace"))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SHAPES.glob("*.log"))), st.data())
def test_fuzz_spliced_real_logs(path: Path, data: st.DataObject) -> None:
    log = path.read_text()
    start = data.draw(st.integers(0, len(log)))
    end = data.draw(st.integers(start, len(log)))
    text = log[:start] + data.draw(_fragments) + log[end:]
    _check(diagnose_text(text), text)


# Time, fuzzed: any mix of the rules' own trigger fragments, tiled to a megabyte, must classify in
# about linear time. A rule that backtracks on some shape would take seconds to minutes here.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), min_size=1, max_size=30).map("".join))
def test_fuzz_time_on_a_megabyte(fragment: str) -> None:
    text = (fragment + "\n") * (1_000_000 // (len(fragment) + 1) + 1)
    failures, elapsed = _timed(text)
    assert elapsed < 3, f"{elapsed:.1f}s for a megabyte of {fragment[:80]!r}"
    assert len(failures) <= 200


def test_a_100mb_log_through_the_cli(tmp_path: Path) -> None:
    """`diagnose` on a 100 MB file: one process, bounded time, the failure at the end found."""
    import subprocess
    import sys

    log = tmp_path / "huge.log"
    with log.open("w") as fh:
        fh.write(_noise(100_000_000))
        fh.write(REAL_FAILURE)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "migration_guard", "diagnose", "--json", str(log)],
                          capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 20, f"{elapsed:.1f}s"
    import json

    last = json.loads(proc.stdout)["failures"][-1]
    assert (last["kind"], last["table"], last["column"]) == ("duplicate_column", "t", "c")
