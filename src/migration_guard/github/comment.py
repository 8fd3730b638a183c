"""The sticky pull-request comment: one per pull request and migration directory.

The comment's first line is a hidden marker (render.comment_marker) naming the migration directory; a
later run lists the pull request's comments, finds the marker and edits that comment, so a reviewer
sees one comment that always tells the latest run, never a stack of them.
"""

from __future__ import annotations

import json
import re

# Nothing worth a new comment: a run that changed nothing and met nothing. An existing comment is still
# updated, so a comment that said "refused" does not outlive the fix.
QUIET = ("succeeded", "clean")


def pull_request_number(env: dict) -> int | None:
    """The pull request this run belongs to: from the event payload, else from refs/pull/N/merge."""
    path = env.get("GITHUB_EVENT_PATH")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                event = json.load(fh)
        except (OSError, ValueError):
            event = {}
        pull = event.get("pull_request") or {}
        if isinstance(pull.get("number"), int):
            return pull["number"]
        issue = event.get("issue") or {}
        if issue.get("pull_request") and isinstance(issue.get("number"), int):
            return issue["number"]
    ref = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", env.get("GITHUB_REF") or "")
    return int(ref.group(1)) if ref else None


def post(gh, repository: str, number: int, body: str, marker: str, status: str) -> str:
    """Create or update the comment; returns what was done, in words for the log."""
    issue = gh.get_repo(repository).get_issue(number)
    for existing in issue.get_comments():
        if (existing.body or "").lstrip().startswith(marker):
            existing.edit(body)
            return f"updated the comment on pull request #{number}"
    if status in QUIET:
        return ""
    issue.create_comment(body)
    return f"commented on pull request #{number}"
