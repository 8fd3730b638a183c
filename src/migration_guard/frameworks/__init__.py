"""The migration tools a guarded command runs: which one, what is pending, how to record a revision."""

from migration_guard.frameworks.base import Framework, Revision
from migration_guard.frameworks.detect import detect

__all__ = ["Framework", "Revision", "detect"]
