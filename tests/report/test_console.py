from __future__ import annotations

import pytest
from report_examples import (
    EXAMPLES,
    MYSQL_PASSWORD,
    PG_PASSWORD,
    failed,
    predicted_failure,
    recovered,
    refused,
)

from migration_guard.report.render import human_summary


def test_recovered_summary_names_failure_action_and_evidence():
    report = recovered()
    lines = human_summary(report, json_path="mg/report.json", md_path="mg/report.md").splitlines()
    assert lines[0].startswith("migration-guard [RECOVERED] Migrated after recovery (2 attempts, 6.02 s): ")
    assert "  database: PostgreSQL postgresql://app:***@db.internal:5432/app" in lines
    assert any(
        line.startswith(
            "  failure: Column `settings.google_calendar_client_id` already exists (PostgreSQL 42701)"
        )
        for line in lines
    )
    assert (
        "  action skip_satisfied on column settings.google_calendar_client_id "
        "(applied, id mg-20261121T083412-1): Ran the revision again, skipping the statements the catalog "
        "shows already satisfied" in lines
    )
    for fact in report.actions[0].evidence:
        assert f"    - {fact}" in lines
    assert lines[-1] == "  report: mg/report.json, mg/report.md"


def test_refused_summary_says_what_a_human_must_do():
    text = human_summary(refused())
    assert "  refused (duplicate_type): Type `subscription_status` already exists with labels" in text
    assert "    a human must: Otherwise change the migration so that it keeps `cancelled`" in text
    assert (
        "    SQL to consider: ALTER TYPE subscription_status RENAME VALUE 'cancelled' TO 'canceled'" in text
    )


def test_failed_and_predicted_summaries():
    assert "migration-guard took no action" in human_summary(failed())
    text = human_summary(predicted_failure())
    assert text.startswith("migration-guard [WARNING] Check predicts a failure (0.84 s)")
    assert text.count("  predicted: ") == 2


def test_quarantine_line_tells_how_to_undo():
    report = recovered()
    report.actions[0].rows_quarantined = 2
    report.actions[0].quarantine_table = "mg_quarantine_accounts"
    assert (
        "    2 row(s) kept in mg_quarantine_accounts; undo with: migration-guard restore mg-20261121T083412-1"
        in (human_summary(report))
    )


@pytest.mark.parametrize("status", list(EXAMPLES))
def test_summary_is_a_few_lines_without_passwords(status):
    report = EXAMPLES[status]()
    report.notes.append(f"debug: DATABASE_URL=postgresql://app:{PG_PASSWORD}@db/app")
    text = human_summary(report, secrets=[MYSQL_PASSWORD])
    assert PG_PASSWORD not in text and MYSQL_PASSWORD not in text
    assert len(text.splitlines()) < 25
