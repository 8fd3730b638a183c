"""The command line: run, check, diagnose, restore, demo. Bad input gets one line and exit 2, never a traceback."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from migration_guard import __version__
from migration_guard.errors import GuardError, UsageError

EXIT = {"succeeded": 0, "recovered": 0, "clean": 0, "refused": 1, "failed": 1, "predicted_failure": 1}


def _fail(exc: BaseException, code: int) -> None:
    from migration_guard.db.url import mask_text  # SQLAlchemy comes with it: not before a check starts its print

    click.echo(f"migration-guard: error: {mask_text(str(exc))}", err=True)
    sys.exit(code)


def _guard_options(fn):
    options = [
        click.option("--database-url", help="Database URL (default: DATABASE_URL, then the framework's config)."),
        click.option("--framework", type=click.Choice(["alembic", "flask", "django"]),
                     help="Which migration tool the command runs, when it cannot be told from the command."),
        click.option("--report-json", type=click.Path(dir_okay=False), help="Write the JSON report here."),
        click.option("--report-md", type=click.Path(dir_okay=False), help="Write the Markdown report here."),
        click.option("--dry-run", is_flag=True, default=None,
                     help="Predict, diagnose and plan; print what would be done; change nothing."),
        click.option("--dedupe", type=click.Choice(["off", "keep-oldest", "keep-newest"]),
                     help="What to do with duplicate rows that block a unique constraint (default: off)."),
        click.option("--dedupe-order", metavar="COLUMN",
                     help="The column that says which row of a duplicate group is oldest (default: primary key)."),
        click.option("--dedupe-repoint", is_flag=True, default=None,
                     help="Point rows that reference a removed duplicate at the kept row (recorded, restorable)."),
        click.option("--lock-timeout", type=float, help="Seconds to wait for the migration lock (default 600)."),
        click.option("--connect-timeout", type=float, help="Seconds to wait for the database (default 30)."),
        click.option("--max-attempts", type=int, help="Runs of the command at most, recoveries included (default 5)."),
        click.option("--stop-grace", type=float,
                     help="Seconds a stopped command gets to exit before it is killed (default 30)."),
        click.option("--no-github", "github", flag_value=False, default=None,
                     help="Do not write GitHub job summaries, annotations or comments."),
        click.option("--no-github-comment", "github_comment", flag_value=False, default=None,
                     help="In GitHub Actions, write the job summary and annotations but no pull-request comment."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migration-guard")
def main() -> None:
    """Make the migration step of a deploy safe."""


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_guard_options
@click.option("--no-preflight", "preflight", flag_value=False, default=None,
              help="Do not plan recoveries from a prediction before the first attempt; only react to failures.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def run(command, **flags) -> None:
    """Run COMMAND (after --) guarded: lock, run, diagnose, recover on evidence, report."""
    _guarded(list(command), flags)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_guard_options
@click.option("--rehearse", is_flag=True, default=None,
              help="Also run the pending migrations for real in a transaction that is always rolled back "
                   "(PostgreSQL), to find what the statements alone cannot show.")
@click.option("--rehearse-timeout", type=float,
              help="Seconds the rehearsal may run, and hold the locks its DDL takes, at most (default 60).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def check(command, **flags) -> None:
    """Predict what COMMAND would meet; change nothing. Exit 1 when a failure is predicted."""
    flags["dry_run"] = True
    _guarded(list(command), flags)


def _guarded(command: list[str], flags: dict) -> None:
    from migration_guard import settings as settings_mod

    if command and command[0] == "--":
        command = command[1:]
    started = None
    if flags.get("dry_run"):
        # check: the tool's print of the statements is the longest step; start it before the imports.
        import os

        from migration_guard.preflight import early

        try:
            started = early.quick(command, settings_mod.load({k: v for k, v in flags.items() if v is not None}),
                                  os.environ, Path.cwd())
        except Exception:  # a bad setting is reported below, by the run itself; anything else: the usual way
            started = None
    from migration_guard.runner import Interrupted, Runner

    def stop(signum, _frame):
        raise Interrupted(signum)

    # Outside the child's run (connecting, waiting for the lock, applying a recovery) a stop unwinds
    # the run: transactions roll back, the lock is released, the report says where it stopped.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    try:
        settings = settings_mod.load({k: v for k, v in flags.items() if v is not None})
        from migration_guard.runtime import front

        runner = Runner(settings, command, early=started, front=front.take())
        try:
            report = runner.run()
        except Interrupted as stop:
            report = runner.report
            _write(report, settings, runner.secrets)
            sys.exit(128 + stop.signum)
        _write(report, settings, runner.secrets)
        sys.exit(EXIT.get(report.status, 1))
    except GuardError as exc:
        _fail(exc, exc.exit_code)


def _write(report, settings, secrets) -> None:
    from migration_guard.report import render

    try:
        render.write_reports(report, settings.report_json, settings.report_md, secrets=secrets)
    except OSError as exc:
        click.echo(f"migration-guard: warning: cannot write the report: {exc}", err=True)
    click.echo(render.human_summary(report, json_path=settings.report_json, md_path=settings.report_md,
                                    secrets=secrets), err=True)
    if settings.github:
        from migration_guard.github import publish

        publish(report, settings, secrets)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print {\"failures\": [...]} as JSON.")
@click.argument("log", required=False, default="-")
def diagnose(as_json: bool, log: str) -> None:
    """Classify a saved migration log (FILE, or - for standard input)."""
    from migration_guard.diagnose import diagnose_text

    try:
        data = sys.stdin.buffer.read() if log == "-" else Path(log).read_bytes()
    except OSError as exc:
        _fail(UsageError(f"cannot read {log}: {exc.strerror or exc}"), 2)
    text = data.decode("utf-8", "replace")
    if not text.strip():
        _fail(UsageError(f"the log {'on standard input' if log == '-' else log} is empty"), 2)
    failures = diagnose_text(text)
    if as_json:
        click.echo(json.dumps({"failures": [f.to_dict() for f in failures]}, indent=2))
    elif not failures:
        click.echo("no failure found in the log")
    else:
        for f in failures:
            where = " ".join(f"{k}={v}" for k, v in f.to_dict().items()
                             if k in ("table", "column", "object_name", "revision", "sqlstate", "errno"))
            click.echo(f"{f.kind}: {where}".rstrip(": "))
    sys.exit(0 if failures else 1)


@main.command()
@click.argument("action_id")
@click.option("--database-url", help="Database URL (default: DATABASE_URL).")
@click.option("--lock-timeout", type=float, help="Seconds to wait for the migration lock (default 600).")
def restore(action_id: str, **flags) -> None:
    """Put back the rows a dedupe moved to the quarantine, and the references it repointed."""
    from migration_guard import settings as settings_mod
    from migration_guard.recovery import restore as restore_mod

    try:
        settings = settings_mod.load({k: v for k, v in flags.items() if v is not None})
        sys.exit(restore_mod.main(action_id, settings, lambda line: click.echo(f"migration-guard: {line}", err=True)))
    except GuardError as exc:
        _fail(exc, exc.exit_code)


@main.command()
@click.option("--keep", is_flag=True, help="Keep the throwaway database and sample project afterwards.")
def demo(keep: bool) -> None:
    """The whole story on a throwaway database: a hotfix column, an enum made elsewhere, two replicas."""
    from migration_guard import demo as demo_mod

    try:
        sys.exit(demo_mod.main(keep=keep))
    except GuardError as exc:
        _fail(exc, exc.exit_code)


if __name__ == "__main__":
    main()
