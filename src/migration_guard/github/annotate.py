"""`::error` / `::warning` workflow commands that point at the migration file and line of the operation
that failed, or would fail.

The line is found in the revision's file by the object's name: first where the name is a string literal
of its own (`sa.Column("google_id", ...)`, `name="post_state"`), then where it is a word inside SQL
(`op.execute("ALTER TABLE ... google_id ...")`), within `upgrade()` when the file has one; a line that also
names the table wins a tie. Without a match the annotation points at `def upgrade`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from migration_guard.diagnose.failure import Failure
from migration_guard.report import describe
from migration_guard.report.model import Report


@dataclass
class Annotation:
    level: str  # error, warning
    title: str
    message: str
    file: str | None = None  # relative to the workspace, as GitHub wants it
    line: int | None = None

    def command(self) -> str:
        props = [("file", self.file), ("line", self.line), ("title", self.title)]
        given = ",".join(f"{k}={escape(str(v), prop=True)}" for k, v in props if v is not None)
        return f"::{self.level} {given}::{escape(self.message)}"


def escape(value: str, prop: bool = False) -> str:
    # The runner's own escaping (actions/toolkit, command.ts): without it a newline ends the command.
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def for_report(report: Report, cwd: Path, workspace: Path) -> list[Annotation]:
    out = []
    last = len(report.failures) - 1
    for i, failure in enumerate(report.failures):
        if i == last and report.status in ("refused", "failed"):
            out.append(_annotation(report, failure, "error", _ending(report), cwd, workspace))
        else:  # the run went on past it, so a recovery answered it
            out.append(_annotation(report, failure, "warning", _recovered(report, failure), cwd, workspace))
    if not report.dry_run:
        # A run met only what its prediction did not let it recover from before the first attempt;
        # those it did recover from ahead are reported like any recovered failure.
        for p in report.predictions:
            if p.get("actions"):
                failure = Failure.from_dict(p["failure"])
                out.append(_annotation(report, failure, "warning", _recovered(report, failure), cwd, workspace,
                                       predicted=True, title_kind=failure.kind))
        return out
    for failure in report.predicted:
        if report.refusals:
            level, outcome = "error", f"migration-guard would refuse: {report.refusals[0].reason}"
        else:
            level, outcome = "warning", _recovered(report, failure, would=True)
        out.append(_annotation(report, failure, level, outcome, cwd, workspace, predicted=True))
    return out


def _annotation(report, failure: Failure, level, outcome, cwd, workspace, predicted=False,
                title_kind: str | None = None) -> Annotation:
    sentence = describe.describe(failure, predicted=predicted)
    title = f"migration-guard: {title_kind or ('predicted ' if predicted else '') + failure.kind}"
    note = Annotation(level, title, f"{sentence}. {outcome}")
    relative = report.revision_files.get(failure.revision or "")
    if relative:
        path = cwd / relative
        note.file = _shown(path, workspace)
        note.line = locate(path, failure)
    return note


def _recovered(report: Report, failure: Failure, would: bool = False) -> str:
    answered = [a for a in report.actions if a.failure_kind in (None, failure.kind)
                and a.revision in (None, failure.revision)] or report.actions
    if not answered:
        return "migration-guard took no action"
    did = "; ".join(f"`{a.kind}` on {a.target} ({describe.action_words(a.kind).lower()})" for a in answered)
    return f"migration-guard {'would recover with' if would else 'recovered with'} {did}"


def _ending(report: Report) -> str:
    if report.refusals:
        refusal = report.refusals[-1]
        steps = "; ".join(refusal.human_steps)
        return f"migration-guard refused: {refusal.reason}" + (f". A human must: {steps}" if steps else "")
    return report.summary or "the migration failed"


def _shown(path: Path, workspace: Path) -> str:
    try:
        return path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(path)


def locate(path: Path, failure: Failure) -> int | None:
    """1-based line of the operation in `path` that makes the failing object, or None."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    start, end = _upgrade_body(lines)
    name = failure.column or failure.object_name or failure.constraint or failure.table
    if name:
        table = failure.table if failure.table and failure.table != name else None
        literal = re.compile(rf"""(['"]){re.escape(name)}\1""")
        word = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        for pattern in (literal, word):
            hits = [i for i in range(start, end) if pattern.search(lines[i])]
            if hits:
                near = [i for i in hits if table and re.search(rf"\b{re.escape(table)}\b", lines[i], re.I)]
                return (near or hits)[0] + 1
    return start if start else None  # the `def upgrade` line itself (start is the line after it, 0-based)


def _upgrade_body(lines: list[str]) -> tuple[int, int]:
    """(first, end) 0-based line range of `upgrade()`'s body; the whole file when there is none (Django)."""
    for i, line in enumerate(lines):
        if re.match(r"def upgrade\s*\(", line):
            for j in range(i + 1, len(lines)):
                if re.match(r"(def|class|async def)\s", lines[j]):
                    return i + 1, j
            return i + 1, len(lines)
    return 0, len(lines)
