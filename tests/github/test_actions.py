"""`migration-guard run` and `check` in a simulated GitHub Actions step, on real PostgreSQL databases:
the pull-request comment (created once, then updated), the job summary, the step outputs, annotations.

The API is tests/support/github_server.FakeGitHub on 127.0.0.1; every request is recorded.
"""

from __future__ import annotations

import json

import pytest

from migration_guard.report.render import comment_marker
from tests.github import scenarios
from tests.github.conftest import PR, TOKEN, Actions, annotations, warning_lines
from tests.support import servers
from tests.support.github_server import FakeGitHub
from tests.support.guard import execute

MARKER = comment_marker("migrations")
COMMENTS = f"/repos/acme/shop/issues/{PR}/comments"


def guarded(run_cli, actions: Actions, project, url: str, *options: str, mode: str = "run", **env):
    return run_cli([mode, *options, "--", *scenarios.UPGRADE], env=actions.env(DATABASE_URL=url, **env),
                   cwd=project)


def no_token_anywhere(proc, actions: Actions, fake: FakeGitHub) -> None:
    bodies = [c["body"] for items in fake.issue_comments.values() for c in items]
    for text in (proc.stdout, proc.stderr, actions.summary(), json.dumps(actions.outputs()), *bodies):
        assert TOKEN not in text


def test_recovered_run_reports_in_comment_summary_outputs_and_annotation(run_cli, tmp_path, pg_url, fake_github):
    project = scenarios.project(tmp_path / "repo", pg_url, "hotfix")
    actions = Actions(tmp_path / "runner", fake_github.url, workspace=project)

    proc = guarded(run_cli, actions, project, pg_url)

    assert proc.returncode == 0, proc.stderr
    # The pull-request comment: one, created, naming the failure, the table and the action.
    assert [c.path for c in fake_github.calls("POST")] == [COMMENTS]
    [posted] = fake_github.issue_comments[PR]
    body = posted["body"]
    assert body.startswith(MARKER + "\n")
    assert "### [RECOVERED] Migrated after recovery" in body
    assert "Column `settings.google_id` already exists (PostgreSQL 42701)" in body
    assert "`skip_satisfied`" in body and "answers `duplicate_column` in revision `b2`" in body
    assert "settings.google_id exists as character varying(255)" in body  # the evidence
    assert "| Attempt | Exit code | Duration | Failure | Statements skipped |" in body
    assert "[run details](https://github.example/acme/shop/actions/runs/4242)" in body
    assert f"commented on pull request #{PR}" in proc.stderr
    # The job summary: the same report, headline first.
    summary = actions.summary()
    assert summary.startswith("## [RECOVERED] Migrated after recovery")
    # Predicted and recovered before the first attempt, so the run itself met no failure.
    assert "### Predicted failures" in summary and "### What migration-guard did" in summary
    assert "**Evidence**" in summary and "### Attempts" in summary
    assert "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255);" in summary  # the statement it skipped
    # The step outputs, and the JSON report they point at (relative to the workspace).
    outputs = actions.outputs()
    assert {k: outputs[k] for k in ("status", "recovered", "predicted-failures")} == {
        "status": "recovered", "recovered": "true", "predicted-failures": "0"}
    report = json.loads((project / outputs["report-json"]).read_text())
    assert report["status"] == "recovered"
    assert report["revision_files"]["b2"] == scenarios.B2_FILE
    # The annotation: a warning (it was recovered) on the line that adds the column.
    [note] = annotations(proc.stdout)
    assert note["level"] == "warning"
    assert note["file"] == scenarios.B2_FILE
    assert note["line"] == str(scenarios.b2_add_column_line(project))
    assert note["title"] == "migration-guard: duplicate_column"
    assert "recovered with `skip_satisfied`" in note["message"]
    no_token_anywhere(proc, actions, fake_github)


def test_the_comment_is_updated_in_place_never_posted_twice(run_cli, tmp_path, pg_url, fake_github):
    project = scenarios.project(tmp_path / "repo", pg_url, "other_type")
    actions = Actions(tmp_path / "runner", fake_github.url, workspace=project)
    # A busy pull request: the guard's comment will be on the second page of 100.
    for i in range(101):
        fake_github.seed_comment("acme/shop", PR, f"review note {i}")

    first = guarded(run_cli, actions, project, pg_url)
    second = guarded(run_cli, actions, project, pg_url)

    assert (first.returncode, second.returncode) == (1, 1)
    assert len(fake_github.calls("POST")) == 1
    [patch] = fake_github.calls("PATCH")
    ours = [c for c in fake_github.issue_comments[PR] if c["body"].startswith(MARKER)]
    assert len(ours) == 1 and patch.path == f"/repos/acme/shop/issues/comments/{ours[0]['id']}"
    assert {c.query.get("page", "1") for c in fake_github.calls("GET", COMMENTS)} == {"1", "2"}
    body = ours[0]["body"]
    assert "### [REFUSED] Refused: a human must decide" in body
    assert "Column `settings.google_id` already exists (PostgreSQL 42701)" in body
    assert "integer" in body and "character varying(255)" in body and "#### What a human must decide" in body
    assert "| 1 | 1 |" in body  # one attempt, exit code 1
    assert f"updated the comment on pull request #{PR}" in second.stderr
    [note] = annotations(second.stdout)
    assert (note["level"], note["file"], note["line"]) == (
        "error", scenarios.B2_FILE, str(scenarios.b2_add_column_line(project)))
    assert "migration-guard refused" in note["message"] and "A human must" in note["message"]
    assert actions.outputs()["status"] == "refused"

    # A human fixes the database; the comment that said "refused" now says what happened after.
    execute(pg_url, "ALTER TABLE settings DROP COLUMN google_id")
    third = guarded(run_cli, actions, project, pg_url)

    assert third.returncode == 0, third.stderr
    assert len(fake_github.calls("POST")) == 1 and len(fake_github.calls("PATCH")) == 2
    [ours] = [c for c in fake_github.issue_comments[PR] if c["body"].startswith(MARKER)]
    assert "### [OK] Migrated" in ours["body"] and "REFUSED" not in ours["body"]
    assert annotations(third.stdout) == []
    no_token_anywhere(third, actions, fake_github)


