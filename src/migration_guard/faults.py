"""Named points where the fault-injection tests kill the guard (MIGRATION_GUARD_FAULT=<point>).

The guarantee under test is that a SIGKILL anywhere leaves the database as before or as after each
step, never in between, and that the next run completes. A point costs one environment lookup.

"mid-apply" is inside the step's own transaction for a step the guard runs itself, and, for a skip
recovery, the moment the rerun reports its first skipped statement: the command is then inside the
revision and dies with the guard. There MySQL (DDL commits at once) can be left part-way through the
revision, which the next run finds in the catalog and completes.
"""

from __future__ import annotations

import os
import signal

POINTS = ("after-lock", "after-diagnose", "before-apply", "mid-apply", "after-apply", "before-rerun")
# Not a recovery step: the moment the command, started early, waits at its gate for the plan.
AT_GATE = "at-gate"


def point(name: str) -> None:
    if os.environ.get("MIGRATION_GUARD_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
