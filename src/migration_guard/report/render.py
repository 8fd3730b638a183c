"""Render a Report: JSON, the Markdown job summary / report file, the pull-request comment, stderr lines.

Every output passes through `mask_secrets` twice: on the data before escaping (which could split a
secret) and on the finished text (which catches what the data pass cannot know about).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from migration_guard import __version__
from migration_guard.report import describe, mdtext
from migration_guard.report.console import human_summary
from migration_guard.report.model import Report
from migration_guard.report.secrets import mask_object, mask_secrets
from migration_guard.report.serialize import to_json

__all__ = ["comment_marker", "human_summary", "to_json", "to_markdown", "write_reports"]

Flavor = Literal["summary", "comment"]

# GitHub rejects comments over 65,536 characters; the default leaves room for what callers append.
DEFAULT_MAX_CHARS = 60000

_TEMPLATES = {"summary": "report.md.j2", "comment": "comment.md.j2"}
_UNSAFE_IN_COMMENT = re.compile(r"[>\r\n]")


def comment_marker(key: str | None = None) -> str:
    """The hidden first line of the PR comment; a later run searches for it to update the comment.

    `--` and `>` would end the HTML comment early, so they are replaced in the key.
    """
    safe = re.sub("-{2,}", "-", _UNSAFE_IN_COMMENT.sub("-", (key or "default").strip())) or "default"
    return f"<!-- migration-guard:{safe} -->"


def to_markdown(
    report: Report,
    *,
    flavor: Flavor = "summary",
    max_chars: int = DEFAULT_MAX_CHARS,
    key: str | None = None,
    secrets: Iterable[str | None] = (),
    details_url: str | None = None,
) -> str:
    """The Markdown report (`flavor="summary"`) or pull-request comment (`flavor="comment"`).

    Over `max_chars`, a short version is rendered instead (no statements, no log tail) and says so;
    if even that is too long it is cut at a line boundary, keeping the comment marker at the top.
    """
    if flavor not in _TEMPLATES:
        raise ValueError(f"flavor must be 'summary' or 'comment', not {flavor!r}")
    secrets = list(secrets)
    masked = mask_object(report, secrets)
    full = _render(masked, flavor, key=key, short=False, details_url=details_url, secrets=secrets)
    if len(full) <= max_chars:
        return full
    short = _render(masked, flavor, key=key, short=True, details_url=details_url, secrets=secrets)
    if len(short) <= max_chars:
        return short
    notice = f"_Cut at {max_chars:,} characters; the full report is in the job's report files._"
    return mdtext.cut(short, max_chars, notice)


def _render(
    report: Report,
    flavor: Flavor,
    *,
    key: str | None,
    short: bool,
    details_url: str | None,
    secrets: list[str | None],
) -> str:
    from migration_guard.report.templating import environment  # Jinja2 only when Markdown is written

    template = environment().get_template(_TEMPLATES[flavor])
    text = template.render(
        r=report,
        headline=describe.headline(report.status, len(report.attempts)),
        marker=describe.marker(report.status),
        comment_marker=comment_marker(key),
        key=key,
        short=short,
        details_url=details_url,
        revisions=[t for attempt in report.attempts for t in attempt.revisions],
        version=__version__,
    )
    return mask_secrets(mdtext.tidy(text), secrets)


def write_reports(
    report: Report,
    json_path: str | Path | None,
    md_path: str | Path | None,
    *,
    secrets: Iterable[str | None] = (),
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[Path]:
    """Write the JSON report and the Markdown report (summary flavor); either path may be None.

    Returns the paths written, for the stderr summary to point at.
    """
    secrets = list(secrets)
    written: list[Path] = []
    outputs = [
        (json_path, lambda: to_json(report, secrets=secrets)),
        (md_path, lambda: to_markdown(report, flavor="summary", max_chars=max_chars, secrets=secrets)),
    ]
    for path, produce in outputs:
        if path is None:
            continue
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(produce(), encoding="utf-8")
        written.append(path)
    return written
