"""What `run` would do about each predicted failure, in the order it would meet them.

`run` meets the first failure, and the planner (recovery/plan.py) either recovers or refuses; after
a recovery it runs again and meets the next one. The findings are walked the same way, with the same
planner, so the prediction says what the run would do and which failures it would meet at all:

- a recovery that skips statements, or records revisions as applied, covers the later findings in
  those statements and revisions: the run never meets them;
- a refusal stops the run: the findings after it are not reached. They are still listed (a human
  fixing the first may as well fix them all), but not as failures the run would meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migration_guard.operations import normalize_statement
from migration_guard.preflight.model import Finding

if TYPE_CHECKING:
    from migration_guard.recovery.steps import Decision


@dataclass
class Outcome:
    finding: Finding
    decision: Decision | None = None
    reached: bool = True
    why_not: str = ""  # for a finding the run would not meet
    action_ids: list[str] = field(default_factory=list)

    @property
    def run_would(self) -> str:
        if not self.reached:
            return f"not reached: {self.why_not}"
        if self.decision is None or self.decision.refusal is not None:
            return "refuse"
        return " then ".join(step.action.kind for step in self.decision.steps) or "nothing"

    def to_dict(self) -> dict:
        refusal = self.decision.refusal if self.decision else None
        return {"failure": self.finding.failure.to_dict(), "found_by": self.finding.found_by,
                "reached": self.reached, "run_would": self.run_would, "actions": list(self.action_ids),
                "refusal": refusal.reason if refusal else None, "evidence": list(self.finding.evidence),
                "counts": dict(self.finding.counts)}


def walk(ctx, findings: list[Finding]) -> list[Outcome]:
    """Plan each finding the run would meet, with ctx.failure set to it, as `run` would after it failed."""
    if not findings:
        return []
    # The planner and every recovery behind it are imported only for a check that found something.
    from migration_guard.recovery import plan
    from migration_guard.recovery.steps import MarkApplied, SkipStatements

    skipped: dict[str, set[str]] = {}
    recorded: dict[str, str] = {}  # revision -> the recovery that records it without running it
    stop = ""
    out: list[Outcome] = []
    order = [r.id for r in ctx.pending]
    for finding in findings:
        f = finding.failure
        if stop:
            out.append(Outcome(finding, reached=False, why_not=stop))
            continue
        if f.revision in recorded:
            out.append(Outcome(finding, reached=False, why_not=f"revision {f.revision} is recorded as applied "
                                                              f"without running ({recorded[f.revision]})"))
            continue
        if normalize_statement(f.statement or "") in skipped.get(f.revision or "", set()):
            out.append(Outcome(finding, reached=False, why_not="the recovery of an earlier failure in the same "
                                                              "revision skips this statement as satisfied"))
            continue
        ctx.failure = f
        decision = plan.decide(ctx)
        out.append(Outcome(finding, decision))
        if decision.refusal is not None:
            stop = f"the run stops at the refusal of the {f.kind} failure in revision {f.revision}"
            continue
        for step in decision.steps:
            if isinstance(step, SkipStatements):
                skipped.setdefault(step.revision, set()).update(normalize_statement(s) for s in step.statements)
            elif isinstance(step, MarkApplied) and step.upto is not None and f.revision in order:
                for rev in order[order.index(f.revision): order.index(step.upto.id) + 1]:
                    recorded[rev] = step.action.kind
    return out
