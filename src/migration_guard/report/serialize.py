"""The JSON report, and reading one back (for `restore` and for tests that check the round trip)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from migration_guard.diagnose.failure import Failure
from migration_guard.report.model import Action, Attempt, Refusal, Report, RevisionTiming
from migration_guard.report.secrets import mask_object


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def to_json(report: Report, *, secrets: Iterable[str | None] = ()) -> str:
    """The report as JSON, indent 2, ending in a newline.

    Keys keep the model's order (so `status` comes first for a person reading the file); the free-form
    dicts (`database`, `recorded`) are sorted, so the same report always gives the same bytes.
    """
    data = mask_object(report, secrets).to_dict()
    data["database"] = _sorted(data["database"])
    for action in data["actions"]:
        action["recorded"] = _sorted(action["recorded"])
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _build(cls: type, data: dict) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def report_from_dict(data: dict) -> Report:
    """Rebuild a Report from `Report.to_dict()` output; unknown keys (newer writers) are ignored."""
    report: Report = _build(Report, data)
    report.predicted = [Failure.from_dict(f) for f in data.get("predicted", [])]
    report.failures = [Failure.from_dict(f) for f in data.get("failures", [])]
    report.actions = [_build(Action, a) for a in data.get("actions", [])]
    report.refusals = [_build(Refusal, r) for r in data.get("refusals", [])]
    attempts = []
    for a in data.get("attempts", []):
        attempt: Attempt = _build(Attempt, a)
        attempt.failure = Failure.from_dict(a["failure"]) if a.get("failure") else None
        attempt.revisions = [_build(RevisionTiming, t) for t in a.get("revisions", [])]
        attempts.append(attempt)
    report.attempts = attempts
    return report
