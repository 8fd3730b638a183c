"""Reading the user's command line: which program, which options, which subcommand."""

from __future__ import annotations

import shlex

from migration_guard.frameworks.base import program_name

SHELLS = {"sh", "bash", "dash", "zsh", "ash"}
SEPARATORS = {"&&", "||", ";", "|"}


def segments(argv: list[str]) -> list[list[str]]:
    """The simple commands inside argv, looking through `sh -c "a && b"` wrappers."""
    if argv and program_name(argv[0]) in SHELLS and "-c" in argv[1:]:
        i = argv.index("-c")
        if i + 1 < len(argv):
            try:
                inner = shlex.split(argv[i + 1], posix=True)
            except ValueError:
                inner = argv[i + 1].split()
            return segments(inner)
    out, cur = [], []
    for tok in argv:
        if tok in SEPARATORS:
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(tok)
    if cur:
        out.append(cur)
    # `exec`, `env A=B`, `poetry run`, `pipenv run`, `uv run` only launch what follows.
    cleaned = []
    for seg in out:
        while seg and (seg[0] in ("exec", "env", "time", "nice") or ("=" in seg[0] and not seg[0].startswith("-"))):
            seg = seg[1:]
        while len(seg) > 1 and program_name(seg[0]) in ("poetry", "pipenv", "uv", "pdm", "hatch") \
                and seg[1] == "run":
            seg = seg[2:]
        cleaned.append(seg)
    return cleaned


def find_program(seg: list[str], name: str) -> int | None:
    """Index just past the program (`alembic`, `python -m alembic`), or None."""
    for i, tok in enumerate(seg):
        if program_name(tok) == name:
            return i + 1
        if tok == "-m" and i + 1 < len(seg) and seg[i + 1] == name:
            return i + 2
    return None


def split_options(tokens: list[str], with_value: set[str]) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """(option tokens, {option: [values]}, positionals) for a click/argparse style command line."""
    opts: list[str] = []
    values: dict[str, list[str]] = {}
    positionals: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("-") and tok != "-":
            name, eq, val = tok.partition("=")
            if name in with_value and not eq:
                val = tokens[i + 1] if i + 1 < len(tokens) else ""
                opts += [tok, val]
                i += 1
            else:
                opts.append(tok)
            values.setdefault(name, []).append(val)
        else:
            positionals.append(tok)
        i += 1
    return opts, values, positionals
