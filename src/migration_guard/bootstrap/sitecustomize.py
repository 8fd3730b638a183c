"""Installed in the user's migration process by migration-guard (stdlib only, chained).

Why a sitecustomize: the guard must run the user's migrations as written (no edits to env.py or
to migration files) and still (1) report each revision as it starts and ends, (2) capture the
failing statement with its SQLSTATE/errno from the driver, and (3) replace by a no-op exactly the
statements the guard's plan proves already satisfied. Hooks are installed lazily, when the child
itself imports SQLAlchemy, Alembic or Django, so a process that never does pays nothing. Django
gets an execute_wrapper on every connection and a wrapper around MigrationExecutor.apply_migration
(and, on SQLite, a check before each table rebuild).

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


def _pass_gate():
    """Started early (runtime/child.py, Early), the command waits here, before its first database
    connection, until the guard opens the gate and hands over its plan. A gate closed without a word
    means the guard will not run this command: leave, having touched nothing."""
    fd = _state.pop("gate", None)
    if fd is None:
        return
    data = _read_gate(fd)
    with contextlib.suppress(OSError):
        os.close(fd)
    if not data.startswith(b"go"):
        os._exit(75)
    path = data[2:].decode("utf-8", "replace").strip()
    if path:
        os.environ["MIGRATION_GUARD_PLAN_FILE"] = path
    _load_plan()


def _read_gate(fd, size=None):
    """What the guard writes on the gate: `size` bytes (the hold's word; what follows is the connection
    gate's), or everything until the guard closes it."""
    data = b""
    with contextlib.suppress(OSError):
        while size is None or len(data) < size:
            chunk = os.read(fd, 4096 if size is None else size - len(data))
            if not chunk:
                break
            data += chunk
    return data


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

    def do_connect(*_args):
        _pass_gate()

    event.listen(Engine, "do_connect", do_connect)
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


def _wrap(fn, revision, doc, is_upgrade, error_fields=_error_fields):
    def run(*args, **kwargs):
        _state["revision"] = revision
        _emit("start", revision=revision, doc=(doc or "").strip().split("\n")[0][:200], upgrade=is_upgrade)
        began = time.monotonic()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _emit("fail", revision=revision, seconds=round(time.monotonic() - began, 3), **error_fields(exc))
            raise
        finally:
            _state["revision"] = None
        _emit("end", revision=revision, seconds=round(time.monotonic() - began, 3))
        return result

    run.__name__ = getattr(fn, "__name__", "upgrade")
    return run


# -- Alembic batch mode (SQLite) -----------------------------------------------------------------
class BatchDataLossError(Exception):
    """Alembic's batch mode was about to rebuild a table without copying the values of a column it keeps."""


def _hook_batch(module):
    """A batch add_column of a column the live table already has (a hotfix) makes alembic rebuild the
    table with the new column in its place and copy nothing into it: the values are silently lost.
    Stop before the rebuild, only when the column holds values, with the statement that would have run."""
    impl_cls = module.ApplyBatchImpl
    original = impl_cls._transfer_elements_to_new_table

    def _transfer_elements_to_new_table(self):
        original(self)
        conn = getattr(self.impl, "connection", None)
        if conn is None or getattr(self.impl, "as_sql", False):
            return
        from sqlalchemy import func, select
        from sqlalchemy.schema import CreateTable

        for name, transfer in self.column_transfers.items():
            if "expr" in transfer or name not in self.table.c or name not in self.new_table.c:
                continue
            held = conn.execute(select(func.count()).select_from(self.table)
                                .where(self.table.c[name].isnot(None))).scalar()
            if held:
                exc = BatchDataLossError(
                    f"duplicate column name: {name} (table {self.table.name} already has it, with {held} value(s); "
                    "alembic batch mode would rebuild the table and discard them: migration-guard stopped it "
                    "before any change)")
                exc.statement = str(CreateTable(self.new_table).compile(dialect=conn.dialect)).strip()
                raise exc

    impl_cls._transfer_elements_to_new_table = _transfer_elements_to_new_table


# -- Django ---------------------------------------------------------------------------------------
def _hook_django_executor(module):
    cls = module.MigrationExecutor
    original = cls.apply_migration

    def apply_migration(self, state, migration, *args, **kwargs):
        _state["django_failed"] = None
        run = _wrap(original, f"{migration.app_label}.{migration.name}",
                    re.sub(r"^\d+_", "", migration.name).replace("_", " "), True, _django_error_fields)
        return run(self, state, migration, *args, **kwargs)

    cls.apply_migration = apply_migration


def _hook_django_backend(module):
    """Every Django connection gets the guard's execute_wrapper, outermost, for its whole life."""
    cls = module.BaseDatabaseWrapper
    original, original_connect = cls.__init__, cls.connect

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.execute_wrappers.insert(0, _django_execute)

    def connect(self, *args, **kwargs):
        _pass_gate()
        return original_connect(self, *args, **kwargs)

    cls.__init__ = __init__
    cls.connect = connect


def _django_execute(execute, sql, params, many, context):
    conn = context.get("connection")
    if conn is not None and id(conn) not in _state["seen_engines"]:
        _state["seen_engines"].add(id(conn))
        with contextlib.suppress(Exception):
            s, port = conn.settings_dict, str(conn.settings_dict.get("PORT") or "")
            _emit("connect", dialect=conn.vendor, host=s.get("HOST") or None,
                  port=int(port) if port.isdigit() else None, database=str(s.get("NAME") or "") or None)
    if not many and _state["skip"]:
        # The plan lists statements as `sqlmigrate` renders them: parameters inlined.
        statement = str(sql) if not params else _django_statement(conn, sql, params)
        if _should_skip(statement):
            _emit("skip", revision=_state["revision"], statement=statement)
            return None
    if _state.get("remake"):
        _stop_rebuild(str(sql))
    try:
        return execute(sql, params, many, context)
    except Exception:
        _state["django_failed"] = (conn, sql, None if many else params)
        raise


# -- Django's table rebuilds (SQLite) ------------------------------------------------------------
class RebuildDataLossError(Exception):
    """Django's SQLite schema editor was about to rebuild a table over values of a column it makes anew."""


def _hook_django_sqlite_schema(module):
    """Django rebuilds a SQLite table (new__t) from the migration's state, not from the live table: a column
    the migration adds that is already there (a hotfix) is made again and filled with the field's default,
    so its values are silently replaced. Stop at the rebuild's CREATE TABLE, before any change, only when
    that column holds values; the guard then judges the rebuild as a whole."""
    cls = module.DatabaseSchemaEditor
    original = cls._remake_table

    def _remake_table(self, model, create_field=None, delete_field=None, alter_fields=None):
        column = getattr(create_field, "column", None)
        held = 0 if self.collect_sql or not column else _held(self.connection, model._meta.db_table, column)
        _state["remake"] = (model._meta.db_table, column, held) if held else None
        try:
            return original(self, model, create_field, delete_field, alter_fields)
        finally:
            _state["remake"] = None

    cls._remake_table = _remake_table


def _held(connection, table, column):
    """How many rows of the live table hold a value in `column` (0 when there is no such column)."""
    def q(name):
        return '"' + name.replace('"', '""') + '"'

    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({q(table)})")
        if column.casefold() not in {row[1].casefold() for row in cursor.fetchall()}:
            return 0
        cursor.execute(f"SELECT count(*) FROM {q(table)} WHERE {q(column)} IS NOT NULL")
        return cursor.fetchone()[0]


def _stop_rebuild(statement):
    table, column, held = _state["remake"]
    if not _normalize(statement).startswith(f'CREATE TABLE "new__{table}"'):
        return
    exc = RebuildDataLossError(
        f"duplicate column name: {column} (table {table} already has it, with {held} value(s); Django's SQLite "
        "rebuild of the table would make it again and fill it with the field's default: migration-guard "
        "stopped it before any change)")
    exc.statement = statement
    raise exc


def _django_statement(conn, sql, params):
    if not params or isinstance(params, dict):
        return str(sql)
    try:  # what Django's own schema editor does when it collects SQL instead of running it
        return str(sql) % tuple(map(conn.schema_editor(collect_sql=True).quote_value, params))
    except Exception:
        return str(sql)


def _django_error_fields(exc):
    """Django re-raises the driver's error as django.db.utils.*; the driver's own is its __cause__."""
    failed, _state["django_failed"] = _state.get("django_failed"), None
    cause = exc.__cause__ if type(exc).__module__ == "django.db.utils" else None
    fields = _error_fields(cause if isinstance(cause, Exception) else exc)
    if failed is not None and "statement" not in fields:
        fields["statement"] = _django_statement(*failed)[:20000]
    return fields


# -- lazy post-import hooks -----------------------------------------------------------------------
_HOOKS = {"sqlalchemy": _hook_sqlalchemy, "alembic.runtime.migration": _hook_alembic,
          "alembic.operations.batch": _hook_batch,
          "django.db.migrations.executor": _hook_django_executor,
          "django.db.backends.base.base": _hook_django_backend,
          "django.db.backends.sqlite3.schema": _hook_django_sqlite_schema}


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


def _next_sitecustomize():
    """The sitecustomize.py this one shadows on sys.path, if any."""
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        folder = os.path.abspath(entry or ".")
        candidate = os.path.join(folder, "sitecustomize.py")
        if folder != here and os.path.isfile(candidate):
            return candidate
    return None


def _chain_next_sitecustomize():
    candidate = _next_sitecustomize()
    if candidate:
        spec = importlib.util.spec_from_file_location("_migration_guard_next_sitecustomize", candidate)
        if spec and spec.loader:
            with contextlib.suppress(Exception):
                spec.loader.exec_module(importlib.util.module_from_spec(spec))


# The modules a tool's console script starts from, imported while the guard still asks for the lock
# (_hold): the tool's own code, the same import the script makes first, and none of the project's.
_WARM = {"alembic.config", "flask.cli"}


def _hold():
    """Started before the guard holds the lock (runtime/child.py, Early with hold), the command has done
    nothing yet but start Python: it imports the tool's entry module, which its console script would
    import first anyway, then waits for the guard's word that the lock is held. A gate closed without
    it means another migrator has the lock: leave, having run none of the project's code."""
    fd = _state["gate"]
    if not _next_sitecustomize():  # a project's own one runs before the tool's import, as it would without us
        entry = _entry_module(sys.argv[0] if sys.argv else "")
        if entry in _WARM:
            with contextlib.suppress(Exception):  # the script's own import meets any trouble, and says it
                importlib.import_module(entry)
    if _read_gate(fd, 5) != b"lock\n":
        os._exit(75)


def _entry_module(script):
    """The module a console script (pip's, uv's) imports its entry point from; None for anything else."""
    try:
        with open(script, encoding="utf-8") as fh:
            head = fh.read(1024)
    except (OSError, ValueError):
        return None
    found = re.search(r"^from ([A-Za-z_][\w.]*) import \w+$", head, re.M)
    return found.group(1) if found and "sys.exit(" in head else None


if os.environ.get("MIGRATION_GUARD_CHILD") == "1":
    if os.environ.get("MIGRATION_GUARD_GATE_FD", "").isdigit():
        _state["gate"] = int(os.environ.pop("MIGRATION_GUARD_GATE_FD"))
    else:
        _load_plan()
    if os.environ.get("MIGRATION_GUARD_REHEARSE") == "1":  # see _mg_rehearse.py: nothing can commit
        import _mg_rehearse

        _mg_rehearse.install(_HOOKS, _state, _emit)
    sys.meta_path.insert(0, _PostImportFinder())  # before _hold's import, which brings SQLAlchemy in
    if "gate" in _state and os.environ.pop("MIGRATION_GUARD_HOLD", "") == "1":
        _hold()
_chain_next_sitecustomize()
