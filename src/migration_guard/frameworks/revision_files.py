"""The heads of an Alembic project, read from its revision files without importing Alembic or them.

A replica that waited for the lock usually finds the database at head. Knowing that through Alembic
means importing SQLAlchemy and Alembic and executing every revision file, which costs more CPU than
the whole wait, on every replica at once. The heads need much less: the `revision` and
`down_revision` each file assigns at module level. They are read here with `ast`, and only when the
project is plain: one versions folder, every file a plain revision with literal ids, a version table
named literally. Anything else answers None, and the caller asks Alembic, as it always did; so this
can make a replica faster, never make it skip a revision Alembic would run.
"""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

from migration_guard.frameworks.base import Revision

# Alembic's own rule for which files of a versions folder are revisions (script/base.py).
_REVISION_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
_VERSION_TABLE = re.compile(r"""version_table\s*=\s*['"]([^'"]+)['"]""")


def script_folder(ini: Path, section: str, cwd: Path, directory: str | None = None) -> Path | None:
    """The project's script folder (the one holding env.py and versions/), or None when its config
    does anything this reader does not follow."""
    parser = configparser.ConfigParser({"here": str(ini.parent.resolve())})
    try:
        if not parser.read(ini, encoding="utf-8"):
            return None
        options = dict(parser.items(section)) if parser.has_section(section) else {}
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    if any(options.get(k) for k in ("version_locations", "recursive_version_locations", "sourceless")):
        return None
    location = directory or options.get("script_location")
    if not location or (":" in location and not Path(location).is_absolute()):
        return None  # "package:folder" is a resource path, found through the import system
    folder = Path(location)
    return folder if folder.is_absolute() else cwd / folder


def version_table(folder: Path) -> str | None:
    """The version table env.py names, "alembic_version" when it names none, None when it names one
    in a way only running it would tell (a variable, a schema)."""
    try:
        env_py = (folder / "env.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "version_table_schema" in env_py:
        return None
    found = named_version_table(env_py)
    if found:
        return found
    return None if "version_table" in env_py else "alembic_version"


def named_version_table(env_py: str) -> str | None:
    """The version table an env.py names with a string literal (`version_table="..."`), if it does."""
    found = _VERSION_TABLE.search(env_py)
    return found.group(1) if found else None


class Graph:
    """Every revision of the folder: what it builds on, its file and its first doc line."""

    def __init__(self, revisions: dict[str, Revision]):
        self.revisions = revisions
        below = {d for r in revisions.values() for d in r.down}
        self.heads = set(revisions) - below

    def pending(self, applied: set[str]) -> list[Revision] | None:
        """What `upgrade heads` runs from a version table holding `applied`, parents first; None when
        the table names a revision these files do not have (Alembic itself must say what that means)."""
        if not applied <= set(self.revisions):
            return None
        done: set[str] = set()
        stack = list(applied)
        while stack:
            rid = stack.pop()
            if rid not in done:
                done.add(rid)
                stack.extend(self.revisions[rid].down)
        order: list[Revision] = []
        placed = set(done)
        remaining = [r for r in sorted(self.revisions) if r not in done]
        while remaining:
            ready = [r for r in remaining if set(self.revisions[r].down) <= placed]
            if not ready:
                return None  # a cycle: not a history Alembic would run
            for rid in ready:
                order.append(self.revisions[rid])
                placed.add(rid)
            remaining = [r for r in remaining if r not in placed]
        return order


def graph(folder: Path) -> Graph | None:
    """The folder's revisions, or None when a file is not plainly a revision."""
    versions = folder / "versions"
    try:
        files = sorted(p for p in versions.iterdir() if p.is_file() and _REVISION_FILE.fullmatch(p.name))
    except OSError:
        return None
    revisions: dict[str, Revision] = {}
    for path in files:
        found = _read(path)
        if found is None or found.id in revisions:
            return None
        revisions[found.id] = found
    if not revisions or not {d for r in revisions.values() for d in r.down} <= set(revisions):
        return None
    return Graph(revisions)


def heads(folder: Path) -> set[str] | None:
    """The revisions no other revision builds on, or None when a file is not plainly a revision."""
    found = graph(folder)
    return found.heads if found else None


def _read(path: Path) -> Revision | None:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    ids = _ids(tree)
    if ids is None:
        return None
    # Alembic's Script.doc: the docstring up to its first blank line; the report shows its first line.
    doc = (ast.get_docstring(tree) or "").split("\n\n")[0].strip()
    return Revision(ids[0], doc.splitlines()[0] if doc else "", str(path), ids[1])


def _ids(tree: ast.Module) -> tuple[str, tuple[str, ...]] | None:
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                if target.id in values:
                    return None  # assigned twice: only running the file says which one holds
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    return None
    revision, down = values.get("revision"), values.get("down_revision", ...)
    if not isinstance(revision, str) or not revision or down is ...:
        return None
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, (tuple, list)) and all(isinstance(d, str) for d in down):
        return revision, tuple(down)
    return None
