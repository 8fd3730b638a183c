from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from migration_guard.report.secrets import mask_object, mask_secrets


def test_known_secret_is_replaced_everywhere():
    text = "connect failed for s3cret; retry with s3cret"
    assert mask_secrets(text, ["s3cret"]) == "connect failed for ***; retry with ***"


def test_percent_encoded_form_of_a_secret_is_replaced():
    # A password with '@' or '/' appears encoded inside a URL; the raw form would not match there.
    out = mask_secrets("postgresql://app:p%40ss%2Fw0rd@db/app", ["p@ss/w0rd"])
    assert "p%40ss" not in out and "w0rd" not in out


def test_longer_secret_is_masked_whole_when_it_contains_a_shorter_one():
    out = mask_secrets("token abcdef", ["abc", "abcdef"])
    assert out == "token ***"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://app:hunter2@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("mysql+pymysql://deploy:x!y@mysql.internal/shop", "mysql+pymysql://deploy:***@mysql.internal/shop"),
        ("redis://:only-a-password@cache:6379/0", "redis://:***@cache:6379/0"),
        # Unencoded '@' and '/' in a password: mask up to the last '@' rather than leak the rest.
        ("postgresql://app:p@ss/w0rd@db/app", "postgresql://app:***@db/app"),
        ("url=postgresql://u:pw@h/db other", "url=postgresql://u:***@h/db other"),
        ("two: postgresql://a:1@h1/x mysql://b:2@h2/y", "two: postgresql://a:***@h1/x mysql://b:***@h2/y"),
    ],
)
def test_url_passwords_are_masked_without_being_told(text, expected):
    assert mask_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://app@db:5432/app",  # user, no password
        "sqlite:///var/app/db.sqlite3",
        "see https://sqlalche.me/e/14/f405 for details",
        "ALTER TABLE users ADD COLUMN password_hash VARCHAR(255)",
        "INFO  [alembic.runtime.migration] Running upgrade a1 -> b2, add password reset",
    ],
)
def test_text_without_a_password_is_unchanged(text):
    assert mask_secrets(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connect('dbname=app password=s3cret host=db')", "connect('dbname=app password=*** host=db')"),
        ("PGPASSWORD='s3cret' psql", "PGPASSWORD='***' psql"),
        ('DB_PASSWORD="s3 cret"', 'DB_PASSWORD="***"'),
    ],
)
def test_password_assignments_are_masked(text, expected):
    assert mask_secrets(text) == expected


def test_masking_is_idempotent_and_ignores_empty_secrets():
    once = mask_secrets("postgresql://app:pw@db/app and pw", ["pw", "", None])
    assert mask_secrets(once, ["pw", ""]) == once
    assert "pw" not in once


@dataclass
class _Inner:
    text: str
    items: list[str] = field(default_factory=list)


@dataclass
class _Outer:
    inner: _Inner
    mapping: dict = field(default_factory=dict)
    count: int = 3


def test_mask_object_masks_every_string_and_leaves_the_original_alone():
    original = _Outer(_Inner("pw is s3cret", ["x s3cret"]), {"url": "postgresql://a:b@h/d", "n": 1})
    masked = mask_object(original, ["s3cret"])
    assert masked.inner.text == "pw is ***"
    assert masked.inner.items == ["x ***"]
    assert masked.mapping == {"url": "postgresql://a:***@h/d", "n": 1}
    assert masked.count == 3
    assert original.inner.text == "pw is s3cret"
