"""Inside a GitHub Actions step: the step outputs, the job summary, and where the JSON report goes.

In a Docker action the container sees the workspace at another path than the steps after it, and
RUNNER_TEMP names a host folder the container does not have; paths given to later steps are therefore
relative to the workspace whenever they are inside it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from migration_guard.report.model import Report

# GitHub's limit for one step's summary is 1 MiB; leave room for what other steps append.
SUMMARY_MAX_CHARS = 900_000


def in_actions(env: dict) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def workspace(env: dict, cwd: Path) -> Path:
    return Path(env.get("GITHUB_WORKSPACE") or cwd)


def default_report_path(env: dict, cwd: Path, key: str, dry_run: bool) -> Path:
    """Where the JSON report goes when --report-json was not given: the runner's temp folder when this
    process can see it, else a folder in the workspace (the one place a Docker action shares)."""
    temp = Path(env["RUNNER_TEMP"]) if env.get("RUNNER_TEMP") else None
    folder = temp / "migration-guard" if temp and temp.is_dir() else workspace(env, cwd) / ".migration-guard"
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in key).strip("-") or "report"
    return folder / f"{'check' if dry_run else 'run'}-{slug}.json"


def shown_path(path: Path, env: dict, cwd: Path) -> str:
    try:
        return path.resolve().relative_to(workspace(env, cwd).resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def outputs(report: Report, report_json: str) -> dict[str, str]:
    return {
        "status": report.status,
        "recovered": "true" if report.status == "recovered" else "false",
        "report-json": report_json,
        # What `check` predicts; a run's own prediction is for planning its recoveries, not this output.
        "predicted-failures": str(len(report.predicted) if report.dry_run else 0),
    }


def write_outputs(path: str, values: dict[str, str]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        for name, value in values.items():
            if "\n" in value or "\r" in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
                fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                fh.write(f"{name}={value}\n")


def append_summary(path: str, markdown: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
