"""A simulated GitHub Actions step: the files and variables the runner gives a step, and the fake API.

    actions = Actions(tmp_path, api_url)   # an event with pull request #7 of acme/shop
    proc = run_cli([...], env=actions.env(DATABASE_URL=url), cwd=project)
    actions.outputs()  /  actions.summary()
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.github_server import FakeGitHub

TOKEN = "ghs_T0kenThatMustNeverBePrinted"
REPO = "acme/shop"
PR = 7


class Actions:
    def __init__(self, root: Path, api_url: str, workspace: Path, event: dict | None = None):
        self.root = root
        self.api_url = api_url
        self.workspace = workspace
        root.mkdir(parents=True, exist_ok=True)
        self.event_path = root / "event.json"
        self.event_path.write_text(json.dumps(event if event is not None else
                                              {"action": "synchronize", "number": PR,
                                               "pull_request": {"number": PR}}))
        self.output_path = root / "github_output"
        self.summary_path = root / "step_summary.md"

    def env(self, token: str | None = TOKEN, **extra: str) -> dict[str, str]:
        env = {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(self.event_path),
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "4242",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(self.output_path),
            "GITHUB_STEP_SUMMARY": str(self.summary_path),
        }
        if token:
            env["GITHUB_TOKEN"] = token
        env.update(extra)
        return env

    def outputs(self) -> dict[str, str]:
        """GITHUB_OUTPUT read the way the runner reads it: `name=value` and `name<<DELIMITER` blocks."""
        values: dict[str, str] = {}
        lines = iter(self.output_path.read_text().splitlines()) if self.output_path.exists() else iter(())
        for line in lines:
            if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
                name, delimiter = line.split("<<", 1)
                body = []
                for more in lines:
                    if more == delimiter:
                        break
                    body.append(more)
                values[name] = "\n".join(body)
            elif "=" in line:
                name, value = line.split("=", 1)
                values[name] = value
        return values

    def summary(self) -> str:
        return self.summary_path.read_text() if self.summary_path.exists() else ""


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as fake:
        yield fake


def annotations(stdout: str) -> list[dict]:
    """The `::error`/`::warning` workflow commands in a step's output, their properties unescaped."""
    found = []
    for line in stdout.splitlines():
        if not line.startswith(("::error", "::warning")):
            continue
        head, message = line[2:].split("::", 1)
        level, _, props = head.partition(" ")
        item = {"level": level, "message": _unescape(message)}
        for prop in filter(None, props.split(",")):
            key, value = prop.split("=", 1)
            item[key] = _unescape(value)
        found.append(item)
    return found


def _unescape(value: str) -> str:
    for coded, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(coded, char)
    return value


def warning_lines(stderr: str) -> list[str]:
    """The guard's own warning lines (in Actions they are `::warning::` workflow commands)."""
    return [line for line in stderr.splitlines()
            if line.startswith(("::warning::migration-guard:", "migration-guard: warning:"))]
