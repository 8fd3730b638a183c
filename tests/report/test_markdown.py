from __future__ import annotations

import re

import pytest
from report_examples import (
    ADD_CLIENT_ID,
    EXAMPLES,
    MYSQL_PASSWORD,
    PG_PASSWORD,
    SECRETS,
    failed,
    predicted_failure,
    recovered,
    refused,
    succeeded,
)

from migration_guard.diagnose.failure import Failure
from migration_guard.report import mdtext
from migration_guard.report.describe import headline, marker
from migration_guard.report.model import Action, Refusal, RevisionTiming
from migration_guard.report.render import comment_marker, to_markdown

FLAVORS = ("summary", "comment")


def _table_rows(md: str, header_start: str) -> list[list[str]]:
    """Cells of the table whose header line starts with `header_start`, split on unescaped pipes."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


@pytest.mark.parametrize("status", list(EXAMPLES))
def test_headline_by_status(status):
    report = EXAMPLES[status]()
    summary = to_markdown(report)
    comment = to_markdown(report, flavor="comment", key="migrations")
    assert summary.startswith(f"## {marker(status)} {headline(status)}\n")
    assert comment.splitlines()[1] == f"### {marker(status)} {headline(status)}"


@pytest.mark.parametrize("status", list(EXAMPLES))
def test_comment_starts_with_the_hidden_marker(status):
    comment = to_markdown(EXAMPLES[status](), flavor="comment", key="db/migrations")
    assert comment.splitlines()[0] == "<!-- migration-guard:db/migrations -->"


def test_comment_marker_cannot_close_the_html_comment_early():
    assert comment_marker("a-->b") == "<!-- migration-guard:a-b -->"
    assert comment_marker(None) == "<!-- migration-guard:default -->"
    assert comment_marker("x\ny") == "<!-- migration-guard:x-y -->"


def test_recovered_report_shows_failure_action_evidence_and_attempts():
    report = recovered()
    md = to_markdown(report)
    assert "- **Database:** PostgreSQL 16.4 `postgresql://app:***@db.internal:5432/app`" in md
    assert (
        "1. Column `settings.google_calendar_client_id` already exists (PostgreSQL 42701) while revision "
        f"`3f9a1c2b7d4e` ran `{ADD_CLIENT_ID}`" in md
    )
    assert "#### 1. `skip_satisfied` on column settings.google_calendar_client_id" in md
    assert "Applied; id `mg-20261121T083412-1`; answers `duplicate_column` in revision `3f9a1c2b7d4e`." in md
    for fact in report.actions[0].evidence:
        assert f"- {mdtext.prose(fact)}\n" in md
    assert f"**Statements skipped (already satisfied)**\n\n```sql\n{ADD_CLIENT_ID};\n```" in md
    assert _table_rows(md, "| Attempt | Exit code") == [
        ["1", "1", "2.31 s", "`duplicate_column`", "0"],
        ["2", "0", "3.05 s", "-", "1"],
    ]
    assert _table_rows(md, "| Attempt | Revision") == [
        ["1", "`3f9a1c2b7d4e`", "Google Calendar sync", "failed", "0.18 s"],
        ["2", "`3f9a1c2b7d4e`", "Google Calendar sync", "ok", "0.42 s"],
        ["2", "`7c1d2e3f4a5b`", "Calendar sync state", "ok", "1.87 s"],
    ]
    assert "<details>\n<summary>Log tail (6 lines)</summary>\n\n```text\n" in md


def test_refused_report_says_what_a_human_must_decide():
    md = to_markdown(refused(), flavor="comment", key="migrations")
    assert "Type `subscription_status` already exists (PostgreSQL 42710)" in md
    assert "#### What a human must decide" in md
    assert "##### 1. Refused to act on `duplicate_type`" in md
    assert "labels `('active', 'cancelled')`" in md
    assert "1. Find out where `cancelled` came from" in md
    assert "3. Otherwise change the migration" in md
    assert (
        "```sql\nALTER TYPE subscription_status RENAME VALUE 'cancelled' TO 'canceled';\n"
        "ALTER TYPE subscription_status ADD VALUE 'trialing' BEFORE 'active';\n" in md
    )
    assert "What migration-guard did" not in md
    # The statement was shortened in the sentence, so the whole of it follows in a block.
    assert (
        "   ```sql\n"
        "   CREATE TYPE subscription_status AS ENUM ('trialing', 'active', 'past_due', 'canceled');" in md
    )


def test_failed_unknown_report_quotes_the_error_and_takes_no_action():
    md = to_markdown(failed())
    assert "Revision `orders.0007_remove_order_user` failed while running" in md
    assert "(MySQL/MariaDB 1829)" in md
    assert "migration-guard took no action" in md
    assert "`unknown`" in md  # in the attempts table
    assert "What migration-guard did" not in md and "What a human must decide" not in md
    assert "### Notes\n\n- migration-guard recovers only failures" in md


def test_predicted_failure_report_lists_what_would_fail():
    md = to_markdown(predicted_failure())
    assert "### Predicted failures" in md
    assert (
        "1. Index `ix_users_email` on table `users` already exists (PostgreSQL 42P07); revision "
        "`5d4c3b2a1f0e` would run `CREATE UNIQUE INDEX ix_users_email ON users (email)`" in md
    )
    assert "rows share `Key (slug)=(acme)`" in md
    assert "What failed" not in md and "### Attempts" not in md


def test_clean_report_is_short_and_has_no_failure_sections():
    md = to_markdown(EXAMPLES["clean"]())
    assert "## [OK] Check found nothing" in md
    for section in ("What failed", "Predicted failures", "What migration-guard did", "Log tail"):
        assert section not in md
    assert len(md) < 800


def test_succeeded_report_shows_lock_wait_and_timings():
    md = to_markdown(succeeded())
    assert "- **Lock:** waited 14.2 s for another migrator to finish" in md
    assert ["1", "`b2c3d4e5f6a7`", "Backfill invoice numbers", "ok", "11.9 s"] in _table_rows(
        md, "| Attempt | Revision"
    )


def test_comment_folds_attempts_and_timings():
    md = to_markdown(recovered(), flavor="comment", key="migrations")
    assert "<details>\n<summary>Attempts and timings</summary>\n\n| Attempt | Exit code" in md


@pytest.mark.parametrize("status", list(EXAMPLES))
@pytest.mark.parametrize("flavor", FLAVORS)
def test_no_password_in_any_output_even_when_the_caller_passes_no_secrets(status, flavor):
    for secrets in (SECRETS, []):
        md = to_markdown(EXAMPLES[status](), flavor=flavor, key="migrations", secrets=secrets)
        assert PG_PASSWORD not in md
        assert MYSQL_PASSWORD not in md


def test_password_in_the_log_tail_is_masked():
    md = to_markdown(recovered())
    assert "INFO  [migration_guard] target postgresql://app:***@db.internal:5432/app" in md


def test_secret_is_masked_before_escaping_can_split_it():
    report = succeeded()
    report.attempts[0].revisions.append(RevisionTiming("c3", "uses pa|ss<word> somewhere", "ok", 0.1))
    md = to_markdown(report, secrets=["pa|ss<word>"])
    assert "pa\\|ss" not in md and "ss\\<word" not in md
    assert "uses \\*\\*\\* somewhere" in md


def test_user_data_cannot_break_tables_or_blocks():
    report = recovered()
    report.attempts[1].revisions[0].description = "a | b </details> `x"
    report.actions[0].statements = ["SELECT '```' AS fence", "SELECT 2"]
    report.log_tail = "line\n</details>\n```\nmore"
    md = to_markdown(report)
    row = next(r for r in _table_rows(md, "| Attempt | Revision") if r[1] == "`3f9a1c2b7d4e`" and r[0] == "2")
    assert row[2] == "a \\| b \\</details\\> \\`x"
    assert "````sql\nSELECT '```' AS fence;\nSELECT 2;\n````" in md
    assert "````text\nline\n</details>\n```\nmore\n````" in md


def test_action_with_quarantine_and_recorded_definition():
    report = recovered()
    report.actions.append(
        Action(
            id="mg-20261121T083412-2",
            kind="dedupe",
            target="unique index uq_accounts_slug",
            evidence=["3 rows share `slug = 'acme'`; the oldest (id 17) is kept"],
            statements=["DELETE FROM accounts WHERE id IN (18, 19)"],
            applied=True,
            failure_kind="duplicate_data",
            rows_quarantined=2,
            quarantine_table="mg_quarantine_accounts",
            recorded={"kept": 17, "removed": [18, 19]},
        )
    )
    md = to_markdown(report)
    assert "**Quarantined:** 2 rows copied to `mg_quarantine_accounts` before removal; undo with " in md
    assert "`migration-guard restore mg-20261121T083412-2`" in md
    assert '```json\n{\n  "kept": 17,' in md
    assert "**Statements run**" in md


def test_dry_run_says_nothing_was_changed():
    report = recovered()
    report.dry_run = True
    report.actions[0].applied = False
    md = to_markdown(report)
    assert "- **Dry run:** nothing was changed" in md
    assert "Not applied; id" in md
    assert "**Statements it would skip**" in md


def _huge(report_builder=recovered):
    report = report_builder()
    report.log_tail = "\n".join(
        f"INFO  [alembic] line {i} postgresql://app:{PG_PASSWORD}@db/app" for i in range(3000)
    )
    report.actions[0].statements = [f"ALTER TABLE t{i} ADD COLUMN c INTEGER" for i in range(500)]
    report.refusals.append(
        Refusal(
            "duplicate_type", "Type `mood` differs.", ["Decide which labels are right"], ["DROP TYPE mood"]
        )
    )
    return report


@pytest.mark.parametrize("flavor", FLAVORS)
def test_over_max_chars_a_short_version_says_it_was_shortened(flavor):
    report = _huge()
    full = to_markdown(report, flavor=flavor, key="migrations", max_chars=10**9)
    assert len(full) > 60000
    md = to_markdown(report, flavor=flavor, key="migrations", max_chars=60000)
    assert len(md) <= 60000
    assert "Shortened to fit the size limit" in md
    # What a person needs is still there...
    assert f"{marker('recovered')} {headline('recovered')}" in md
    assert "Column `settings.google_calendar_client_id` already exists (PostgreSQL 42701)" in md
    assert "`skip_satisfied`" in md and "**Evidence**" in md
    assert "Refused to act on `duplicate_type`" in md and "DROP TYPE mood;" in md
    # ...the bulk is not.
    assert "Log tail" not in md and "ALTER TABLE t1 ADD" not in md
    assert ADD_CLIENT_ID not in md  # statements, even the short one in the failure sentence
    if flavor == "comment":
        assert md.startswith("<!-- migration-guard:migrations -->\n")


def test_short_version_can_point_at_the_full_report():
    md = to_markdown(
        _huge(), flavor="comment", max_chars=60000, details_url="https://github.com/o/r/actions/runs/1"
    )
    assert "[Full report](https://github.com/o/r/actions/runs/1)" in md


def test_short_version_still_too_long_is_cut_keeping_the_marker():
    report = _huge()
    report.actions[0].evidence = [f"fact {i} " + "x" * 100 for i in range(2000)]
    md = to_markdown(report, flavor="comment", key="k", max_chars=5000)
    assert len(md) <= 5000
    assert md.startswith("<!-- migration-guard:k -->\n")
    assert md.rstrip().endswith("_Cut at 5,000 characters; the full report is in the job's report files._")


def test_failure_without_optional_fields_renders():
    report = failed()
    report.failures = [Failure(kind="unknown")]
    report.attempts[0].failure = None
    md = to_markdown(report)
    assert "1. The command failed with an error migration-guard does not recognise" in md


def test_unknown_flavor_is_rejected():
    with pytest.raises(ValueError, match="flavor"):
        to_markdown(succeeded(), flavor="html")  # type: ignore[arg-type]


def test_comment_marker_never_contains_a_double_dash():
    for key in ("a-\n-b", "--x--", "a>-->b", "----"):
        assert "--" not in comment_marker(key)[4:-3]
