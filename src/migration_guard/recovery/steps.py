"""What a Decision does when applied. Each step carries the report Action that records it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import text

from migration_guard import faults
from migration_guard.frameworks.base import Revision
from migration_guard.report.model import Action, Refusal


@dataclass
class Step:
    action: Action
    changes_database = False  # steps that do are journalled before and after (recovery/journal.py)
    # True when the step writes its journal row's 'applied' in the transaction that makes its change, so
    # a row left at 'applying' by a killed run means that transaction never committed.
    journals_itself = False

    def apply(self, ctx, plan: dict) -> None:
        raise NotImplementedError


@dataclass
class SkipStatements(Step):
    """Next attempt: the child's hook replaces these statements of one revision by a no-op."""

    revision: str = ""
    statements: list[str] = field(default_factory=list)

    def apply(self, ctx, plan: dict) -> None:
        plan.setdefault("skip", {}).setdefault(self.revision or "*", []).extend(self.statements)


@dataclass
class MarkApplied(Step):
    """Record revisions as applied without running them, through the tool's own command."""

    upto: Revision | None = None
    run: list[Revision] = field(default_factory=list)  # every revision recorded, `upto` last
    changes_database = True

    def apply(self, ctx, plan: dict) -> None:
        run = ctx.framework.record_applied(self.run or [self.upto], ctx.env)
        self.action.statements.extend(run.summary or [" ".join(run.argv[-2:])])
        if run.exit_code != 0:
            raise StepFailed(f"`{' '.join(run.argv)}` failed: {run.output.strip().splitlines()[-1:]}")


@dataclass
class RunSQL(Step):
    """Statements the guard runs itself, in one transaction (PostgreSQL DDL is transactional)."""

    sql: list[str] = field(default_factory=list)
    changes_database = True
    journals_itself = True

    def apply(self, ctx, plan: dict) -> None:
        from migration_guard.recovery import journal

        with ctx.engine.begin() as conn:
            if ctx.dialect == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            for statement in self.sql:
                conn.execute(text(statement))
            faults.point("mid-apply")
            journal.applied_within(conn, self.action.id)
        self.action.statements.extend(self.sql)


@dataclass
class Wait(Step):
    seconds: float = 1.0

    def apply(self, ctx, plan: dict) -> None:
        time.sleep(self.seconds)


class StepFailed(Exception):
    pass


@dataclass
class Decision:
    steps: list[Step] = field(default_factory=list)
    refusal: Refusal | None = None

    @classmethod
    def refuse(cls, kind: str, reason: str, steps: list[str] | None = None, sql: list[str] | None = None):
        return cls(refusal=Refusal(kind, reason, steps or [], sql or []))
