"""Installed in the user's migration process by migration-guard (stdlib only, chained).

Why a sitecustomize: the guard must run the user's migrations as written (no edits to env.py or
to migration files) and still (1) report each revision as it starts and ends, (2) capture the
failing statement with its SQLSTATE/errno from the driver, and (3) replace by a no-op exactly the
statements the guard's plan proves already satisfied. Hooks are installed lazily, when the child
itself imports SQLAlchemy, Alembic or Django, so a process that never does pays nothing.

Talks to the guard with one-line JSON events on stderr, prefixed by EVENT_PREFIX.
"""

import contextlib
import importlib.util
import json
import os
import re
import sys
import time

_PREFIX = "\x1emigration-guard:"
_WS = re.compile(r"\s+")
_NOOP = {"postgresql": "SELECT 1 WHERE false", "mysql": "DO 0", "mariadb": "DO 0", "sqlite": "SELECT 1 WHERE 0"}
_state = {"revision": None, "skip": {}, "seen_engines": set()}


def _emit(event, **data):
    data["e"] = event
    with contextlib.suppress(OSError):
        os.write(2, (_PREFIX + json.dumps(data, default=str) + "\n").encode("utf-8", "replace"))


def _normalize(sql):
    return _WS.sub(" ", sql).strip().rstrip(";").strip()


def _load_plan():
    path = os.environ.get("MIGRATION_GUARD_PLAN_FILE")
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as fh:
            plan = json.load(fh)
    except (OSError, ValueError) as exc:
        _emit("warning", message=f"cannot read the guard's plan {path}: {exc}")
        return
    _state["skip"] = {rev: {_normalize(s) for s in stmts} for rev, stmts in plan.get("skip", {}).items()}


def _should_skip(statement):
    skip = _state["skip"]
    if not skip:
        return False
    norm = _normalize(statement)
    return norm in skip.get(_state["revision"] or "", ()) or norm in skip.get("*", ())


def _error_fields(exc):
    orig = getattr(exc, "orig", None) or exc
    fields = {"error": f"{type(orig).__module__}.{type(orig).__name__}",
              "message": (str(orig).strip().splitlines() or [""])[0][:2000]}
    statement = getattr(exc, "statement", None)
    if statement:
        fields["statement"] = str(statement)[:20000]
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    if code:
        fields["sqlstate"] = code
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        fields["errno"] = args[0]
    return fields


# -- SQLAlchemy -----------------------------------------------------------------------------------
def _hook_sqlalchemy(_module):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        engine = conn.engine
        if id(engine) not in _state["seen_engines"]:
            _state["seen_engines"].add(id(engine))
            try:
                url = engine.url
                _emit("connect", dialect=engine.dialect.name, host=url.host, port=url.port,
                      database=url.database)
            except Exception:
                pass
        if not executemany and _should_skip(statement):
            _emit("skip", revision=_state["revision"], statement=statement)
            noop = "/* migration-guard: already satisfied, skipped */ " + _NOOP.get(engine.dialect.name,
                                                                                      "SELECT 1")
            return noop, type(parameters)() if isinstance(parameters, (dict, list, tuple)) else parameters
        return statement, parameters

    def on_connect(dbapi_connection, _record):
        # The server session's id lets the guard end it if the command is stopped mid-statement: the
        # server only notices a vanished client when it next writes to it, which a long statement
        # does not do.
        info = getattr(dbapi_connection, "info", None)
        pid = getattr(info, "backend_pid", None)
        if pid is None and hasattr(dbapi_connection, "thread_id"):
            try:
                pid = dbapi_connection.thread_id()
            except Exception:
                pid = None
        if pid is not None:
            _emit("backend", pid=pid)

    event.listen(Engine, "before_cursor_execute", before_cursor_execute, retval=True)
    event.listen(Engine, "connect", on_connect)


# -- Alembic --------------------------------------------------------------------------------------
def _hook_alembic(module):
    step_cls = module.RevisionStep
    original_init = step_cls.__init__

    def __init__(self, revision_map, revision, is_upgrade):
        original_init(self, revision_map, revision, is_upgrade)
        self.migration_fn = _wrap(self.migration_fn, revision.revision, revision.doc, is_upgrade)

    step_cls.__init__ = __init__


def _wrap(fn, revision, doc, is_upgrade):
    def run(*args, **kwargs):
        _state["revision"] = revision
        _emit("start", revision=revision, doc=(doc or "").strip().split("\n")[0][:200], upgrade=is_upgrade)
        began = time.monotonic()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _emit("fail", revision=revision, seconds=round(time.monotonic() - began, 3), **_error_fields(exc))
            raise
        finally:
            _state["revision"] = None
        _emit("end", revision=revision, seconds=round(time.monotonic() - began, 3))
        return result

    run.__name__ = getattr(fn, "__name__", "upgrade")
    return run


# -- lazy post-import hooks -----------------------------------------------------------------------
_HOOKS = {"sqlalchemy": _hook_sqlalchemy, "alembic.runtime.migration": _hook_alembic}


class _PostImportFinder:
    """Runs a hook right after a named module finishes executing, wherever it is imported from."""

    def find_spec(self, name, path, target=None):
        if name not in _HOOKS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        hook, exec_module = _HOOKS.pop(name), spec.loader.exec_module

        def exec_and_hook(module):
            exec_module(module)
            try:
                hook(module)
            except Exception as exc:  # never break the user's migration because of the guard
                _emit("warning", message=f"migration-guard hook for {name} failed: {exc!r}")

        spec.loader.exec_module = exec_and_hook
        return spec


def _chain_next_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        folder = os.path.abspath(entry or ".")
        candidate = os.path.join(folder, "sitecustomize.py")
        if folder != here and os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_migration_guard_next_sitecustomize", candidate)
            if spec and spec.loader:
                with contextlib.suppress(Exception):
                    spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


if os.environ.get("MIGRATION_GUARD_CHILD") == "1":
    _load_plan()
    if os.environ.get("MIGRATION_GUARD_REHEARSE") == "1":  # see _mg_rehearse.py: nothing can commit
        import _mg_rehearse

        _mg_rehearse.install(_HOOKS, _state, _emit)
    sys.meta_path.insert(0, _PostImportFinder())
_chain_next_sitecustomize()
