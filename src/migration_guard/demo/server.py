"""The demo's PostgreSQL: the server at DATABASE_URL, or a throwaway one; a fresh database per story.

On someone's own server the demo only ever touches databases it created (`mg_demo_<hex>_<story>`), and
drops them at the end: existing data is never read or written.
"""

from __future__ import annotations

import atexit
import secrets
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from migration_guard.db import url as urls
from migration_guard.db.connect import engine_for, first_line, wait_for
from migration_guard.db.throwaway import ThrowawayPostgres, start_throwaway_postgres
from migration_guard.errors import UnreachableError, UsageError

PREFIX = "mg_demo_"


class DemoServer:
    def __init__(self, admin: URL, throwaway: ThrowawayPostgres | None) -> None:
        self.admin = admin
        self.throwaway = throwaway
        self.databases: list[str] = []
        self.secrets = [str(admin.password)] if admin.password else []

    @classmethod
    def open(cls, database_url: str | None) -> DemoServer:
        """The server at `database_url`, checked to answer, or a throwaway server started now."""
        if database_url:
            admin = urls.for_driver(urls.parse(database_url))
            if urls.dialect_of(admin) != "postgresql":
                raise UsageError(f"the demo needs PostgreSQL, and DATABASE_URL is {urls.dialect_of(admin)} "
                                 "(unset DATABASE_URL to use a throwaway PostgreSQL)")
            wait_for(engine_for(admin, connect_timeout=5), timeout=5)
            return cls(admin, None)
        try:
            server = start_throwaway_postgres()
        except RuntimeError as exc:
            # The message ends with the server log's tail; the first line says what to install.
            raise UnreachableError(str(exc).splitlines()[0]) from None
        return cls(urls.parse(server.url), server)

    def describe(self) -> str:
        if self.throwaway:
            return (f"a throwaway PostgreSQL at {urls.mask(self.admin)} (binaries from {self.throwaway.bin_dir}, "
                    f"data in {self.throwaway.root})")
        return f"the PostgreSQL server of DATABASE_URL ({urls.mask(self.admin)}), in new databases {PREFIX}*"

    def fresh_database(self, story: str) -> str:
        """Create an empty database for one story; return its URL (password included, for the children)."""
        name = f"{PREFIX}{secrets.token_hex(4)}_{story}"
        try:
            self._admin_sql(f'CREATE DATABASE "{name}"')
        except DBAPIError as exc:
            raise UsageError(f"cannot create a database on {urls.mask(self.admin)}: {first_line(exc)} "
                             "(the demo needs a role that may CREATE DATABASE; or unset DATABASE_URL "
                             "to use a throwaway PostgreSQL)") from None
        self.databases.append(name)
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def rows(self, url: str, sql: str) -> list[tuple]:
        engine = engine_for(urls.parse(url))
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def execute(self, url: str, statements: Sequence[str]) -> None:
        engine = engine_for(urls.parse(url))
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()

    def close(self, keep: bool) -> list[str]:
        """Drop the demo's databases and stop a throwaway server, or keep them. Returns lines for the
        person: what was kept and where, or what could not be dropped."""
        if keep:
            kept = [f"database {urls.mask(self.admin.set(database=name))}" for name in self.databases]
            if self.throwaway:
                # start() registered stop() at exit; a kept server must outlive this process.
                atexit.unregister(self.throwaway.stop)
                as_user = f"runuser -u {self.throwaway.user} -- " if self.throwaway.user else ""
                kept.append(f"server {urls.mask(self.admin)}, data in {self.throwaway.root}; stop it with: "
                            f"{as_user}{self.throwaway.bin_dir / 'pg_ctl'} -D {self.throwaway.data_dir} stop "
                            f"&& rm -rf {self.throwaway.root}")
            return kept
        if self.throwaway:
            self.throwaway.stop()  # the databases go with the server's folder
            return []
        left = []
        for name in self.databases:
            try:
                self._drop(name)
            except DBAPIError as exc:
                left.append(f"could not drop database {name}: {first_line(exc)}")
        return left

    def _drop(self, name: str) -> None:
        # A replica killed by Ctrl-C may still hold a connection, which would make DROP DATABASE fail;
        # only our own databases' sessions are ended.
        self._admin_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()", name=name)
        self._admin_sql(f'DROP DATABASE IF EXISTS "{name}"')

    def _admin_sql(self, sql: str, **params) -> list[tuple]:
        engine = engine_for(self.admin)
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                result = conn.execute(text(sql), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()
