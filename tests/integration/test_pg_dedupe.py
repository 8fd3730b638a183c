"""Duplicate rows meet a new unique key on real PostgreSQL: refuse and list them, or dedupe with nothing lost.

Each test builds a real Alembic (or Flask-Migrate) project whose last revision adds a unique
constraint or index, fills the table with duplicates the way a live app does, runs the real tool under
the guard, then reads the database back: rows kept + rows quarantined == rows before, the kept row is
the one the policy names, the constraint exists, no other table lost a row, and `restore` brings the
table back to its exact earlier content once no constraint forbids it.

The Enroll(user, course) tables here are the ones Django makes, driven through Alembic; the same
story through `manage.py migrate` is in test_pg_django_dedupe.py.
"""

from __future__ import annotations

import pytest

from tests.support.dedupe import (
    assert_deduped,
    constraint_exists,
    content,
    counts,
    exact,
    expected_removed,
    has_quarantine,
    quarantined,
    restore,
)
from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project, flask_project

UPGRADE = [tool("alembic"), "upgrade", "head"]
UNIQ = "school_enroll_user_id_course_id_4f3c9a2e_uniq"

ENROLL = [
    Rev("s1", "school", """
        op.create_table("auth_user", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("username", sa.String(150), nullable=False))
        op.create_table("school_course", sa.Column("id", sa.BigInteger, primary_key=True),
                        sa.Column("title", sa.String(200), nullable=False))
        op.create_table("school_enroll", sa.Column("id", sa.BigInteger, primary_key=True),
                        sa.Column("user_id", sa.Integer, sa.ForeignKey("auth_user.id"), nullable=False),
                        sa.Column("course_id", sa.BigInteger, sa.ForeignKey("school_course.id"), nullable=False),
                        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
                        sa.Column("source", sa.String(20), nullable=False))
    """),
    Rev("s2", "enroll unique together", f"""
        op.create_unique_constraint("{UNIQ}", "school_enroll", ["user_id", "course_id"])
    """),
]

# Double-submitted forms and a retried import: (user 2, course 1) three times, (user 3, course 2) twice.
ENROLL_ROWS = [
    "INSERT INTO auth_user (username) VALUES ('ann'), ('bob'), ('cy')",
    "INSERT INTO school_course (title) VALUES ('algebra'), ('biology')",
    "INSERT INTO school_enroll (user_id, course_id, created_at, source) VALUES "
    "(1, 1, '2024-03-01 10:00+00', 'web'), (2, 1, '2024-03-02 09:00+00', 'web'), "
    "(2, 1, '2024-03-01 08:00+00', 'import'), (2, 1, NULL, 'web'), (1, 2, '2024-03-04 10:00+00', 'web'), "
    "(3, 2, '2024-03-05 10:00+00', 'web'), (3, 2, '2024-03-05 10:00:01+00', 'web')",
]


def user_course(row):
    return row[1], row[2]


@pytest.fixture
def enroll(tmp_path, pg_url):
    project = alembic_project(tmp_path / "school", ENROLL)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "s1"], env)
    execute(pg_url, *ENROLL_ROWS)
    return project, env


def test_without_dedupe_refuses_lists_the_groups_and_changes_nothing(enroll, pg_url):
    project, env = enroll
    before, others = content(pg_url, "school_enroll"), counts(pg_url)

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert content(pg_url, "school_enroll") == before
    assert counts(pg_url) == others
    assert not has_quarantine(pg_url)
    assert version(pg_url) == {"s1"}
    assert report["status"] == "refused" and report["actions"] == []
    refusal = report["refusals"][0]
    assert "2 duplicate group(s) (3 surplus row(s))" in refusal["reason"]
    assert "(user_id, course_id)=(2, 1): 3 rows" in " ".join(refusal["human_steps"])
    assert any("--dedupe keep-oldest" in step for step in refusal["human_steps"])
    listing = refusal["sql"][0]
    assert "GROUP BY user_id, course_id HAVING count(*) > 1" in listing
    # The SQL a human could run really lists the groups, and really does what keep-oldest would.
    assert sorted(rows(pg_url, listing.rstrip(";"))) == [(2, 1, 3), (3, 2, 2)]
    script = [s.rstrip(";") for s in refusal["sql"][1:] if s not in ("BEGIN;", "COMMIT;")]
    execute(pg_url, *script)
    assert [r[0] for r in content(pg_url, "school_enroll")] == [1, 2, 5, 6]


