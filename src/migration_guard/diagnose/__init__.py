"""Read a migration log and say what failed (see failure.py for the vocabulary)."""
