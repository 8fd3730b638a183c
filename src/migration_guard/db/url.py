"""Database URLs: parse, validate, mask. A password never leaves this module unmasked in text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from migration_guard.errors import UsageError
from migration_guard.report.secrets import mask_secrets

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DIALECTS = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql",
            "sqlite": "sqlite"}


def parse(raw: str) -> URL:
    """A SQLAlchemy URL from user input; `postgres://` (Heroku, Render) is accepted as PostgreSQL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = (raw or "").strip()
    if not text:
        raise UsageError("database URL is empty")
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://"):]
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise UsageError(f"malformed database URL: {mask_text(text)!s}") from None
    if dialect_of(url) is None:
        raise UsageError(f"unsupported database in URL: {url.get_backend_name()!r} "
                         "(use postgresql, mysql/mariadb or sqlite)")
    if dialect_of(url) != "sqlite" and not url.host and "host" not in url.query:
        raise UsageError(f"database URL has no host: {mask(url)}")
    try:
        _ = url.port
    except ValueError:
        raise UsageError(f"malformed database URL (bad port): {mask_text(text)}") from None
    return url


def dialect_of(url: URL) -> str | None:
    return DIALECTS.get(url.get_backend_name())


def mask(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def mask_text(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Hide URL passwords, `password=` assignments and any known secret in free text."""
    return mask_secrets(text, secrets)


def for_driver(url: URL) -> URL:
    """The URL with a driver we ship, when the user's names one we may not have (asyncpg, aiosqlite)."""
    backend, driver = url.get_backend_name(), url.get_driver_name()
    dialect = dialect_of(url)
    if dialect == "postgresql" and ("+" not in url.drivername or driver not in ("psycopg2", "psycopg")):
        # A URL that names no driver: psycopg2 for the guard's own connections, which imports in a third
        # of psycopg 3's time, and every deploy pays for what the guard imports.
        return url.set(drivername="postgresql+psycopg2" if _has("psycopg2") else "postgresql+psycopg")
    if dialect == "mysql" and driver not in ("pymysql", "mysqldb"):
        return url.set(drivername=f"{backend}+pymysql")
    if dialect == "sqlite" and driver not in ("pysqlite", ""):
        return url.set(drivername="sqlite")
    if dialect == "mysql" and driver == "mysqldb":
        try:
            import MySQLdb  # noqa: F401
        except ImportError:
            return url.set(drivername=f"{backend}+pymysql")
    return url


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
