"""Errors that end a run with a documented exit code and one clear line (never a traceback)."""

from __future__ import annotations


class GuardError(Exception):
    exit_code = 1


class UsageError(GuardError):
    """Bad input or configuration: a malformed URL, an unreadable file, an unknown framework."""

    exit_code = 2


class UnreachableError(GuardError):
    """The database could not be reached, or the lock could not be taken in time."""

    exit_code = 3
