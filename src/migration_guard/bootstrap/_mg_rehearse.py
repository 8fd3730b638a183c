"""Rehearsal mode (MIGRATION_GUARD_REHEARSE=1): the migration runs for real and can never commit.

Standard library only, like sitecustomize.py, which imports this module only in rehearsal mode and
lets it add its own hooks; the skipping hook is not touched. Three layers, each enough on its own
to keep the database unchanged:

1. Server, every session: the guard starts the child with PGOPTIONS `default_transaction_read_only
   = on`, so a transaction this module has not armed cannot write, whatever opens it (a raw driver
   cursor, an autocommit connection, a second engine).
2. Server, every transaction: before the first statement of a transaction runs, it is armed: made
   read-write and given a deferred constraint trigger that raises when the transaction commits. A
   transaction that can write can therefore never commit: its COMMIT fails and rolls it all back.
3. Client: SQLAlchemy's commit is a no-op, so a migration's several transactions stay one and each
   revision sees the ones before it, as in a real run; a switch to autocommit (Alembic's
   autocommit_block), and any revision the guard named as one that cannot run in a transaction
   (CREATE INDEX CONCURRENTLY), stop the rehearsal before their first statement runs.

A stop is reported as a `rehearse_stop` event, so the guard can tell "the migration failed" from
"the rehearsal cannot go on here".
"""

import json
import os

MARK = "migration-guard rehearsal: this transaction is never committed"
_TABLE = "pg_temp.mg_rehearsal_never_commit"
_ARM = (
    "SET TRANSACTION READ WRITE",
    "CREATE TEMP TABLE mg_rehearsal_never_commit (x int)",
    "CREATE FUNCTION pg_temp.mg_rehearsal_never_commit() RETURNS trigger LANGUAGE plpgsql AS "
    f"$mg$BEGIN RAISE EXCEPTION '{MARK}'; END$mg$",
    f"CREATE CONSTRAINT TRIGGER mg_rehearsal_never_commit AFTER INSERT ON {_TABLE} "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.mg_rehearsal_never_commit()",
    f"INSERT INTO {_TABLE} VALUES (1)",
)
_IDLE, _INTRANS = 0, 2  # libpq's PQtransactionStatus, as psycopg2 and psycopg 3 report it


class RehearsalStop(Exception):
    """The rehearsal cannot go on past this point (it is not a failure of the migration)."""


def install(hooks, state, emit):
    try:
        stops = json.loads(os.environ.get("MIGRATION_GUARD_REHEARSE_STOP") or "{}")
    except ValueError:
        stops = {}

    def stop(reason):
        emit("rehearse_stop", revision=state.get("revision"), reason=reason)
        raise RehearsalStop(f"migration-guard rehearsal stops here: {reason}")

    def hook(module):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine, default
        from sqlalchemy.pool import base

        def no_commit(self, dbapi_connection):
            emit("rehearse_commit", revision=state.get("revision"))

        default.DefaultDialect.do_commit = no_commit
        base._ConnDialect.do_commit = no_commit

        def named_stop():
            reason = stops.get(state.get("revision") or "")
            if reason:
                stop(reason)

        def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
            named_stop()
            dbapi = conn.connection.dbapi_connection
            if getattr(dbapi, "autocommit", True):
                stop("the migration switches to autocommit, so its statements would commit one by one")
            _arm(dbapi, cursor, stop)
            return statement, parameters

        def set_options(conn, opts):
            named_stop()
            if str(opts.get("isolation_level", "")).upper() == "AUTOCOMMIT":
                stop("the migration needs autocommit (autocommit_block), which would commit what ran before it")

        event.listen(Engine, "before_cursor_execute", before_cursor_execute, retval=True)
        event.listen(Engine, "set_connection_execution_options", set_options)

    previous = hooks.get("sqlalchemy")

    def both(module):
        if previous is not None:
            previous(module)
        hook(module)

    hooks["sqlalchemy"] = both


def _status(dbapi):
    info = getattr(dbapi, "info", None)
    status = getattr(info, "transaction_status", None)
    return None if status is None else int(status)


def _arm(dbapi, cursor, stop):
    """Make sure the statement about to run is inside an armed transaction."""
    status = _status(dbapi)
    if status is None:
        stop(f"the driver {type(dbapi).__module__} does not report its transaction state")
    if status == _INTRANS:
        cursor.execute(f"SELECT to_regclass('{_TABLE}') IS NOT NULL")
        if cursor.fetchone()[0]:
            return
        # Opened outside SQLAlchemy's statements (a driver-level query): read-only so far, so it
        # has changed nothing; end it and start an armed one.
        cursor.execute("ROLLBACK")
        status = _status(dbapi)
    if status == _IDLE:
        for sql in _ARM:
            cursor.execute(sql)
