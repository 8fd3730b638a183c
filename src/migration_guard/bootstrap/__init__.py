"""Code that runs inside the user's migration process (see sitecustomize.py).

The guard puts this folder first on the child's PYTHONPATH. It must import nothing from
migration_guard or third-party packages at start-up: the child may run in another virtualenv.
"""

import os

# A string, not a Path: the guard imports this on its way to starting the command (runtime/front.py).
DIR = os.path.dirname(os.path.realpath(__file__))
EVENT_PREFIX = "\x1emigration-guard:"
