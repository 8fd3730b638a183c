"""Executing the user's command: the child process, its output, its progress."""
