"""The few lines printed on stderr at the end of a run: what happened, why, and what is left for a human."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from migration_guard.report import describe, mdtext
from migration_guard.report.model import Report
from migration_guard.report.secrets import mask_object, mask_secrets


def human_summary(
    report: Report,
    *,
    json_path: str | Path | None = None,
    md_path: str | Path | None = None,
    secrets: Iterable[str | None] = (),
) -> str:
    """Plain text, one fact per line; names and SQL keep their backticks so they stand out in a log."""
    secrets = list(secrets)
    r = mask_object(report, secrets)
    lines = [_headline(r)]

    db = r.database or {}
    if db.get("dialect") or db.get("url"):
        lines.append(f"  database: {describe.dialect_name(db.get('dialect'))} {db.get('url') or ''}".rstrip())
    if r.dry_run:
        lines.append("  dry run: nothing was changed; the actions below are what a real run would do")
    if r.lock_wait_s >= 1:
        lines.append(f"  waited {mdtext.duration(r.lock_wait_s)} for the migration lock")

    for f in r.failures:
        lines.append(f"  failure: {describe.describe(f)}")
    for f in r.predicted:
        lines.append(f"  predicted: {describe.describe(f, predicted=True)}")
    for a in r.actions:
        state = "applied" if a.applied else "not applied"
        lines.append(f"  action {a.kind} on {a.target} ({state}, id {a.id}): {describe.action_words(a.kind)}")
        lines.extend(f"    - {fact}" for fact in a.evidence)
        if a.rows_quarantined:
            lines.append(
                f"    {a.rows_quarantined} row(s) kept in {a.quarantine_table}; "
                f"undo with: migration-guard restore {a.id}"
            )
    for ref in r.refusals:
        lines.append(f"  refused ({ref.failure_kind}): {ref.reason}")
        lines.extend(f"    a human must: {step}" for step in ref.human_steps)
        lines.extend(f"    SQL to consider: {mdtext.shorten(sql, 160)}" for sql in ref.sql)
    lines.extend(f"  note: {note}" for note in r.notes)

    paths = [str(p) for p in (json_path, md_path) if p]
    if paths:
        lines.append(f"  report: {', '.join(paths)}")
    return mask_secrets("\n".join(lines) + "\n", secrets)


def _headline(r: Report) -> str:
    attempts = len(r.attempts)
    facts = []
    if attempts:
        facts.append(f"{attempts} attempt{'s' if attempts != 1 else ''}")
    facts.append(mdtext.duration(r.duration_s))
    title = describe.headline(r.status, len(r.attempts))
    summary = r.summary
    lead = title.split(":")[0]
    if summary and ":" in title and summary.startswith(lead + ":"):
        # "Nothing to do: already at head (0.9 s): Nothing to do: the database is ..." says it twice.
        title, summary = lead, summary[len(lead) + 1:].strip()
    line = f"migration-guard {describe.marker(r.status)} {title} ({', '.join(facts)})"
    return f"{line}: {summary}" if summary else line
