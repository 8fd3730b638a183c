"""What the person watching the demo reads: headings, progress lines, and other programs' output,
indented under a gutter so it is always clear whose words are whose."""

from __future__ import annotations

import re
import sys
import threading

GUTTER = "  | "
_lock = threading.Lock()  # replicas stream from threads; a line must never be cut by another


def say(text: str = "") -> None:
    with _lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def heading(text: str) -> None:
    say()
    say(f"== {text} " + "=" * max(3, 96 - len(text)))


def step(text: str) -> None:
    say(f"-> {text}")


def quoted(lines: str | list[str], label: str = "") -> None:
    """Someone else's text (a command's output, a report), under the gutter."""
    if isinstance(lines, str):
        lines = lines.rstrip("\n").splitlines()
    for line in lines:
        say(f"{GUTTER}{label}{line}".rstrip())


def table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    """A plain-text table, for query results."""
    cells = [tuple("NULL" if v is None else str(v) for v in row) for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return lines


class TracebackFolder:
    """Folds the frames of a Python traceback into one line: the exception lines, which say what
    failed, stay; the frames are noise in a demo (the report keeps the full log)."""

    def __init__(self) -> None:
        self._in_traceback = False
        self._frames = 0

    def feed(self, line: str) -> list[str]:
        if self._in_traceback and (line.startswith("  ") or not line.strip()):
            self._frames += 1
            return []
        out = self._flush()
        self._in_traceback = line.startswith("Traceback (most recent call last)")
        return [*out, line]

    def _flush(self) -> list[str]:
        frames, self._frames = self._frames, 0
        return [f"  ... {frames} lines of traceback frames not shown ..."] if frames else []

    def close(self) -> list[str]:
        self._in_traceback = False
        return self._flush()


# `psycopg.errors.UniqueViolation: ...`, `KeyError: ...`: a dotted exception name, or a bare one that says so.
_EXCEPTION_LINE = re.compile(r"^(?:(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*|[A-Za-z_]\w*(?:Error|Exception)): \S")


def first_error_line(output: str) -> str:
    """The line that says why a command failed: the first exception line, else alembic's FAILED line,
    else the last line."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if _EXCEPTION_LINE.match(line) or line.startswith("FAILED:"):
            return line
    return lines[-1] if lines else "(no output)"
