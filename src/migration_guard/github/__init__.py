"""GitHub reporting, done once at the end of `run` and `check` with the finished Report.

In GitHub Actions (GITHUB_ACTIONS=true): the step outputs, the job summary, annotations on the migration
files, and the sticky pull-request comment. On Render or Railway: a commit status and, when something
happened, a commit comment. Nothing here may change a deploy's result: whatever cannot be done (no token,
no permission, GitHub down) becomes one warning line on stderr, and the token is masked in every line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from migration_guard.github import actions, annotate, client, comment, deploy
from migration_guard.github.annotate import escape
from migration_guard.report import render
from migration_guard.report.model import Report
from migration_guard.report.secrets import mask_secrets
from migration_guard.settings import Settings


class _Log:
    def __init__(self, err, secrets: list, in_actions: bool):
        self.err, self.secrets, self.in_actions = err, secrets, in_actions

    def say(self, text: str) -> None:
        if text:
            print(mask_secrets(f"migration-guard: {text}", self.secrets), file=self.err, flush=True)

    def warn(self, text: str) -> None:
        text = mask_secrets(text.replace("\n", " "), self.secrets)
        # In Actions the warning is also a workflow command, so it shows on the run's page, not only in the log.
        line = f"::warning::{escape(f'migration-guard: {text}')}" if self.in_actions else \
            f"migration-guard: warning: {text}"
        print(line, file=self.err, flush=True)


def publish(report: Report, settings: Settings, secrets=(), *, env: dict | None = None, cwd: Path | None = None,
            out=None, err=None) -> None:
    env = dict(os.environ if env is None else env)
    cwd = cwd or Path.cwd()
    token = client.token(env)
    secrets = [*secrets, token]
    log = _Log(err or sys.stderr, secrets, actions.in_actions(env))
    try:
        if actions.in_actions(env):
            _in_actions(report, settings, secrets, env, cwd, out or sys.stdout, log, token)
        elif (target := deploy.detect(env)) is not None:
            _on_platform(report, secrets, env, cwd, settings, log, token, target)
    except Exception as exc:  # a bug here must not turn a migrated deploy into a failed one
        log.warn(f"GitHub reporting stopped: {type(exc).__name__}: {exc}")


def migrations_key(report: Report, settings: Settings, cwd: Path, base: Path) -> str:
    """The migration directory, relative to the repository: what tells two guarded projects of one
    repository apart. Read from the tool's configuration, so every run of a pull request finds the same."""
    from migration_guard.frameworks import detect

    folder = cwd
    try:
        script = getattr(detect(report.command, cwd, settings.framework), "script", None)
        if script is not None:
            folder = cwd / script().dir
    except Exception:  # the run has already said what is wrong with the command
        pass
    try:
        relative = folder.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        relative = folder.name
    return relative if relative != "." else base.resolve().name


def _in_actions(report, settings, secrets, env, cwd, out, log, token) -> None:
    workspace = actions.workspace(env, cwd)
    key = migrations_key(report, settings, cwd, workspace)

    json_path = cwd / settings.report_json if settings.report_json else None
    if json_path is None:
        json_path = actions.default_report_path(env, cwd, key, report.dry_run)
        try:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(render.to_json(report, secrets=secrets), encoding="utf-8")
        except OSError as exc:
            log.warn(f"cannot write the JSON report to {json_path}: {exc.strerror or exc}")
            json_path = None
    if env.get("GITHUB_OUTPUT"):
        shown = actions.shown_path(json_path, env, cwd) if json_path else ""
        try:
            actions.write_outputs(env["GITHUB_OUTPUT"], actions.outputs(report, shown))
        except OSError as exc:
            log.warn(f"cannot write the step outputs: {exc.strerror or exc}")
    if env.get("GITHUB_STEP_SUMMARY"):
        summary = render.to_markdown(report, flavor="summary", key=key, secrets=secrets,
                                     max_chars=actions.SUMMARY_MAX_CHARS)
        try:
            actions.append_summary(env["GITHUB_STEP_SUMMARY"], summary)
        except OSError as exc:
            log.warn(f"cannot write the job summary: {exc.strerror or exc}")
    for note in annotate.for_report(report, cwd, workspace):
        print(mask_secrets(note.command(), secrets), file=out, flush=True)

    number = comment.pull_request_number(env) if settings.github_comment else None
    if number is None:
        return
    if not token:
        log.warn(f"no GITHUB_TOKEN, so no comment on pull request #{number} (pass `github-token`)")
        return
    if not env.get("GITHUB_REPOSITORY"):
        log.warn(f"GITHUB_REPOSITORY is not set, so no comment on pull request #{number}")
        return
    body = render.to_markdown(report, flavor="comment", key=key, secrets=secrets, details_url=_run_url(env))
    try:
        done = comment.post(client.connect(env, token), env["GITHUB_REPOSITORY"], number, body,
                            render.comment_marker(key), report.status)
    except Exception as exc:
        log.warn(f"no comment on pull request #{number}: {client.explain(exc, env, 'pull-requests: write')}; "
                 "the migration result stands")
        return
    log.say(done)


def _on_platform(report, secrets, env, cwd, settings, log, token, target: deploy.Deploy) -> None:
    if not token:
        log.warn(f"{target.platform} deploy of {target.sha[:12]}: no GITHUB_TOKEN, so no commit status on GitHub")
        return
    gh = client.connect(env, token)
    try:
        log.say(deploy.post_status(gh, target, report, mask_secrets(deploy.description(report), secrets)))
    except Exception as exc:
        log.warn(f"no commit status on {target.sha[:12]}: {client.explain(exc, env, 'statuses: write')}; "
                 "the migration result stands")
        return
    if report.status not in deploy.COMMENT_ON:
        return
    key = migrations_key(report, settings, cwd, cwd)
    body = render.to_markdown(report, flavor="comment", key=key, secrets=secrets)
    try:
        log.say(deploy.post_comment(gh, target, body))
    except Exception as exc:
        log.warn(f"no commit comment on {target.sha[:12]}: {client.explain(exc, env, 'contents: write')}; "
                 "the migration result stands")


def _run_url(env: dict) -> str | None:
    server, repository, run = (env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server.rstrip('/')}/{repository}/actions/runs/{run}" if server and repository and run else None
