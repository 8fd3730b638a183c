"""Outside Actions: a deploy on Render or Railway reports to the commit it deploys.

A commit status `migration-guard` (success or failure, with the one-line summary) on every run, and a
commit comment with the report when something was recovered, refused or failed. The platform names the
commit and the repository in its build environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_guard.report import describe
from migration_guard.report.model import Report

CONTEXT = "migration-guard"
COMMENT_ON = ("recovered", "refused", "failed")
_STATE = {"succeeded": "success", "recovered": "success", "clean": "success"}


@dataclass
class Deploy:
    platform: str
    repository: str  # owner/name
    sha: str


def detect(env: dict) -> Deploy | None:
    if env.get("RENDER_GIT_COMMIT") and env.get("RENDER_GIT_REPO_SLUG"):
        return Deploy("Render", env["RENDER_GIT_REPO_SLUG"], env["RENDER_GIT_COMMIT"])
    owner, name, sha = (env.get(k) for k in ("RAILWAY_GIT_REPO_OWNER", "RAILWAY_GIT_REPO_NAME",
                                               "RAILWAY_GIT_COMMIT_SHA"))
    if owner and name and sha:
        return Deploy("Railway", f"{owner}/{name}", sha)
    return None


def description(report: Report) -> str:
    """The status line GitHub shows next to the commit; it keeps 140 characters."""
    text = report.summary or describe.headline(report.status)
    return text if len(text) <= 140 else text[:139] + "\u2026"


def post_status(gh, deploy: Deploy, report: Report, summary: str) -> str:
    commit = gh.get_repo(deploy.repository).get_commit(deploy.sha)
    state = _STATE.get(report.status, "failure")
    commit.create_status(state=state, description=summary, context=CONTEXT)
    return f"commit status {CONTEXT}: {state} on {deploy.sha[:12]}"


def post_comment(gh, deploy: Deploy, body: str) -> str:
    gh.get_repo(deploy.repository).get_commit(deploy.sha).create_comment(body)
    return f"commented on commit {deploy.sha[:12]}"