def test_keep_oldest_quarantines_the_surplus_migrates_and_restore_puts_it_back(enroll, pg_url, run_cli):
    project, env = enroll
    before, others = content(pg_url, "school_enroll"), counts(pg_url, but=("school_enroll",))

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")

    assert proc.returncode == 0, proc.stderr
    assert report["status"] == "recovered"
    assert version(pg_url) == {"s2"}
    assert constraint_exists(pg_url, UNIQ)
    action = report["actions"][0]
    assert action["kind"] == "dedupe" and action["applied"]
    assert action["quarantine_table"] == "public.migration_guard_quarantine"
    assert_deduped(pg_url, "school_enroll", before, action,
                   expected_removed(before, user_course, lambda g: min(g, key=lambda r: r[0])))
    assert {r[0] for r in content(pg_url, "school_enroll")} == {1, 2, 5, 6}  # the smallest id of each group
    assert counts(pg_url, but=("school_enroll",)) == others
    assert f"migration-guard restore {action['id']}" in proc.stderr

    # The constraint now forbids the quarantined rows: restore changes nothing and names them.
    refused = restore(pg_url, action["id"])
    assert refused.returncode == 1
    assert "row id=3: (user_id, course_id)=(2, 1) collides with a row already in school_enroll" in refused.stderr
    assert len(content(pg_url, "school_enroll")) == 4

    execute(pg_url, f"ALTER TABLE school_enroll DROP CONSTRAINT {UNIQ}")  # e.g. the revision was downgraded
    done = restore(pg_url, action["id"])
    assert done.returncode == 0, done.stderr
    assert "restored 3 row(s)" in done.stderr
    assert content(pg_url, "school_enroll") == before
    again = restore(pg_url, action["id"])
    assert again.returncode == 1 and "already restored" in again.stderr


def test_keep_newest_by_a_named_order_column(enroll, pg_url):
    project, env = enroll
    before = content(pg_url, "school_enroll")

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-newest", "--dedupe-order", "created_at")

    assert proc.returncode == 0, proc.stderr
    assert constraint_exists(pg_url, UNIQ)

    def newest(group):  # the latest created_at; a row without one never wins
        dated = [r for r in group if r[3] is not None]
        return max(dated, key=lambda r: (r[3], r[0]))

    removed = expected_removed(before, user_course, newest)
    assert_deduped(pg_url, "school_enroll", before, report["actions"][0], removed)
    assert {r[0] for r in content(pg_url, "school_enroll")} == {1, 2, 5, 7}
    assert any("latest created_at" in line for line in report["actions"][0]["evidence"])


def test_an_order_column_that_does_not_exist_is_refused(enroll, pg_url):
    project, env = enroll
    before = content(pg_url, "school_enroll")
    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest", "--dedupe-order", "enrolled_on")
    assert proc.returncode == 1
    assert "no such column" in report["refusals"][0]["reason"]
    assert content(pg_url, "school_enroll") == before


# -- a composite key over many column types, with NULLs ------------------------------------------
READINGS = [
    Rev("r1", "readings", """
        op.execute('''CREATE TABLE readings (
            id serial PRIMARY KEY, device text, taken_on date, value numeric(12, 4), ratio double precision,
            payload json, doc jsonb, raw bytea, tags text[], at timestamptz, span interval, ok boolean)''')
    """),
    Rev("r2", "one reading per device and day", """
        op.create_unique_constraint("uq_readings_device_day", "readings", ["device", "taken_on"])
    """),
]