def test_check_predicts_the_failure_on_github_enterprise(run_cli, tmp_path, pg_url):
    project = scenarios.project(tmp_path / "repo", pg_url, "hotfix")
    with FakeGitHub(prefix="/api/v3", token=TOKEN) as enterprise:
        actions = Actions(tmp_path / "runner", enterprise.url, workspace=project)
        proc = guarded(run_cli, actions, project, pg_url, mode="check")

    assert proc.returncode == 1  # check's contract: a predicted failure; the action's fail-on maps it
    assert warning_lines(proc.stderr) == []
    assert [c.method for c in enterprise.log] == ["GET", "POST"]
    [posted] = enterprise.issue_comments[PR]
    assert "### [WARNING] Check predicts a failure" in posted["body"]
    assert "nothing was changed" in posted["body"]
    outputs = actions.outputs()
    assert (outputs["status"], outputs["predicted-failures"], outputs["recovered"]) == ("predicted_failure", "1",
                                                                                         "false")
    assert json.loads((project / outputs["report-json"]).read_text())["dry_run"] is True
    [note] = annotations(proc.stdout)
    assert (note["level"], note["file"], note["line"]) == (
        "warning", scenarios.B2_FILE, str(scenarios.b2_add_column_line(project)))
    assert note["title"] == "migration-guard: predicted duplicate_column"
    assert "would recover with `skip_satisfied`" in note["message"]


def test_a_quiet_run_adds_no_comment_but_still_summarises(run_cli, tmp_path, pg_url, fake_github):
    project = scenarios.project(tmp_path / "repo", pg_url, "none")
    actions = Actions(tmp_path / "runner", fake_github.url, workspace=project)

    proc = guarded(run_cli, actions, project, pg_url)

    assert proc.returncode == 0, proc.stderr
    assert [c.method for c in fake_github.log] == ["GET"]  # looked for a comment to update; none
    assert actions.summary().startswith("## [OK] Migrated")
    assert actions.outputs()["status"] == "succeeded"
    assert annotations(proc.stdout) == []


def test_comment_off_and_no_pull_request_mean_no_api_call(run_cli, tmp_path, pg_url, fake_github):
    project = scenarios.project(tmp_path / "repo", pg_url, "other_type")
    off = Actions(tmp_path / "off", fake_github.url, workspace=project)
    push = Actions(tmp_path / "push", fake_github.url, workspace=project, event={"ref": "refs/heads/main"})

    refused_off = guarded(run_cli, off, project, pg_url, "--no-github-comment")
    refused_on_push = guarded(run_cli, push, project, pg_url)

    assert (refused_off.returncode, refused_on_push.returncode) == (1, 1)
    assert fake_github.log == []
    for actions, proc in ((off, refused_off), (push, refused_on_push)):
        assert actions.summary().startswith("## [REFUSED]")
        assert actions.outputs()["status"] == "refused"
        assert [n["level"] for n in annotations(proc.stdout)] == ["error"]


def test_one_comment_per_migration_directory(run_cli, tmp_path, pg_server_url, fake_github):
    workspace = tmp_path / "repo"
    with servers.fresh_database(pg_server_url) as api_url, servers.fresh_database(pg_server_url) as billing_url:
        api = scenarios.project(workspace / "services" / "api", api_url, "other_type")
        billing = scenarios.project(workspace / "services" / "billing", billing_url, "other_type")
        actions = Actions(tmp_path / "runner", fake_github.url, workspace=workspace)

        guarded(run_cli, actions, api, api_url)
        guarded(run_cli, actions, billing, billing_url)
        again = guarded(run_cli, actions, api, api_url)

    markers = sorted(c["body"].splitlines()[0] for c in fake_github.issue_comments[PR])
    assert markers == [comment_marker("services/api/migrations"), comment_marker("services/billing/migrations")]
    assert len(fake_github.calls("POST")) == 2 and len(fake_github.calls("PATCH")) == 1
    api_comment = next(c for c in fake_github.issue_comments[PR] if "services/api" in c["body"].splitlines()[0])
    assert fake_github.calls("PATCH")[0].path.endswith(f"/comments/{api_comment['id']}")
    [note] = annotations(again.stdout)
    assert note["file"] == f"services/api/{scenarios.B2_FILE}"


@pytest.mark.parametrize("event", [{"issue": {"number": PR, "pull_request": {"url": "x"}}}, {}],
                         ids=["issue_comment", "ref"])
def test_pull_request_number_from_other_events(tmp_path, event):
    from migration_guard.github.comment import pull_request_number

    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    assert pull_request_number({"GITHUB_EVENT_PATH": str(path), "GITHUB_REF": f"refs/pull/{PR}/merge"}) == PR
    assert pull_request_number({"GITHUB_EVENT_PATH": str(path), "GITHUB_REF": "refs/heads/main"}) == (
        PR if event else None)
