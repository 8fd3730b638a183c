"""Where the database is, read and reached without SQLAlchemy.

Every replica of a deploy starts the guard, and all but one of them only wait for the lock and then
find nothing to do. Importing SQLAlchemy costs more CPU than all of that together, and sixteen
replicas on two cores pay it sixteen times over while the one that migrates needs the cores. So the
lock and the up-to-date check run on a plain driver connection, from a URL read here; anything
unusual about the URL (a driver-specific query, an address form this reader does not know) leaves
it to SQLAlchemy's own parser, on the full path.
"""

from __future__ import annotations

import re
import sys
import time
from urllib.parse import parse_qsl, unquote

from migration_guard.errors import UnreachableError

DIALECTS = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql",
            "sqlite": "sqlite"}
# SQLAlchemy's own URL pattern (sqlalchemy.engine.url._parse_url), so that both readers agree on
# every URL this one accepts; tests/infra/test_target.py holds them to that.
_URL = re.compile(
    r"""
    (?P<name>[\w\+]+)://
    (?:
        (?P<username>[^:/]*)
        (?::(?P<password>[^@]*))?
    @)?
    (?:
        (?:
            \[(?P<ipv6host>[^/\?]+)\] |
            (?P<ipv4host>[^/:\?]+)
        )?
        (?::(?P<port>[^/\?]*))?
    )?
    (?:/(?P<database>[^\?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)
# Query keys the plain connection passes on; any other key means the URL is the full path's to read.
_PG_QUERY = {"sslmode", "sslrootcert", "sslcert", "sslkey", "options", "target_session_attrs", "host", "port"}


class Target:
    """A plain class, not a dataclass: `dataclasses` imports `inspect`, a tenth of this path's time."""

    __slots__ = ("database", "dialect", "host", "masked", "password", "port", "query", "user")

    def __init__(self, dialect: str, masked: str, host: str | None = None, port: int | None = None,
                 user: str | None = None, password: str | None = None, database: str | None = None,
                 query: dict[str, str] | None = None):
        self.dialect = dialect  # postgresql, mysql, sqlite
        self.masked = masked  # the URL as reports show it, password replaced
        self.host, self.port, self.user, self.password = host, port, user, password
        self.database, self.query = database, dict(query or {})


def read(raw: str) -> Target | None:
    """A Target for a plain URL; None for anything the full path (SQLAlchemy) should read and judge."""
    text = (raw or "").strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://"):]
    m = _URL.fullmatch(text)
    if m is None:
        return None
    backend, _, driver = m.group("name").partition("+")
    dialect = DIALECTS.get(backend)
    if dialect is None or (driver and driver not in ("psycopg2", "psycopg", "pymysql", "mysqldb", "pysqlite")):
        return None
    query = dict(parse_qsl(m.group("query") or "", keep_blank_values=True))
    if len(query) != len(parse_qsl(m.group("query") or "", keep_blank_values=True)):
        return None  # a repeated key: SQLAlchemy makes a list of it
    password = unquote(m.group("password")) if m.group("password") is not None else None
    masked = text if password is None else text[:m.start("password")] + "***" + text[m.end("password"):]
    if dialect == "sqlite":
        if query or not m.group("database") or m.group("database") == ":memory:":
            return None
        return Target("sqlite", masked, database=m.group("database"))
    port = m.group("port")
    if (dialect == "postgresql" and set(query) - _PG_QUERY) or (dialect == "mysql" and query):
        return None
    if port and not port.isdigit():
        return None
    host = m.group("ipv6host") or m.group("ipv4host")
    if not host and "host" not in query:
        return None
    return Target(dialect, masked, host=unquote(host) if host else None,
                  port=int(port) if port else None,
                  user=unquote(m.group("username")) if m.group("username") else None, password=password,
                  database=unquote(m.group("database")) if m.group("database") else None, query=query)


def connect(target: Target, *, timeout: float, app_name: str, on_retry=None):
    """A DBAPI connection in autocommit, retried until `timeout` seconds pass (a database may still be
    starting in a deploy); UnreachableError with the driver's one line after that."""
    try:
        # Each driver has its own OperationalError; a missing driver is no reason to wait.
        return retrying(lambda: _open(target, min(max(timeout, 1.0), 10.0), app_name), timeout=timeout,
                        catch=(Exception,), describe=_first_line, on_retry=on_retry,
                        again=lambda exc: not isinstance(exc, ImportError))
    except ImportError:
        raise
    except Exception as exc:
        from migration_guard.report.secrets import mask_secrets

        why = mask_secrets(_first_line(exc), [target.password] if target.password else [])
        raise UnreachableError(f"cannot reach the database at {target.masked}: {why}") from None


def retrying(attempt, *, timeout: float, catch: tuple, describe, on_retry=None, again=lambda exc: True):
    """attempt() until it works or `timeout` seconds pass (a database may still be starting in a deploy),
    backing off from 0.25 s to 3 s; the last error is raised. `on_retry` hears of a long wait every 10 s
    after the first 5; an error `again` rejects is raised at once."""
    began = time.monotonic()
    delay, next_note = 0.25, 5.0
    while True:
        try:
            return attempt()
        except catch as exc:
            waited = time.monotonic() - began
            if not again(exc) or waited + delay > timeout:
                raise
            if on_retry and waited >= next_note:
                on_retry(f"{describe(exc)} (waited {waited:.0f}s of {timeout:g}s)")
                next_note += 10.0
            time.sleep(delay)
            delay = min(delay * 2, 3.0)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _import_psycopg2():
    """psycopg2, without Python's `ssl` when nothing has imported it yet.

    psycopg2 imports `ssl` only so that OpenSSL's thread-locking callbacks are Python's before libpq
    sets its own (psycopgmodule.c, libcrypto_threads_init); without it, libpq locks for itself, the
    way psycopg2 documents for a Python built without ssl. OpenSSL 1.1 and later need no callbacks at
    all, and the binary wheel carries its own libssl. `ssl` is half of psycopg2's import time, paid by
    every replica of a deploy on its way to the lock. Once psycopg2 is in, `ssl` imports as usual."""
    if "psycopg2" in sys.modules or "ssl" in sys.modules:
        import psycopg2

        return psycopg2
    sys.modules["ssl"] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        import psycopg2
    finally:
        if sys.modules.get("ssl", 0) is None:
            del sys.modules["ssl"]
    return psycopg2


def _open(target: Target, timeout: float, app_name: str):
    if target.dialect == "postgresql":
        args = {k: v for k, v in {"host": target.host, "port": target.port, "user": target.user,
                                  "password": target.password, "dbname": target.database}.items() if v is not None}
        args.update(target.query)
        args.update(connect_timeout=max(1, int(timeout)), application_name=app_name)
        try:
            psycopg2 = _import_psycopg2()
        except ImportError:
            import psycopg

            return psycopg.connect(autocommit=True, **args)
        conn = psycopg2.connect(**args)
        conn.autocommit = True
        return conn
    if target.dialect == "mysql":
        import pymysql

        return pymysql.connect(host=target.host, port=target.port or 3306, user=target.user or "",
                               password=target.password or "", database=target.database,
                               connect_timeout=max(1, int(timeout)), autocommit=True)
    raise ValueError(f"no plain connection for {target.dialect}")