READING_ROWS = (
    "INSERT INTO readings (device, taken_on, value, ratio, payload, doc, raw, tags, at, span, ok) VALUES "
    "('d1', '2024-01-01', 1.5, 0.1, '{\"b\": 1,  \"a\": [1, 2]}', '{\"k\": \"v\"}', '\\x00ff', '{a,\"b c\"}', "
    "'2024-01-01 10:00:00.123456+00', '1 day 02:00', true), "
    "('d1', '2024-01-01', 1.25, 1e-300, '{\"dup\": 1, \"dup\": 2}', '[1, 2.5]', '\\x', '{}', "
    "'2024-01-01 11:00+05', '-3 hours', false), "
    "('d1', NULL, 2, 3.0, 'null', NULL, NULL, NULL, NULL, NULL, NULL), "
    "('d1', NULL, 3, 4.0, '\"s\"', NULL, NULL, NULL, NULL, NULL, NULL), "
    "(NULL, '2024-01-01', 4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
    "(NULL, '2024-01-01', 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
    "('d2', '2024-01-02', 123456.7891, 'Infinity', '[]', '{}', '\\xdeadbeef', '{NULL}', "
    "'2024-01-02 00:00+00', '00:00:01.5', NULL), "
    "('d2', '2024-01-02', -0.0001, 'NaN', '{\"x\": \"\\u00e9\\n\"}', '{\"a\": {\"b\": null}}', '\\x01', "
    "'{\"é\",x}', '1999-12-31 23:59:59.999999+00', '1 mon', true), "
    "('d3', '2024-01-03', 0, 0, '1', '1', '\\x02', '{z}', '2024-01-03 00:00+00', '0', false)"
)


def device_day(row):
    return None if row[1] is None or row[2] is None else (row[1], row[2])


def test_composite_key_with_nulls_keeps_every_value_exact_through_restore(tmp_path, pg_url):
    project = alembic_project(tmp_path / "readings", READINGS)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "r1"], env)
    execute(pg_url, READING_ROWS)
    before, printed = content(pg_url, "readings"), exact(pg_url, "readings")

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")

    assert proc.returncode == 0, proc.stderr
    assert constraint_exists(pg_url, "uq_readings_device_day")
    action = report["actions"][0]
    removed = expected_removed(before, device_day, lambda g: min(g, key=lambda r: r[0]))
    assert removed == {2, 8}  # rows with a NULL in the key never collide, so they all stay
    assert_deduped(pg_url, "readings", before, action, removed)
    assert any("NULL in the key" in line for line in action["evidence"])

    execute(pg_url, "ALTER TABLE readings DROP CONSTRAINT uq_readings_device_day")
    assert restore(pg_url, action["id"]).returncode == 0
    assert exact(pg_url, "readings") == printed  # json text, bytea, floats, intervals, arrays: exact
    # json keeps its own text (whitespace, key order, repeated keys), not a normalised copy
    assert rows(pg_url, "SELECT payload::text FROM readings WHERE id = 2") == [('{"dup": 1, "dup": 2}',)]


def test_nulls_not_distinct_makes_nulls_collide(tmp_path, pg_url):
    revs = [READINGS[0], Rev("r2", "nulls not distinct", """
        op.execute("ALTER TABLE readings ADD CONSTRAINT uq_readings_device_day UNIQUE NULLS NOT DISTINCT "
                   "(device, taken_on)")
    """)]
    project = alembic_project(tmp_path / "readings", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "r1"], env)
    execute(pg_url, READING_ROWS)
    before = content(pg_url, "readings")

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")

    assert proc.returncode == 0, proc.stderr
    removed = expected_removed(before, lambda r: (r[1], r[2]), lambda g: min(g, key=lambda r: r[0]))
    assert removed == {2, 4, 6, 8}
    assert_deduped(pg_url, "readings", before, report["actions"][0], removed)


