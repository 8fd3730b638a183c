"""GitHub being unable to take the report never changes a deploy: no token, a 403, a 500 or an API that
cannot be reached leave the migration's result and exit code as they were, and one warning line says why.
The token is never printed."""

from __future__ import annotations

import pytest

from tests.github import scenarios
from tests.github.conftest import PR, TOKEN, Actions, annotations, warning_lines
from tests.github.test_platforms import PLATFORMS, SHA
from tests.support.github_server import FakeGitHub, unreachable_url

# (what goes wrong, words the warning must carry)
FAILURES = [
    ("no_token", "no GITHUB_TOKEN"),
    (403, "GitHub answered 403 (Resource not accessible by integration)"),
    (500, "GitHub answered 500"),
    ("unreachable", "cannot reach http://127.0.0.1:"),
]


def _api(failure) -> tuple[FakeGitHub, str, str | None]:
    fake = FakeGitHub(fail_with=failure if isinstance(failure, int) else None)
    url = unreachable_url() if failure == "unreachable" else fake.url
    return fake, url, None if failure == "no_token" else TOKEN


@pytest.mark.parametrize(("failure", "words"), FAILURES, ids=[str(f[0]) for f in FAILURES])
def test_pull_request_comment_failure_leaves_the_recovered_run_alone(run_cli, tmp_path, pg_url, failure, words):
    project = scenarios.project(tmp_path / "repo", pg_url, "hotfix")
    fake, api_url, token = _api(failure)
    actions = Actions(tmp_path / "runner", api_url, workspace=project)

    with fake:
        proc = run_cli(["run", "--", *scenarios.UPGRADE], env=actions.env(token=token, DATABASE_URL=pg_url),
                       cwd=project)

    assert proc.returncode == 0, proc.stderr
    assert actions.outputs()["status"] == "recovered"
    assert actions.summary().startswith("## [RECOVERED]")
    assert [n["level"] for n in annotations(proc.stdout)] == ["warning"]
    [line] = warning_lines(proc.stderr)
    assert f"pull request #{PR}" in line and words in line
    if failure == 403:
        assert "`pull-requests: write`" in line
    assert fake.calls("POST") == []
    assert TOKEN not in proc.stdout + proc.stderr + actions.summary()


@pytest.mark.parametrize(("failure", "words"), FAILURES, ids=[str(f[0]) for f in FAILURES])
def test_commit_status_failure_leaves_the_refused_deploy_alone(run_cli, tmp_path, pg_url, failure, words):
    project = scenarios.project(tmp_path / "app", pg_url, "other_type")
    fake, api_url, token = _api(failure)
    env = {"DATABASE_URL": pg_url, "GITHUB_API_URL": api_url, **PLATFORMS["render"]}
    if token:
        env["GITHUB_TOKEN"] = token

    with fake:
        proc = run_cli(["run", "--report-json", str(tmp_path / "report.json"), "--", *scenarios.UPGRADE],
                       env=env, cwd=project)

    assert proc.returncode == 1
    assert '"status": "refused"' in (tmp_path / "report.json").read_text()
    [line] = warning_lines(proc.stderr)
    assert SHA[:12] in line and words in line
    if failure == 403:
        assert "`statuses: write`" in line
    # After the status failed nothing else is tried: one warning, one wait at most.
    assert len(fake.log) == (1 if isinstance(failure, int) else 0)
    assert TOKEN not in proc.stdout + proc.stderr
