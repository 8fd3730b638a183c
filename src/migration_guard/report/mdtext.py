"""Safe pieces of Markdown for data we did not write: names, SQL, log lines, error messages.

Templates run with autoescape off (HTML escaping would mangle Markdown), so every piece of user data
goes through one of these filters instead: `code` for names and short SQL, `fence` for SQL and logs,
`text` for free text, `prose` for our own sentences (which may carry code spans made by `code`),
and `cell` on top of any of them inside a table.
"""

from __future__ import annotations

import json
import re

_BACKTICK_RUN = re.compile(r"`+")
# A code span opens and closes with backtick runs of the same length (CommonMark 6.1).
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
# Characters that start emphasis, links, HTML or strikethrough inline. Underscore is left alone:
# GitHub ignores intraword underscores, and snake_case names are everywhere in a migration report.
_INLINE_SPECIAL = re.compile(r"([\\`*\[\]<>~])")
_WS = re.compile(r"\s+")


def _longest_backtick_run(s: str) -> int:
    return max((len(m) for m in _BACKTICK_RUN.findall(s)), default=0)


def code(value: object) -> str:
    """An inline code span that holds `value` literally, whatever backticks it contains."""
    s = _WS.sub(" ", str(value)).strip()
    if not s:
        return "` `"
    ticks = "`" * (_longest_backtick_run(s) + 1)
    # A span that starts or ends with a backtick needs a space of padding, which CommonMark strips.
    pad = " " if s[0] == "`" or s[-1] == "`" else ""
    return f"{ticks}{pad}{s}{pad}{ticks}"


def fence(value: object, lang: str = "") -> str:
    """A fenced code block that holds `value` literally; its fence is longer than any backtick run inside."""
    s = str(value).rstrip("\n")
    ticks = "`" * max(3, _longest_backtick_run(s) + 1)
    return f"{ticks}{lang}\n{s}\n{ticks}"


def text(value: object) -> str:
    """Free text from outside (an error message, a revision description) as plain inline Markdown."""
    s = _WS.sub(" ", str(value)).strip()
    return _INLINE_SPECIAL.sub(r"\\\1", s)


def prose(value: object) -> str:
    """Our own sentences: code spans are kept as written, everything else is escaped like `text`."""
    s = _WS.sub(" ", str(value)).strip()
    out: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(s):
        out.append(_INLINE_SPECIAL.sub(r"\\\1", s[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_INLINE_SPECIAL.sub(r"\\\1", s[pos:]))
    return "".join(out)


def sql(statements: object) -> str:
    """One SQL fenced block for a statement or a list of them, each ended by a semicolon."""
    items = [statements] if isinstance(statements, str) else list(statements)  # type: ignore[call-overload]
    parts = [str(s).strip() for s in items if str(s).strip()]
    # A blank line between statements only when one spans lines; one-liners read better packed.
    sep = "\n\n" if any("\n" in p for p in parts) else "\n"
    return fence(sep.join(p if p.endswith(";") else p + ";" for p in parts), "sql")


def data(value: object) -> str:
    """A recorded value (a dropped type's definition, catalog facts) as a JSON block, keys sorted."""
    return fence(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str), "json")


def cell(value: object) -> str:
    """Make already-formatted inline Markdown safe inside a table cell.

    GitHub splits cells on every unescaped `|`, even inside a code span, and un-escapes `\\|` there, so
    escaping the pipe is right in both places. A newline would end the row.
    """
    s = _WS.sub(" ", str(value)).strip()
    return s.replace("|", "\\|") if s else " "


def shorten(value: object, limit: int = 80) -> str:
    """One line of at most `limit` characters, for quoting a statement inside a sentence."""
    s = _WS.sub(" ", str(value)).strip()
    return s if len(s) <= limit else s[: limit - 3].rstrip() + "..."


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


_FENCE_LINE = re.compile(r"^ {0,3}(`{3,})")


def _fence_update(line: str, open_fence: str | None) -> str | None:
    """The fence left open after `line`, given the one open before it (None when outside a block)."""
    m = _FENCE_LINE.match(line)
    if not m:
        return open_fence
    if open_fence is None:
        return m.group(1)
    # A closing fence is at least as long as the opening one and carries nothing but spaces after it.
    if len(m.group(1)) >= len(open_fence) and not line[m.end() :].strip():
        return None
    return open_fence


def tidy(md: str) -> str:
    """Collapse blank-line runs and trailing spaces that template logic leaves, never inside code blocks."""
    out: list[str] = []
    open_fence: str | None = None
    for line in md.splitlines():
        if open_fence is None:
            line = line.rstrip()
            if not line and (not out or not out[-1]):
                continue
        out.append(line)
        open_fence = _fence_update(line, open_fence)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def cut(md: str, limit: int, notice: str) -> str:
    """At most `limit` characters of whole lines, ending with `notice`; an open code block is closed."""
    lines = md.splitlines()
    # fences[i] and used[i]: the fence open after the first i lines, and their length with newlines.
    fences: list[str | None] = [None]
    used = [0]
    for line in lines:
        fences.append(_fence_update(line, fences[-1]))
        used.append(used[-1] + len(line) + 1)
    keep = len(lines)
    while keep > 0:
        closing = len(fences[keep] or "") + 1
        if used[keep] + closing + len(notice) + 2 <= limit:
            break
        keep -= 1
    out = lines[:keep] + ([fences[keep]] if fences[keep] else [])
    return "\n".join(out).rstrip() + "\n\n" + notice + "\n"
