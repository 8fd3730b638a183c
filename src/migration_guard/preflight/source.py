"""Where in the migration file a predicted failure comes from: `path:line`, when it can be told.

The offline SQL does not say which line of `upgrade()` printed a statement, so the line is found in
the file itself, read by Python's own parser: the one top-level statement of the upgrade function
whose string literals name the failing object (its table and column, its index, its type), or
whose SQL literal is the failing statement. When no statement or several match, no line is given:
a wrong line is worse than none.
"""

from __future__ import annotations

import ast
from pathlib import Path

from migration_guard.diagnose.failure import Failure
from migration_guard.operations import normalize_statement

_UPGRADE = ("upgrade", "forwards")
_OPERATIONS = {
    "column": {"add_column", "alter_column", "drop_column"},
    "table": {"create_table", "drop_table", "rename_table"},
    "index": {"create_index", "drop_index"},
    "constraint": {"create_unique_constraint", "create_foreign_key", "create_check_constraint",
                   "create_primary_key", "drop_constraint"},
}


def locate(failure: Failure, pending) -> None:
    rev = next((r for r in pending if r.id == failure.revision), None)
    if rev is None or not rev.path or failure.location:
        return
    line = find_line(Path(rev.path), failure)
    if line is not None:
        failure.location = f"{rev.path}:{line}"


def find_line(path: Path, failure: Failure) -> int | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    body = next((node.body for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name in _UPGRADE), None)
    if body is None:
        return None
    statement = normalize_statement(failure.statement or "").lower()
    names = {n.lower() for n in (failure.table, failure.column, failure.object_name) if n}
    by_sql, by_names, nodes = [], [], []
    for node in _statements(body):
        literals = [c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
        if statement and any(normalize_statement(s).lower() == statement for s in literals):
            by_sql.append(node.lineno)
        elif names and names <= {s.lower() for s in literals}:
            by_names.append(node.lineno)
            nodes.append(node)
    found = by_sql or by_names
    if len(found) > 1 and not by_sql:
        # Several statements name the object (an add_column and an index on that column): the
        # operation that makes or changes that kind of object is the one.
        wanted = _OPERATIONS.get(failure.object_type or "", set())
        found = [line for line, node in zip(found, nodes, strict=True) if _calls(node) & wanted]
    return found[0] if len(found) == 1 else None


def literals(pending) -> set[str]:
    """Every string literal of the pending revisions' files: the names their statements will use, as a
    guess made before the statements are printed (a raw SQL string is one literal, not its names)."""
    out: set[str] = set()
    for rev in pending:
        try:
            tree = ast.parse(Path(rev.path).read_text(encoding="utf-8", errors="replace")) if rev.path else None
        except (OSError, SyntaxError, ValueError):
            continue
        if tree is not None:
            out.update(c.value for c in ast.walk(tree) if isinstance(c, ast.Constant) and isinstance(c.value, str))
    return out


def _calls(node: ast.AST) -> set[str]:
    return {c.func.attr for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)}


def _statements(body: list[ast.stmt]):
    """Every statement of the function, looking into with/if/for blocks, not into nested functions."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.With, ast.If, ast.For, ast.While, ast.Try)):
            yield from _statements(getattr(node, "body", []) + getattr(node, "orelse", []))
            continue
        yield node
