"""Deploys on Render and Railway report to the commit they deploy: one commit status `migration-guard`
on every run, and one commit comment with the report when something was recovered, refused or failed.
Real guarded runs on real PostgreSQL databases; the GitHub API is a local recording server."""

from __future__ import annotations

import pytest

from migration_guard.report.render import comment_marker
from tests.github import scenarios
from tests.github.conftest import TOKEN, warning_lines

SHA = "9f1c2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d6"
PLATFORMS = {
    "render": {"RENDER": "true", "RENDER_GIT_COMMIT": SHA, "RENDER_GIT_REPO_SLUG": "acme/shop"},
    "railway": {"RAILWAY_GIT_COMMIT_SHA": SHA, "RAILWAY_GIT_REPO_OWNER": "acme", "RAILWAY_GIT_REPO_NAME": "shop"},
}


def deploy(run_cli, project, url, platform: str, api_url: str, token: str | None = TOKEN):
    env = {"DATABASE_URL": url, "GITHUB_API_URL": api_url, **PLATFORMS[platform]}
    if token:
        env["GITHUB_TOKEN"] = token
    return run_cli(["run", "--", *scenarios.UPGRADE], env=env, cwd=project)


@pytest.mark.parametrize("platform", ["render", "railway"])
def test_recovered_deploy_posts_a_success_status_and_the_report(run_cli, tmp_path, pg_url, fake_github, platform):
    project = scenarios.project(tmp_path / "app", pg_url, "hotfix")

    proc = deploy(run_cli, project, pg_url, platform, fake_github.url)

    assert proc.returncode == 0, proc.stderr
    assert sorted(c.path for c in fake_github.calls("POST")) == [
        f"/repos/acme/shop/commits/{SHA}/comments", f"/repos/acme/shop/statuses/{SHA}"]
    [status] = fake_github.statuses[SHA]
    assert (status["state"], status["context"]) == ("success", "migration-guard")
    assert status["description"] == "Migrated after recovery."
    [posted] = fake_github.commit_comments[SHA]
    assert posted["body"].startswith(comment_marker("migrations"))
    assert "[RECOVERED] Migrated after recovery" in posted["body"]
    assert "`skip_satisfied`" in posted["body"] and "Column `settings.google_id` already exists" in posted["body"]
    assert "commit status migration-guard: success" in proc.stderr
    assert warning_lines(proc.stderr) == []
    assert TOKEN not in proc.stdout + proc.stderr + posted["body"]


def test_refused_deploy_posts_a_failure_status_and_what_a_human_must_decide(run_cli, tmp_path, pg_url, fake_github):
    project = scenarios.project(tmp_path / "app", pg_url, "other_type")

    proc = deploy(run_cli, project, pg_url, "railway", fake_github.url)

    assert proc.returncode == 1
    [status] = fake_github.statuses[SHA]
    assert status["state"] == "failure"
    assert status["description"].startswith("Refused: column settings.google_id is integer")
    assert len(status["description"]) <= 140
    [posted] = fake_github.commit_comments[SHA]
    assert "[REFUSED]" in posted["body"] and "What a human must decide" in posted["body"]


def test_quiet_deploy_posts_only_the_status(run_cli, tmp_path, pg_url, fake_github):
    project = scenarios.project(tmp_path / "app", pg_url, "none")

    proc = deploy(run_cli, project, pg_url, "render", fake_github.url)

    assert proc.returncode == 0, proc.stderr
    assert [c.path for c in fake_github.log] == [f"/repos/acme/shop/statuses/{SHA}"]
    assert fake_github.statuses[SHA][0]["state"] == "success"
    assert fake_github.commit_comments == {}


def test_no_platform_no_github(run_cli, tmp_path, pg_url, fake_github):
    """A token alone (say, in a developer's shell) is not a reason to post anywhere."""
    project = scenarios.project(tmp_path / "app", pg_url, "other_type")
    proc = run_cli(["run", "--", *scenarios.UPGRADE], cwd=project,
                   env={"DATABASE_URL": pg_url, "GITHUB_API_URL": fake_github.url, "GITHUB_TOKEN": TOKEN})

    assert proc.returncode == 1
    assert fake_github.log == []
    assert warning_lines(proc.stderr) == []
