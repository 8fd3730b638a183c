"""Open a connection with a bounded wait, and turn driver errors into one clear line."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from migration_guard.db import url as urls
from migration_guard.db.target import retrying
from migration_guard.errors import UnreachableError, UsageError


def engine_for(url: URL, *, connect_timeout: float = 10.0) -> Engine:
    url = urls.for_driver(url)
    dialect = urls.dialect_of(url)
    args: dict = {}
    if dialect == "postgresql":
        args["connect_timeout"] = max(1, int(connect_timeout))
        args["application_name"] = "migration-guard"
    elif dialect == "mysql":
        args["connect_timeout"] = max(1, int(connect_timeout))
    elif dialect == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(url.query):
            raise UsageError("an in-memory SQLite database cannot be guarded: each process gets its own; "
                             "use a file (sqlite:///path/to/app.db)")
    try:
        # A small pool: the guard asks several short questions once it holds the lock, and a new server
        # session for each costs more than the question. The runner disposes of it at the end.
        return create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True, connect_args=args)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise UsageError(f"cannot use database URL {urls.mask(url)}: {exc}") from None


def first_line(exc: BaseException) -> str:
    """The driver's own words, one line, without SQLAlchemy's background link."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def wait_for(engine: Engine, *, timeout: float, on_retry=None) -> None:
    """Connect until it works or `timeout` seconds pass (a database may still be starting in a deploy)."""
    def attempt() -> None:
        with engine.connect():
            return

    sqlite = urls.dialect_of(engine.url) == "sqlite"
    try:
        # A database still starting is normal in a deploy; say so only when the wait gets long.
        retrying(attempt, timeout=max(0.0, timeout), catch=(OperationalError, DBAPIError), describe=first_line,
                 on_retry=on_retry, again=lambda exc: not sqlite)
    except (OperationalError, DBAPIError) as exc:
        raise UnreachableError(
            f"cannot reach the database at {urls.mask(engine.url)}: {urls.mask_text(first_line(exc))}"
        ) from None
