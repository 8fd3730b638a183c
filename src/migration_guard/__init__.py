"""migration-guard: make the migration step of a deploy safe."""

__version__ = "0.1.0"