# -- a partial unique index on an expression, over a sensitive column -----------------------------
ACCOUNTS = [
    Rev("a1", "accounts", """
        op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("email", sa.Text, nullable=False),
                        sa.Column("deleted_at", sa.DateTime, nullable=True))
    """),
    Rev("a2", "one live account per email", """
        op.create_index("uq_accounts_live_email", "accounts", [sa.text("lower(email)")], unique=True,
                        postgresql_where=sa.text("deleted_at IS NULL"))
    """),
]


def test_partial_expression_index_dedupes_only_the_rows_it_covers_and_masks_emails(tmp_path, pg_url):
    project = alembic_project(tmp_path / "accounts", ACCOUNTS)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(pg_url, "INSERT INTO accounts (email, deleted_at) VALUES "
                    "('Zoe@Example.com', NULL), ('zoe@example.com', NULL), ('zoe@example.com', '2023-01-01'), "
                    "('ZOE@EXAMPLE.COM', '2023-02-01'), ('max@example.com', NULL), ('MAX@example.com', NULL), "
                    "('ida@example.com', NULL)")
    before = content(pg_url, "accounts")

    refused, report = guard(project, UPGRADE, env)
    assert refused.returncode == 1
    assert content(pg_url, "accounts") == before
    shown = " ".join(report["refusals"][0]["human_steps"])
    assert "(lower(email))=(m***): 2 rows" in shown and "(lower(email))=(z***): 2 rows" in shown
    assert "example.com" not in shown and "example.com" not in refused.stderr.split("refused (")[-1].split(
        "SQL to consider")[0]

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-newest")

    assert proc.returncode == 0, proc.stderr
    assert rows(pg_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_accounts_live_email'")

    def live_email(row):
        return None if row[2] is not None else row[1].lower()

    removed = expected_removed(before, live_email, lambda g: max(g, key=lambda r: r[0]))
    assert removed == {1, 5}  # the soft-deleted duplicates (3, 4) are outside the index: untouched
    assert_deduped(pg_url, "accounts", before, report["actions"][0], removed)


def test_a_failed_concurrent_build_leaves_an_invalid_index_that_the_dedupe_replaces(tmp_path, pg_url):
    revs = [ENROLL[0], Rev("s2", "unique index, concurrently", """
        with op.get_context().autocommit_block():
            op.create_index("uq_enroll_user_course", "school_enroll", ["user_id", "course_id"], unique=True,
                            postgresql_concurrently=True)
    """)]
    project = alembic_project(tmp_path / "school", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "s1"], env)
    execute(pg_url, *ENROLL_ROWS)
    before = content(pg_url, "school_enroll")

    # Reactive (--no-preflight): the concurrent build really fails first and leaves its INVALID index;
    # with the prediction up front the dedupe would come first and no build would ever fail.
    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest", "--no-preflight")

    assert proc.returncode == 0, proc.stderr
    # Not the INVALID leftover of the first, failed build: a valid index that enforces the key.
    assert rows(pg_url, "SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = "
                        "'uq_enroll_user_course'::regclass") == [(True, True)]
    action = report["actions"][0]
    assert "INVALID" in " ".join(action["evidence"])
    assert "CREATE UNIQUE INDEX uq_enroll_user_course" in action["recorded"]["dropped_invalid_index"]
    assert_deduped(pg_url, "school_enroll", before, action, {3, 4, 7})


# -- duplicates that other tables reference ----------------------------------------------------
def referenced(on_delete: str) -> list[Rev]:
    return [ENROLL[0], Rev("s2", "grades and enroll unique", f"""
        op.create_table("school_grade", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("enroll_id", sa.BigInteger,
                                  sa.ForeignKey("school_enroll.id", ondelete="{on_delete}"), nullable=True),
                        sa.Column("grade", sa.String(2), nullable=False))
        op.create_table("school_note", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("enroll_id", sa.BigInteger, sa.ForeignKey("school_enroll.id")),
                        sa.Column("body", sa.Text))
    """), Rev("s3", "enroll unique together", f"""
        op.create_unique_constraint("{UNIQ}", "school_enroll", ["user_id", "course_id"])
    """)]


