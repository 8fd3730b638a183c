"""Lines a person follows in a deploy log: one per revision as it starts and ends, one per recovery."""

from __future__ import annotations

import sys
import time

from migration_guard.frameworks.base import Revision
from migration_guard.report.model import RevisionTiming

PREFIX = "migration-guard:"


class Progress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.pending: list[Revision] = []
        self.timings: list[RevisionTiming] = []
        self.skipped: list[str] = []
        self.connected: list[dict] = []
        self.backends: list[int] = []
        self.failed_event: dict | None = None
        self.attempt = 1
        self._started: dict[str, float] = {}
        self._docs: dict[str, str] = {}
        self._count = 0

    def say(self, text: str) -> None:
        self.stream.write(f"{PREFIX} {text}\n")
        self.stream.flush()

    def begin_attempt(self, number: int, pending: list[Revision]) -> None:
        self.attempt, self.pending = number, list(pending)
        self.timings, self.skipped, self.failed_event, self._count = [], [], None, 0
        if pending:
            self.say(f"attempt {number}: {len(pending)} pending revision(s)")

    def _position(self, revision: str) -> str:
        ids = [r.id for r in self.pending]
        index = ids.index(revision) + 1 if revision in ids else self._count
        return f"[{index}/{max(len(ids), self._count)}]"

    def event(self, event: dict) -> None:
        kind, rev = event.get("e"), event.get("revision") or "?"
        if kind == "start":
            self._count += 1
            self._started[rev] = time.monotonic()
            self._docs[rev] = event.get("doc") or ""
            self.say(f"{self._position(rev)} {rev} {event.get('doc') or ''}".rstrip())
        elif kind in ("end", "fail"):
            ok = kind == "end"
            seconds = float(event.get("seconds") or 0.0)
            self.timings.append(RevisionTiming(rev, self._docs.get(rev, ""), status="ok" if ok else "failed",
                                               duration_s=seconds, attempt=self.attempt))
            tail = "" if ok else f" ({event.get('error', 'error').rsplit('.', 1)[-1]})"
            self.say(f"{self._position(rev)} {rev} ... {'ok' if ok else 'failed'} {seconds:.1f}s{tail}")
            if not ok:
                self.failed_event = event
        elif kind == "skip":
            statement = " ".join(str(event.get("statement", "")).split())
            self.skipped.append(statement)
            self.say(f"    skipped in {rev}, already satisfied: {statement[:200]}")
        elif kind == "connect":
            self.connected.append(event)
        elif kind == "backend":
            self.backends.append(int(event.get("pid") or 0))
        elif kind == "warning":
            self.say(f"warning: {event.get('message')}")
