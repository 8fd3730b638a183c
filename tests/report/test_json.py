from __future__ import annotations

import json

import pytest
from report_examples import EXAMPLES, MYSQL_PASSWORD, PG_PASSWORD, SECRETS, recovered, refused

from migration_guard.report.render import to_json
from migration_guard.report.secrets import mask_object
from migration_guard.report.serialize import report_from_dict


@pytest.mark.parametrize("status", list(EXAMPLES))
def test_json_round_trips(status):
    report = EXAMPLES[status]()
    data = json.loads(to_json(report, secrets=SECRETS))
    assert data["status"] == status
    assert [f["kind"] for f in data["failures"]] == [f.kind for f in report.failures]
    assert [f["kind"] for f in data["predicted"]] == [f.kind for f in report.predicted]
    assert [a["kind"] for a in data["actions"]] == [a.kind for a in report.actions]
    assert data["attempts_count"] == len(report.attempts)
    # Everything comes back, as masked.
    assert report_from_dict(data) == mask_object(report, SECRETS)


def test_json_has_the_contract_fields():
    data = json.loads(to_json(recovered()))
    for key in ("status", "command", "framework", "database", "predicted", "failures", "actions", "attempts"):
        assert key in data
    assert data["database"] == {
        "dialect": "postgresql",
        "server_version": "16.4",
        "url": "postgresql://app:***@db.internal:5432/app",
    }
    action = data["actions"][0]
    for key in ("id", "kind", "target", "evidence", "statements", "rows_quarantined", "quarantine_table"):
        assert key in action
    assert data["failures"][0] == {
        "kind": "duplicate_column",
        "sqlstate": "42701",
        "object_type": "column",
        "object_name": "google_calendar_client_id",
        "table": "settings",
        "column": "google_calendar_client_id",
        "statement": "ALTER TABLE settings ADD COLUMN google_calendar_client_id VARCHAR(255)",
        "revision": "3f9a1c2b7d4e",
        "driver": "psycopg2",
        "dialect": "postgresql",
        "message": 'psycopg2.errors.DuplicateColumn: column "google_calendar_client_id" of relation '
        '"settings" already exists',
        "line": 9,
    }


def test_json_is_stable_indented_and_status_first():
    report = refused()
    report.database = {
        "url": "postgresql://app:***@db/app",
        "dialect": "postgresql",
    }  # insertion order varies
    text = to_json(report)
    assert text == to_json(refused()).replace("db.internal:5432", "db")
    assert text.startswith('{\n  "status": "refused",\n  "command": [')
    assert text.endswith("}\n")


@pytest.mark.parametrize("status", list(EXAMPLES))
def test_json_never_carries_a_password(status):
    for secrets in (SECRETS, []):
        text = to_json(EXAMPLES[status](), secrets=secrets)
        assert PG_PASSWORD not in text and MYSQL_PASSWORD not in text


def test_secret_that_json_would_escape_is_still_masked():
    report = recovered()
    secret = 'pa"ss\\word'
    report.notes.append(f"connected with {secret}")
    text = to_json(report, secrets=[secret])
    assert json.loads(text)["notes"] == ["connected with ***"]
