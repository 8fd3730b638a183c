"""The plain URL reader agrees with SQLAlchemy's on every URL it accepts, and leaves the rest to it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import make_url

from migration_guard.db.target import Target, connect, read
from migration_guard.errors import UnreachableError

AGREE = [
    "postgresql://postgres@127.0.0.1:5432/app",
    "postgresql+psycopg2://u:p%40ss%3Aw0rd@db.internal/app_prod",
    "postgresql+psycopg://u:secret@[::1]:6543/app?sslmode=require",
    "postgresql://u@/app?host=/var/run/postgresql",
    "mysql+pymysql://root:@127.0.0.1:3306/app",
    "mariadb+pymysql://root:pw@localhost/app",
    "sqlite:///relative/app.db",
    "sqlite:////abs/path/app.db",
]


@pytest.mark.parametrize("raw", AGREE)
def test_agrees_with_sqlalchemy(raw: str) -> None:
    mine, theirs = read(raw), make_url(raw)
    assert isinstance(mine, Target)
    assert (mine.host, mine.port, mine.user, mine.password, mine.database) == (
        theirs.host, theirs.port, theirs.username, theirs.password, theirs.database)
    assert mine.query == dict(theirs.query)
    if theirs.password:
        assert theirs.password not in mine.masked and "***" in mine.masked


def test_heroku_scheme_is_postgresql() -> None:
    target = read("postgres://u:pw@h:5432/d")
    assert target is not None and target.dialect == "postgresql" and target.masked == "postgresql://u:***@h:5432/d"


@pytest.mark.parametrize("raw", [
    "postgresql+asyncpg://u@h/d",  # a driver the guard swaps: the full path says how
    "mysql+pymysql://root@h/d?charset=utf8mb4",  # driver options: SQLAlchemy's to apply
    "postgresql://u@h/d?application_name=x&connect_timeout=3",
    "postgresql://u@h:notaport/d",
    "sqlite://",
    "sqlite:///:memory:",
    "oracle://u@h/d",
    "not a url",
    "",
])
def test_leaves_anything_unusual_to_the_full_path(raw: str) -> None:
    assert read(raw) is None


def test_unreachable_server_is_one_line_without_the_password() -> None:
    target = read("postgresql://u:hunter2secret@127.0.0.1:1/d")
    assert target is not None
    began = time.monotonic()
    with pytest.raises(UnreachableError) as err:
        connect(target, timeout=1.0, app_name="test")
    assert time.monotonic() - began < 10
    message = str(err.value)
    assert "hunter2secret" not in message and "\n" not in message
    assert message.startswith("cannot reach the database at postgresql://u:***@127.0.0.1:1/d")


def test_retrying_backs_off_until_the_timeout_and_raises_the_last_error() -> None:
    from migration_guard.db.target import retrying

    calls: list[float] = []
    began = time.monotonic()

    def attempt() -> None:
        calls.append(time.monotonic() - began)
        raise OSError(f"refused {len(calls)}")

    with pytest.raises(OSError, match="refused 3"):
        retrying(attempt, timeout=1.0, catch=(OSError,), describe=str)
    assert len(calls) == 3 and calls[1] >= 0.25 and calls[2] >= 0.75  # 0.25 s, then 0.5 s; the next would pass 1 s
    assert time.monotonic() - began < 1.5


def test_retrying_gives_up_at_once_on_an_error_it_is_told_not_to_wait_for() -> None:
    from migration_guard.db.target import retrying

    calls = []

    def attempt() -> None:
        calls.append(1)
        raise ImportError("no driver")

    with pytest.raises(ImportError):
        retrying(attempt, timeout=30.0, catch=(Exception,), describe=str,
                 again=lambda exc: not isinstance(exc, ImportError))
    assert calls == [1]
