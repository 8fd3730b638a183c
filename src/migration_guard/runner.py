"""A guarded run: lock, run the command, and on failure diagnose, plan, apply, run again; report.

The lock is held for the whole run, so the state read after a failure is the state the next
attempt meets. Attempts are bounded; a recovery that did not take (the same failure again on the
same object) stops the run rather than loop.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from migration_guard import faults
from migration_guard.db import target as targets
from migration_guard.db import url as urls
from migration_guard.db.lock import CHILD_APP_NAME, Lock, end_orphans, end_sessions
from migration_guard.errors import GuardError, UsageError
from migration_guard.frameworks import Framework, detect
from migration_guard.report.model import Attempt, Report
from migration_guard.runtime import waiter
from migration_guard.runtime.progress import Progress

# Diagnosis, planning, recovery and prediction are imported where they are used: a run that
# succeeds (the common case) never needs them, and every deploy pays for what the guard imports.
# runtime/child.py too (subprocess, threading): a replica that waited and found nothing to do never
# starts the command.
if TYPE_CHECKING:
    from migration_guard.diagnose.failure import Failure
    from migration_guard.runtime import child
    from migration_guard.settings import Settings

SECRET_ENV = ("PGPASSWORD", "MYSQL_PWD", "GITHUB_TOKEN", "GH_TOKEN", "DATABASE_PASSWORD")
NOT_RECOVERABLE = {"unknown", "unrelated"}


class Runner:
    def __init__(self, settings: Settings, argv: list[str], cwd: Path | None = None, env: dict | None = None,
                 stream=None, front=None, early=None):
        self.settings = settings
        self.argv = list(argv)
        self.cwd = cwd or Path.cwd()
        self.env = dict(os.environ if env is None else env)
        self.progress = Progress(stream or sys.stderr)
        self.secrets = [self.env[k] for k in SECRET_ENV if self.env.get(k)]
        self.report = Report(status="failed", command=self.argv, dry_run=settings.dry_run)
        self._ids = 0
        self.lock: Lock | None = None
        self._early: child.Early | None = None
        self._engine = None
        self._front = front  # runtime/front.py: the lock asked for before the CLI was imported
        self.early = None  # check: the reads started before the lock (preflight/early.py)
        self._quick = early  # check: a print the CLI started before this runner existed (early.quick)
        self._opened: list | None = None  # the pending revisions, when the early command's gate opened at once
        self._current: str | None = None  # heads, when nothing was pending but the command ran anyway
        self.run_id = f"run-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{os.urandom(3).hex()}"

    # -- set-up ---------------------------------------------------------------------------------------
    def _raw_url(self, framework: Framework) -> str:
        raw = self.settings.database_url or self.env.get("DATABASE_URL") or framework.config_url(self.env)
        if not raw:
            raise UsageError("no database URL: pass --database-url, set DATABASE_URL, or configure "
                             f"it in the {framework.name} project")
        return raw

    def _target(self, raw: str):
        url = urls.parse(raw)
        if url.password:
            self.secrets.append(str(url.password))
        self.report.database = {"dialect": urls.dialect_of(url), "url": urls.mask(url)}
        return url

    def run(self) -> Report:
        began = time.monotonic()
        lock = None
        self.phase = "starting"
        try:
            self._check_command()
            framework = detect(self.argv, self.cwd, self.settings.framework)
            framework.env = self.env  # tools that are asked in a subprocess (Django) need the user's env
            self.report.framework = framework.name
            self._raw = self._raw_url(framework)
            front = self._adopt_front(self._raw)
            lock = self._lean_lock(framework, self._raw, front)
            if lock is not None:
                self._acquire(lock, self._while_waiting, share_while_waiting=True)
                if not lock.contended:  # the first migrator of a deploy: most likely there is work
                    self._spawn_early()
                if self._nothing_to_do(lock):
                    return self.report
                if lock.shared:  # waited beside other replicas, and there is work: the lock for itself
                    self._acquire(lock)
                    if self._nothing_to_do(lock):  # another one got there first, and did it
                        return self.report
                self._start_early(lock)
                dialect = self._plain.dialect
            if self._opened is None:
                engine = self.engine
                dialect = urls.dialect_of(engine.url)
                if lock is None:
                    if self.settings.dry_run:  # check: print the statements while reading the project and locking
                        self._start_print(framework, engine)
                    framework.prepare()
                    if self.early is not None:
                        self.early.prepared()
                    lock = front.lock if front is not None else Lock.for_engine(engine)
                    self._acquire(lock)
                self._tidy_after_killed_runs(engine)
                if dialect == "postgresql":
                    self.env.setdefault("PGAPPNAME", CHILD_APP_NAME)
            # else: the lock's own reading found nothing a killed run left; the command already runs, and
            # a clean run of it never needs SQLAlchemy here (self.engine connects on first use).
            self.lock = lock
            self._guarded(framework, dialect)
            if any(a.applied for a in self.report.actions):
                from migration_guard.recovery import journal

                journal.close(self.engine, self.run_id)
        except Interrupted as stop:
            if not self.report.summary.startswith("Stopped"):
                self._finish("failed", f"Stopped by signal {stop.signum} while {self.phase}.")
            raise
        finally:
            for started in (self.early, self._quick):
                if started is not None:
                    started.close()
            if self._front is not None:
                self._front.discard()
                self._front = None
            if self._early is not None:  # not run after all: stopped at its gate, or stopped as a run would be
                self._early.discard(self.settings.stop_grace)
                self._early = None
            if lock is not None:
                lock.release()
            if self._engine is not None:
                self._engine.dispose()
            self.report.duration_s = round(time.monotonic() - began, 3)
        return self.report

    @property
    def engine(self):
        """The guard's SQLAlchemy engine, made on first use: a clean run that started its command
        early never needs it."""
        if self._engine is None:
            from migration_guard.db.connect import engine_for, wait_for

            url = self._target(self._raw)
            engine = engine_for(url, connect_timeout=min(self.settings.connect_timeout, 10))
            wait_for(engine, timeout=self.settings.connect_timeout, on_retry=self._waiting_for_database)
            self._engine = engine
        return self._engine

    def _start_print(self, framework: Framework, engine) -> None:
        from migration_guard.preflight import early

        quick, self._quick = self._quick, None
        if quick is not None and quick.url == self._raw and quick.command == self.argv \
                and urls.dialect_of(engine.url) == "postgresql" and quick.printing():
            quick.adopt(framework, engine)  # same URL, same command: the print it started is this one's
            self.early = quick
        else:
            if quick is not None:
                quick.close()
            self.early = early.start(framework, engine, self.env)

    def _tidy_after_killed_runs(self, engine) -> None:
        from migration_guard.recovery import journal

        for note in journal.left_open(engine):
            self.report.notes.append(note)
            self.progress.say(note)
        orphans = end_orphans(engine)
        if orphans:
            note = (f"ended {orphans} database session(s) left by an earlier guarded run that was killed; "
                    "their transactions rolled back")
            self.report.notes.append(note)
            self.progress.say(note)

    def _waiting_for_database(self, why: str) -> None:
        self.progress.say(f"waiting for the database: {urls.mask_text(why, self.secrets)}")

    def _acquire(self, lock: Lock, contended=None, share_while_waiting: bool = False) -> None:
        """Without `share_while_waiting`, a lock held shared (the replica waited beside others) is taken
        for this run alone: the command never runs under a shared hold."""
        self.phase = "waiting for the migration lock"
        lock.acquire(self.settings.lock_timeout, lambda waited, holder: self.progress.say(waiter.waiting_note(
            waited, holder)), contended, share_while_waiting)
        self.report.lock_wait_s = round(lock.waited_s, 3)
        took = waiter.took_note(lock.waited_s)
        if took:
            self.progress.say(took)
        faults.point("after-lock")

    def _adopt_front(self, raw: str):
        """The lock runtime/front.py asked for, if it asked for this very URL; else let go of it."""
        front, self._front = self._front, None
        if front is None:
            return None
        if front.error is not None:  # its wait for the lock failed (runtime/waiter.py): say so, as if it were ours
            front.discard()
            raise front.error
        if front.raw != raw or self.settings.dry_run:
            front.discard()
            return None
        if front.early is not None:
            self._early = front.early
        if front.target.dialect == "postgresql":
            self.env.setdefault("PGAPPNAME", CHILD_APP_NAME)
        return front

    def _lean_lock(self, framework: Framework, raw: str, front=None) -> Lock | None:
        """The lock, taken on a plain driver session before SQLAlchemy is imported, when the database
        is plain to reach and the project's heads plain to read: then a replica that waited can see
        the database at head without importing anything more (db/target.py, runtime/at_head.py)."""
        if self.settings.dry_run or framework.runs_when_current:
            return None
        target = targets.read(raw)
        if target is None:
            return None
        files = framework.plain_files()
        if files is None:
            return None
        if target.password:
            self.secrets.append(target.password)
        self.report.database = {"dialect": target.dialect, "url": target.masked}
        if front is not None:
            lock = front.lock
        else:
            lock = Lock.on(target, connect_timeout=self.settings.connect_timeout,
                           on_retry=self._waiting_for_database)
        self._plain = target  # the URL read without SQLAlchemy
        self._version_table, self._scripts = files
        return lock

    def _start_early(self, lock: Lock) -> None:
        """The command, started now, while the guard still imports what it needs and reads the state
        (runtime/child.py, Early): on a short migration, starting Python and the tool is most of the
        time. Its gate opens at once when the lock's own reading already shows there is nothing to
        plan before the first attempt (nothing left by a killed run, and nothing in the database a
        prediction could find in the way); else when the plan is made."""
        self._spawn_early()
        if self._early is None:
            return
        from migration_guard.runtime import at_head

        graph, state = self._graph, self._state
        if graph is None:
            return
        planless = state.clear and (self._plain.dialect != "postgresql" or not self.settings.preflight
                                    or at_head.empty(lock, self._version_table))
        pending = graph.pending(state.versions) if planless and state.versions is not None else None
        if pending:
            self._early.open(None)
            self._opened = pending

    def _while_waiting(self) -> None:
        """Another replica migrates: this one will most likely find nothing to do. It yields the CPU to
        that one (whose command shares the machine's cores in a crowded deploy) and reads the revision
        files now rather than while it holds the lock, where every replica behind it would wait too."""
        from migration_guard.runtime.priority import yield_cpu

        yield_cpu()
        _ = self._graph

    @functools.cached_property
    def _graph(self):
        """The revisions, read from the files once: while waiting, or while the early command starts."""
        from migration_guard.frameworks import revision_files

        return revision_files.graph(self._scripts)

    def _spawn_early(self) -> None:
        if self._early is None:
            from migration_guard.runtime import child

            self._early = child.start_early(self.argv, self.cwd, self.env, self._plain.dialect)

    def _nothing_to_do(self, lock: Lock) -> bool:
        from migration_guard.runtime import at_head

        self._state = at_head.read(lock, self._plain, self._version_table)
        graph = self._graph  # read while the early command starts, or already while waiting
        if graph is None or not self._state.at_head(graph.heads):
            return False
        self.lock = lock
        line, summary = waiter.nothing_to_do(graph.heads)
        self.progress.say(line)
        self._finish("succeeded", summary)
        return True

    def _check_command(self) -> None:
        """Fail before taking the lock when the command cannot even start."""
        if not self.argv:
            raise UsageError("no command given: put the migration command after `--`")
        program = self.argv[0]
        if os.sep in program:
            path = Path(program) if Path(program).is_absolute() else self.cwd / program
            if not path.is_file():
                raise UsageError(f"command not found: {program}")
        elif _which(program, self.env.get("PATH")) is None:
            raise UsageError(f"command not found: {program}")

    # -- the run --------------------------------------------------------------------------------------
    def _guarded(self, framework: Framework, dialect: str) -> None:
        # The command already runs when its gate opened at once: the version table is its to change
        # now, and the lock's reading (taken before) said what is pending.
        pending = self._opened if self._opened is not None else framework.pending(self.engine)
        self._note_files(pending)
        if pending == [] and framework.upgrades_to_head:
            heads = ", ".join(sorted(framework.applied(self.engine))) or "base"
            if not framework.runs_when_current:
                self.progress.say(f"database is at head ({heads}): nothing to do")
                self._finish("succeeded", f"Nothing to do: the database is already at head ({heads}).")
                return
            self.progress.say(f"database is at head ({heads}): no migration pending; running the command "
                              "anyway, for what it does besides migrating")
            self._current = heads
        if self.settings.dry_run:
            self._dry_run(framework, self.engine, dialect, pending or [])
            return
        child_plan: dict = {"skip": {}}
        acted_on: set = set()
        if self.settings.preflight and self._opened is None:  # recoveries a prediction proves, before attempt 1
            from migration_guard.preflight import ahead

            pending = ahead.plan(self, framework, self.engine, dialect, pending or [], child_plan, acted_on)
            if pending is None:
                return
        for number in range(1, self.settings.max_attempts + 1):
            self.progress.begin_attempt(number, pending or [])
            self.phase = f"attempt {number} ran the command"
            early, self._early = self._early, None
            if early is not None and not early.opened:
                faults.point("at-gate")  # the command waits at its gate (tests/faults/test_gate.py)
            from migration_guard.runtime import child

            result = child.run(self.argv, self.cwd, self.env, child_plan, self.secrets, self._event,
                               grace=self.settings.stop_grace, early=early)
            attempt = Attempt(number, result.exit_code, round(result.duration_s, 3),
                              revisions=list(self.progress.timings), skipped_statements=list(self.progress.skipped))
            self.report.attempts.append(attempt)
            # Every attempt's tail: after a recovery the last attempt succeeded, and the failure a reader
            # wants to see is in the one before it.
            tail = f"--- attempt {number} (exit {result.exit_code}) ---\n{result.output[-12000:]}"
            self.report.log_tail = (self.report.log_tail + "\n" + tail if self.report.log_tail else tail)[-30000:]
            if result.signalled:
                self._finish("failed", f"Stopped by signal {result.signalled} while the migration ran.")
                self.report.notes.append(f"signal {result.signalled} was passed on to the command")
                ended = end_sessions(self.engine, self.progress.backends)
                if ended:
                    self.report.notes.append(f"ended {ended} server session(s) the stopped command left running; "
                                             "their transactions rolled back")
                raise Interrupted(result.signalled)
            if result.exit_code == 0:
                status = "recovered" if self.report.actions else "succeeded"
                done = "Migrated after recovery." if self.report.actions else "Migrated."
                if self._current is not None and not self.report.actions:
                    done = f"Nothing was pending (at {self._current}); the command ran for its other work."
                self._finish(status, done)
                return
            from migration_guard.recovery import plan
            from migration_guard.recovery.context import Context

            failure = self._failure(result)
            faults.point("after-diagnose")
            attempt.failure = failure
            self.report.failures.append(failure)
            self.progress.say(f"attempt {number} failed: {failure.kind}"
                              f"{' on ' + _object(failure) if _object(failure) else ''}")
            if not self.lock.held():
                self._finish("failed", "Failed: the connection holding the migration lock was lost (a server "
                             "restart or a cut connection); the guard acts on nothing it no longer holds. Deploy "
                             "again: the next run reads the state afresh.")
                self.progress.say("the migration lock was lost with its connection: stopping without acting")
                return
            mismatch = self._other_database(self.engine)
            if mismatch:
                self._refuse(failure.kind, mismatch, ["make the command and the guard use the same URL "
                                                      "(DATABASE_URL or --database-url)"])
                return
            pending = framework.pending(self.engine) or []
            self._note_files(pending)
            ctx = Context(failure, self.engine, dialect, framework, pending, self.env, self.settings, number,
                          acted_on)
            signature = (failure.kind, _object(failure), failure.revision)
            if signature in acted_on and failure.kind not in ("type_catalog_conflict", "history_table_conflict"):
                self._refuse(failure.kind, f"the same failure came back after the guard acted on it "
                                           f"({_object(failure)}): the recovery did not take",
                             ["read the log tail; the database may be changing under the guard"])
                return
            decision = plan.decide(ctx)
            if decision.refusal is not None:
                self.report.refusals.append(decision.refusal)
                self.progress.say(f"refused: {decision.refusal.reason}")
                status = "failed" if failure.kind in NOT_RECOVERABLE else "refused"
                self._finish(status, f"{'Failed' if status == 'failed' else 'Refused'}: {decision.refusal.reason}")
                return
            acted_on.add(signature)
            acted_on.add((failure.kind,))
            if not self._apply(decision, ctx, child_plan):
                return
            pending = framework.pending(self.engine) or []
        self._finish("failed", f"Still failing after {self.settings.max_attempts} attempts (--max-attempts).")

    def _apply(self, decision, ctx, child_plan: dict) -> bool:
        from migration_guard.recovery import journal
        from migration_guard.recovery.steps import StepFailed

        for step in decision.steps:
            action = step.action
            action.id = self._action_id()
            self.phase = f"applying recovery {action.kind} (rolled back if it had not committed)"
            self.progress.say(f"recovery {action.kind} on {action.target}:")
            for line in action.evidence:
                self.progress.say(f"    {line}")
            try:
                if step.changes_database:
                    journal.record(ctx.engine, self.run_id, action,
                                   "applying" if step.journals_itself else "started")
                faults.point("before-apply")
                step.apply(ctx, child_plan)
                faults.point("after-apply")
                if step.changes_database:
                    journal.record(ctx.engine, self.run_id, action, "applied")
            except StepFailed as exc:
                self.report.actions.append(action)
                self._finish("failed", f"Recovery step {action.kind} failed: {exc}")
                return False
            except GuardError:
                raise
            except Exception as exc:  # a database error while applying: the transaction rolled back
                self.report.actions.append(action)
                self._finish("failed", f"Recovery step {action.kind} failed and was rolled back: "
                             f"{urls.mask_text(str(getattr(exc, 'orig', exc)).splitlines()[0], self.secrets)}")
                return False
            action.applied = True
            self.report.actions.append(action)
        ctx.refresh()
        faults.point("before-rerun")
        return True

    def _dry_run(self, framework, engine, dialect, pending) -> None:
        from migration_guard.preflight import check

        check.dry_run(self, framework, engine, dialect, pending)

    # -- helpers --------------------------------------------------------------------------------------
    def _event(self, event: dict) -> None:
        self.progress.event(event)
        if event.get("e") == "skip":
            # A skip recovery takes effect in the attempt that skips: the child is inside the revision now,
            # and dies with the guard (PDEATHSIG) part-way through the rest of it.
            faults.point("mid-apply")

    def _failure(self, result) -> Failure:
        from migration_guard.diagnose import diagnose_text, primary, sql
        from migration_guard.diagnose.failure import Failure
        from migration_guard.diagnose.structured import from_driver

        failure = primary(diagnose_text(result.output)) or Failure(
            "unknown", message=(result.output.strip().splitlines() or ["(no output)"])[-1][:500])
        event = self.progress.failed_event
        if event and failure.kind == "unknown":
            failure = from_driver(event, self.report.database.get("dialect") or "") or failure
        if event:
            failure.revision = failure.revision or event.get("revision")
            if event.get("statement"):
                failure.statement = event["statement"]
                parsed = sql.parse(failure.statement) if failure.table is None else None
                if parsed is not None and parsed.verb == "alter":  # MySQL and SQLite messages leave the table out
                    failure.table = parsed.table
            failure.sqlstate = failure.sqlstate or event.get("sqlstate")
            failure.errno = failure.errno or event.get("errno")
        if failure.statement:
            failure.statement = urls.mask_text(failure.statement, self.secrets)
        if failure.key:
            from migration_guard.recovery.duplicates import mask_key

            failure.key = mask_key(failure.key)
        return failure

    def _other_database(self, engine) -> str | None:
        """The child's own connections, as its hook saw them, must be to the database the guard holds."""
        for seen in self.progress.connected:
            if seen.get("dialect") and not _same_database(seen, engine.url):
                return (f"the command connected to database {seen.get('database')!r} on {seen.get('host')}, "
                        f"but the guard locked {engine.url.database!r}: it will not act on a database it "
                        "does not hold")
        return None

    def _note_files(self, pending) -> None:
        for rev in pending or ():
            if rev.path:
                path = Path(rev.path)
                inside = path.is_absolute() and path.is_relative_to(self.cwd)
                self.report.revision_files[rev.id] = str(path.relative_to(self.cwd) if inside else path)

    def _refuse(self, kind: str, reason: str, steps: list[str]) -> None:
        from migration_guard.report.model import Refusal

        self.report.refusals.append(Refusal(kind, reason, steps))
        self.progress.say(f"refused: {reason}")
        self._finish("refused", f"Refused: {reason}")

    def _finish(self, status: str, summary: str) -> None:
        self.report.status = status
        self.report.summary = urls.mask_text(summary, self.secrets)

    def _action_id(self) -> str:
        self._ids += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        return f"mg-{stamp}-{os.urandom(2).hex()}-{self._ids}"


class Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


def _same_database(seen: dict, url) -> bool:
    if urls.dialect_of(url) == "sqlite":
        return Path(seen.get("database") or "").resolve() == Path(url.database or "").resolve()
    if seen.get("database") != url.database:
        return False
    return seen.get("port") is None or url.port is None or seen.get("port") == url.port


def _object(f: Failure) -> str:
    if f.column and f.table:
        return f"{f.table}.{f.column}"
    return f.object_name or f.constraint or f.table or ""


def _which(program: str, path: str | None) -> str | None:
    import shutil

    return shutil.which(program, path=path)
