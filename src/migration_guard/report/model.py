"""The report structure every run ends with. Renderers (JSON, Markdown, GitHub) read only this."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from migration_guard.diagnose.failure import Failure

STATUSES = ("succeeded", "recovered", "refused", "failed", "predicted_failure", "clean")


@dataclass
class Action:
    id: str  # unique across runs, e.g. "mg-20261121T083412-1"; `restore` takes it
    # recovery name: skip_satisfied, mark_applied, complete_enum, drop_stale_type, wait_and_retry, ...
    kind: str
    target: str  # what it acts on, e.g. "column settings.google_calendar_client_id" or "revision 1a2b3c"
    evidence: list[str] = field(default_factory=list)  # what the catalog showed, one fact per line
    statements: list[str] = field(default_factory=list)  # SQL run or skipped, as the database saw it
    applied: bool = False  # False in --dry-run and for a plan that was refused before applying
    failure_kind: str | None = None  # the Failure.kind it answers
    revision: str | None = None
    rows_quarantined: int = 0
    quarantine_table: str | None = None
    recorded: dict = field(default_factory=dict)  # e.g. the definition of a dropped type


@dataclass
class Refusal:
    failure_kind: str
    reason: str  # plain words: what differs, what the evidence does not settle
    human_steps: list[str] = field(default_factory=list)  # what a human must check or run
    sql: list[str] = field(default_factory=list)  # SQL a human could run, if any


@dataclass
class RevisionTiming:
    revision: str
    description: str = ""
    status: str = "ok"  # ok, failed, skipped (marked applied without running)
    duration_s: float = 0.0
    attempt: int = 1


@dataclass
class Attempt:
    number: int
    exit_code: int
    duration_s: float
    failure: Failure | None = None
    revisions: list[RevisionTiming] = field(default_factory=list)
    skipped_statements: list[str] = field(default_factory=list)


@dataclass
class Report:
    status: str
    command: list[str]
    framework: str | None = None
    database: dict = field(default_factory=dict)  # {"dialect": ..., "url": masked}
    predicted: list[Failure] = field(default_factory=list)  # the failures a run would meet, in order
    # Every predicted failure with what `run` would do about it (also those a refusal keeps it from reaching):
    # {"failure", "found_by", "reached", "run_would", "actions", "refusal", "evidence", "counts"}
    predictions: list[dict] = field(default_factory=list)
    checked: list[dict] = field(default_factory=list)  # per pending revision: rehearsed, analysed, not analysed
    failures: list[Failure] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    duration_s: float = 0.0
    summary: str = ""  # one line a person reads first
    dry_run: bool = False
    lock_wait_s: float = 0.0
    log_tail: str = ""
    notes: list[str] = field(default_factory=list)
    # revision id -> its migration file (relative to the working directory when inside it), for the
    # annotations that point a reviewer at the failing operation
    revision_files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["predicted"] = [f.to_dict() for f in self.predicted]
        data["failures"] = [f.to_dict() for f in self.failures]
        for a, attempt in zip(data["attempts"], self.attempts, strict=True):
            a["failure"] = attempt.failure.to_dict() if attempt.failure else None
        data["attempts_count"] = len(self.attempts)
        return data
