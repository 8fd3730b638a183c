"""Named points where the fault-injection tests kill the guard (MIGRATION_GUARD_FAULT=<point>).

The guarantee under test is that a SIGKILL anywhere leaves the database as before or as after each
step, never in between, and that the next run completes. A point costs one environment lookup.
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
