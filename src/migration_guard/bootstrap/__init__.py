"""Code that runs inside the user's migration process (see sitecustomize.py).

The guard puts this folder first on the child's PYTHONPATH. It must import nothing from
migration_guard or third-party packages at start-up: the child may run in another virtualenv.
"""

from pathlib import Path

DIR = Path(__file__).resolve().parent
EVENT_PREFIX = "\x1emigration-guard:"
