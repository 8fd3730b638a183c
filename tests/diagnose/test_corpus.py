"""Every real log in the shared corpus is classified as its header says, with the details it names.

The corpus is found through MIGRATION_GUARD_CORPUS, else at <repo>/../shared/corpus/logs. Without
it the test is skipped with the place it looked, never passed.

Headers: `# kind:` is the kind of the first failure (the primary one too). `# detail:` is prose; the
fields it names are read from it below (table=, column=, typname=, `revision X`, `migration X`,
`enum X`, `relation X`, `constraint X`, `(name)`, `a.0001 before b.0001`, MySQL errnos, quoted
SQLite or alembic messages). Header lines are blanked before diagnosing, so line numbers stay
those of the file and the header's own words cannot be read as a log.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from migration_guard.diagnose import KINDS, diagnose_text, primary

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("MIGRATION_GUARD_CORPUS") or REPO.parent / "shared" / "corpus" / "logs")
HEADER = re.compile(r"^# (source|framework|driver/db|kind|detail):.*$", re.MULTILINE)

# Fields a header names that the log itself does not contain: the diagnosis must leave them empty
# rather than invent them. {file prefix: {field: why}}
NOT_IN_LOG = {
    "14_": {"revision": "no `Applying` line was posted; 0053_add_boardgame appears only in the header"},
}


def _logs() -> list:
    if not CORPUS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))]
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    return [pytest.param(p, id=p.stem[:40]) for p in files] or [
        pytest.param(None, marks=pytest.mark.xfail(reason=f"corpus folder {CORPUS} is empty", strict=True))
    ]


def _expected(detail: str) -> dict[str, str]:
    """The fields a `# detail:` line names, by the conventions the corpus uses."""
    want: dict[str, str] = {}
    patterns = [
        (r"\btable=(\w+)", "table"),
        (r"\bcolumn=(\w+)", "column"),
        (r"\btypname=(\w+)", "object_name"),
        (r"\brevision ([0-9a-f]{12})\b", "revision"),
        (r"\bmigration ([\w.]+)", "revision"),
        (r"\(enum (\w+)", "object_name"),
        (r"\(relation (\w+)\)", "object_name"),
        (r'constraint "([^"]+)" for relation', "constraint"),
        (r'for relation "([^"]+)"', "table"),
        (r"\(constraint (\w+)", "constraint"),
        (r"\bon (\w+_pkey)\b", "constraint"),
        (r"(pg_type_typname_nsp_index)", "constraint"),
        (r"^\((\w+)\)", "object_name"),
        (r"^\(MySQL (\d{4})", "errno"),
        (r"^\(MySQL \d{4}, column (\w+)", "column"),
        (r"^\(MySQL \d{4}, table (\w+)", "table"),
        (r"identified by '(\w+)'", "revision"),
        (r"UNIQUE constraint failed: (\w+)\.", "table"),
        # a quoted database or alembic message: the failure's message must contain it
        (r"SQLite '([^']+)'", "message"),
        (r"^\('(.+?)(?:\.\.\.)?'\)(?:\s|$)", "message"),
    ]
    for pattern, field in patterns:
        m = re.search(pattern, detail)
        if m:
            want.setdefault(field, m.group(1).rstrip("."))
    if m := re.search(r"^\(([a-z_]+\.\d{4}\w*) before ([a-z_]+\.\d{4}\w*)\)", detail):
        want["revision"], want["object_name"] = m.group(1), m.group(2)
    return want


def _multi(detail: str) -> list[tuple[int, str]]:
    """`DUPLICATE_INDEX (1061 a, b), ...` -> [(1061, "a"), (1061, "b"), ...] in header order."""
    out = []
    for errno, names in re.findall(r"\((\d{4}) ([\w, ]+)\)", detail):
        out.extend((int(errno), n.strip()) for n in names.split(",") if n.strip())
    return out


@pytest.mark.parametrize("path", _logs())
def test_corpus_log(path: Path) -> None:
    raw = path.read_text(encoding="utf-8", errors="replace")
    kind = re.search(r"^# kind: (\S+)", raw, re.MULTILINE)
    assert kind, f"{path.name} has no `# kind:` header"
    assert kind.group(1) in KINDS
    detail_m = re.search(r"^# detail: (.*)$", raw, re.MULTILINE)
    detail = detail_m.group(1) if detail_m else ""

    text = HEADER.sub("", raw)
    failures = diagnose_text(text)
    assert failures, f"nothing diagnosed in {path.name}"
    first = failures[0]
    assert first.kind == kind.group(1), [f.to_dict() for f in failures]
    assert primary(failures) is first

    lines = text.splitlines()
    for failure in failures:
        # `line` points at the line the message was read from (the message is that line, cleaned).
        assert failure.message and failure.message[:30] in lines[failure.line - 1]

    unreadable = next((v for k, v in NOT_IN_LOG.items() if path.name.startswith(k)), {})
    for field, value in _expected(detail).items():
        got = getattr(first, field)
        if field in unreadable:
            assert got is None, f"{field} invented: {got!r} ({unreadable[field]})"
        elif field == "message":
            assert value in (got or ""), (field, got)
        else:
            assert str(got) == value, (field, got, value)

    expected_sequence = _multi(detail)
    if len(expected_sequence) > 1:
        assert [(f.errno, f.object_name) for f in failures] == expected_sequence


def test_header_details_are_all_read() -> None:
    """Guard the reader above: every `# detail:` naming something yields an expectation."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    silent = []
    for path in sorted(CORPUS.iterdir()):
        m = re.search(r"^# detail: (.*)$", path.read_text(errors="replace"), re.MULTILINE)
        if m and not _expected(m.group(1)) and not _multi(m.group(1)):
            silent.append((path.name, m.group(1)))
    # One header names nothing a log can show: "(two PRs merged on same down_revision)".
    assert [name for name, _ in silent] == ["53_thoth_alembic_multiple_heads_pipenv.txt"], silent