GRADES = ("INSERT INTO school_grade (enroll_id, grade) VALUES (1, 'A'), (3, 'B'), (3, 'B+'), (4, 'C'), "
          "(7, 'A'), (2, 'F'), (NULL, 'X')")
NOTES = "INSERT INTO school_note (enroll_id, body) VALUES (4, 'late'), (6, 'ok')"


@pytest.fixture(params=["CASCADE", "NO ACTION", "SET NULL"])
def graded(request, tmp_path, pg_url):
    project = alembic_project(tmp_path / "school", referenced(request.param))
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "s2"], env)
    execute(pg_url, *ENROLL_ROWS, GRADES, NOTES)
    return project, env, request.param


def test_referenced_duplicates_are_refused_without_repoint_and_nothing_changes(graded, pg_url):
    project, env, on_delete = graded
    tables = {t: content(pg_url, t) for t in ("school_enroll", "school_grade", "school_note")}

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")

    assert proc.returncode == 1
    assert {t: content(pg_url, t) for t in tables} == tables
    refusal = report["refusals"][0]
    assert "referenced by rows of school_grade, school_note" in refusal["reason"]
    steps = " ".join(refusal["human_steps"])
    assert f"4 row(s) of school_grade.enroll_id (school_grade_enroll_id_fkey, ON DELETE {on_delete})" in steps
    assert "1 row(s) of school_note.enroll_id" in steps
    assert "--dedupe-repoint" in steps


def test_repoint_moves_references_to_the_kept_row_deletes_nothing_elsewhere_and_restore_undoes_it(graded, pg_url):
    project, env, _on_delete = graded
    before = content(pg_url, "school_enroll")
    grades, notes = content(pg_url, "school_grade"), content(pg_url, "school_note")

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest", "--dedupe-repoint")

    assert proc.returncode == 0, proc.stderr
    assert constraint_exists(pg_url, UNIQ)
    action = report["actions"][0]
    assert_deduped(pg_url, "school_enroll", before, action, {3, 4, 7})
    # Every grade and note is still there (no CASCADE ran), each now pointing at its group's kept row.
    kept = {3: 2, 4: 2, 7: 6}
    assert content(pg_url, "school_grade") == [(i, kept.get(e, e), g) for i, e, g in grades]
    assert content(pg_url, "school_note") == [(i, kept.get(e, e), b) for i, e, b in notes]
    assert action["recorded"]["references_repointed"] == {"school_grade_enroll_id_fkey": 4,
                                                          "school_note_enroll_id_fkey": 1}
    assert len(quarantined(pg_url, action["id"], "reference")) == 5

    execute(pg_url, f"ALTER TABLE school_enroll DROP CONSTRAINT {UNIQ}")
    done = restore(pg_url, action["id"])
    assert done.returncode == 0, done.stderr
    assert content(pg_url, "school_enroll") == before
    assert content(pg_url, "school_grade") == grades
    assert content(pg_url, "school_note") == notes


def test_self_referencing_duplicates_are_repointed_too(tmp_path, pg_url):
    revs = [Rev("t1", "categories", """
        op.create_table("category", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("parent_id", sa.Integer, sa.ForeignKey("category.id", ondelete="CASCADE")),
                        sa.Column("slug", sa.String(40), nullable=False))
    """), Rev("t2", "unique slug", """
        op.create_index("uq_category_slug", "category", ["slug"], unique=True)
    """)]
    project = alembic_project(tmp_path / "cat", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "t1"], env)
    execute(pg_url, "INSERT INTO category (parent_id, slug) VALUES (NULL, 'root'), (NULL, 'root'), (2, 'a'), "
                    "(2, 'b'), (3, 'a')")
    before = content(pg_url, "category")

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest", "--dedupe-repoint")

    assert proc.returncode == 0, proc.stderr
    assert content(pg_url, "category") == [(1, None, "root"), (3, 1, "a"), (4, 1, "b")]
    execute(pg_url, "DROP INDEX uq_category_slug")
    assert restore(pg_url, report["actions"][0]["id"]).returncode == 0
    assert content(pg_url, "category") == before


