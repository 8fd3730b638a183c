"""The console entry point. A guarded run asks for its lock before the CLI is imported (runtime/front.py).

When the command has finished, the report is written and the lock released, the process leaves
without tearing down the interpreter: every deploy waits for the guard's exit, and unloading click,
the driver and the rest costs it time and nothing else. Output is flushed first.
"""

from __future__ import annotations

import contextlib
import os
import sys


def main() -> None:
    from migration_guard.runtime import front

    front.start(sys.argv[1:], dict(os.environ))
    from migration_guard.cli import main as cli

    try:
        cli()
        code = 0
    except SystemExit as done:
        code = done.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code or 0)
