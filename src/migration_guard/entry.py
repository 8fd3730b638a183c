"""The console entry point. A guarded run asks for its lock before the CLI is imported (runtime/front.py)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    from migration_guard.runtime import front

    front.start(sys.argv[1:], dict(os.environ))
    from migration_guard.cli import main as cli

    cli()
