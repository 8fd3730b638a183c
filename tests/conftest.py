"""Project-wide fixtures: a fresh database per test on real servers, and the CLI as a child process.

    pg_url         a new empty PostgreSQL database, dropped after the test
    mysql_url      the same on MySQL/MariaDB
    sqlite_url     a SQLite file in the test's tmp_path
    pg_server_url  (session) the PostgreSQL admin URL, for tests that make several databases
    mysql_server_url (session) the same for MySQL/MariaDB
    run_cli        tests.support.cli.run_cli: `python -m migration_guard ...` with a clean env

How servers are found: tests/support/servers.py. A missing server skips its tests with the reason;
MG_TEST_REQUIRE_SERVERS=1 makes that a failure instead.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import pytest

from tests.support import cli, servers


def _session_server(factory: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    with ExitStack() as stack:
        try:
            url = stack.enter_context(factory())
        except servers.NoServer as exc:
            if exc.required:
                pytest.fail(exc.reason, pytrace=False)
            pytest.skip(exc.reason)
        yield url


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    yield from _session_server(servers.postgres_server)


@pytest.fixture(scope="session")
def mysql_server_url() -> Iterator[str]:
    yield from _session_server(servers.mysql_server)


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    with servers.fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture
def mysql_url(mysql_server_url: str) -> Iterator[str]:
    with servers.fresh_database(mysql_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return cli.run_cli


_MARKERS = {"pg_url": "postgres", "pg_server_url": "postgres", "mysql_url": "mysql",
            "mysql_server_url": "mysql"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Mark by fixture, so `-m "not mysql"` works without every test remembering its marker.
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & _MARKERS.keys():
            item.add_marker(_MARKERS[fixture])