# -- check, Flask-Migrate, and duplicates the revision makes itself ----------------------------
def test_check_predicts_the_duplicates_before_the_deploy_and_changes_nothing(enroll, pg_url, run_cli):
    project, env = enroll
    before = content(pg_url, "school_enroll")

    proc = run_cli(["check", "--", *UPGRADE], env=env, cwd=project)

    assert proc.returncode == 1
    assert "revision s2 (" in proc.stderr and "would fail (duplicate_data" in proc.stderr
    assert "2 duplicate group(s) (3 surplus row(s)) in school_enroll" in proc.stderr
    assert "(user_id, course_id)=(2, 1), 3 rows" in proc.stderr
    assert content(pg_url, "school_enroll") == before and not has_quarantine(pg_url)

    planned = run_cli(["check", "--dedupe", "keep-oldest", "--", *UPGRADE], env=env, cwd=project)
    assert planned.returncode == 1
    assert "run would apply dedupe on table school_enroll (user_id, course_id)" in planned.stderr
    assert content(pg_url, "school_enroll") == before and not has_quarantine(pg_url)


def test_check_trusts_a_revision_that_dedupes_before_adding_the_key(tmp_path, pg_url, run_cli):
    revs = [ENROLL[0], Rev("s2", "dedupe then unique", f"""
        op.execute("DELETE FROM school_enroll a USING school_enroll b WHERE a.user_id = b.user_id "
                   "AND a.course_id = b.course_id AND a.id > b.id")
        op.create_unique_constraint("{UNIQ}", "school_enroll", ["user_id", "course_id"])
    """)]
    project = alembic_project(tmp_path / "school", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "s1"], env)
    execute(pg_url, *ENROLL_ROWS)
    assert run_cli(["check", "--", *UPGRADE], env=env, cwd=project).returncode == 0


def test_duplicates_made_by_the_revision_itself_are_refused(tmp_path, pg_url):
    revs = [ENROLL[0], Rev("s2", "import then unique", f"""
        op.execute("INSERT INTO school_enroll (user_id, course_id, source) VALUES (1, 1, 'x'), (1, 1, 'y')")
        op.create_unique_constraint("{UNIQ}", "school_enroll", ["user_id", "course_id"])
    """)]
    project = alembic_project(tmp_path / "school", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "s1"], env)
    execute(pg_url, *ENROLL_ROWS[:2])

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")

    assert proc.returncode == 1
    assert "revision's own data steps" in report["refusals"][0]["reason"]
    assert content(pg_url, "school_enroll") == []


def test_flask_db_upgrade_dedupes_the_same_way(tmp_path, pg_url):
    project = flask_project(tmp_path / "app", ENROLL, env={})
    env = {"APP_DATABASE_URL": pg_url}
    flask = [tool("flask"), "--app", "app:create_app", "db"]
    bare(project, [*flask, "upgrade", "s1"], env)
    execute(pg_url, *ENROLL_ROWS)
    before = content(pg_url, "school_enroll")

    proc, report = guard(project, [*flask, "upgrade"], env, "--dedupe", "keep-oldest")

    assert proc.returncode == 0, proc.stderr
    assert report["framework"] == "flask-migrate"
    assert constraint_exists(pg_url, UNIQ)
    assert_deduped(pg_url, "school_enroll", before, report["actions"][0], {3, 4, 7})
