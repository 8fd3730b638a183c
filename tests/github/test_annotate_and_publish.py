"""Where an annotation points, how workflow commands are escaped, and the comment that is too long:
in process, against the local fake API, with the kinds of migration files users write."""

from __future__ import annotations

import io
import textwrap

import pytest

from migration_guard.diagnose.failure import Failure
from migration_guard.github import publish
from migration_guard.github.annotate import Annotation, locate
from migration_guard.report.model import Action, Attempt, Report
from migration_guard.settings import Settings
from tests.github.conftest import PR, TOKEN, Actions, _unescape, annotations

ALEMBIC_RAW_SQL = '''\
"""add google id (raw SQL)"""
from alembic import op

revision = "b2"


def upgrade():
    op.execute("UPDATE users SET google_id = NULL")  # another table's google_id
    op.execute("ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)")


def downgrade():
    op.drop_column("settings", "google_id")
'''

ALEMBIC_ENUM = '''\
def upgrade():
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state", sa.Enum("draft", "published", name="post_state"), nullable=False),
    )
'''

DJANGO = '''\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_invoice")]
    operations = [
        migrations.AddField(
            model_name="settings",
            name="google_id",
            field=models.CharField(max_length=255, null=True),
        ),
    ]
'''

NOTHING = '''\
def upgrade():
    op.execute(SQL_FROM_A_CONSTANT)
'''


@pytest.mark.parametrize(("source", "failure", "line"), [
    # Inside upgrade(), never the downgrade's drop; the line that names the table wins a tie.
    (ALEMBIC_RAW_SQL, Failure("duplicate_column", table="settings", column="google_id"), 9),
    (ALEMBIC_ENUM, Failure("duplicate_type", object_name="post_state", object_type="type"), 5),
    (ALEMBIC_ENUM, Failure("duplicate_relation", object_name="posts", table="posts"), 3),
    (DJANGO, Failure("duplicate_column", table="billing_settings", column="google_id"), 9),
    (NOTHING, Failure("duplicate_column", table="t", column="c"), 1),  # the `def upgrade` line
    (NOTHING, Failure("multiple_heads"), 1),
])
def test_locate_points_at_the_operation(tmp_path, source, failure, line):
    path = tmp_path / "migration.py"
    path.write_text(textwrap.dedent(source))
    assert locate(path, failure) == line


def test_locate_without_the_file():
    assert locate(__import__("pathlib").Path("/nonexistent/b2.py"), Failure("duplicate_column", column="x")) is None


def test_workflow_command_escaping_keeps_one_line():
    note = Annotation("error", "migration-guard: a, b", "100% sure\nsecond line: yes", "dir/a,b.py", 3)
    command = note.command()
    assert "\n" not in command
    [parsed] = annotations(command)
    assert parsed == {"level": "error", "file": "dir/a,b.py", "line": "3", "title": "migration-guard: a, b",
                      "message": "100% sure\nsecond line: yes"}
    assert _unescape("%250A") == "%0A"


def _huge_refusal() -> Report:
    failure = Failure("duplicate_relation", sqlstate="42P07", object_type="table", object_name="events",
                      table="events", revision="b2", statement="CREATE TABLE events (id int)")
    statements = [f"INSERT INTO events_archive SELECT * FROM events WHERE id = {i}" for i in range(3000)]
    return Report(status="recovered", command=["alembic", "upgrade", "head"], failures=[failure],
                  actions=[Action("mg-1", "skip_satisfied", "table events", ["it exists as wanted"], statements,
                                  applied=True, failure_kind="duplicate_relation", revision="b2")],
                  attempts=[Attempt(1, 1, 1.0, failure), Attempt(2, 0, 1.0)], log_tail="x" * 20000,
                  summary="Migrated after recovery.")


def test_a_report_too_long_for_a_comment_gets_the_short_version(tmp_path, fake_github):
    report = _huge_refusal()
    actions = Actions(tmp_path / "runner", fake_github.url, workspace=tmp_path)
    out, err = io.StringIO(), io.StringIO()

    publish(report, Settings(), env=actions.env(), cwd=tmp_path, out=out, err=err)

    [posted] = fake_github.issue_comments[PR]
    body = posted["body"]
    assert len(body) <= 65536
    assert body.splitlines()[0].startswith("<!-- migration-guard:")
    assert "Shortened to fit the size limit" in body
    assert "[Full report](https://github.example/acme/shop/actions/runs/4242)" in body  # the run page
    assert "`skip_satisfied`" in body and "it exists as wanted" in body  # what was done still shows
    # The job summary has room for all of it.
    assert "WHERE id = 2999;" in actions.summary()
    assert TOKEN not in out.getvalue() + err.getvalue()


def test_publishing_never_raises(tmp_path):
    """Even an unwritable GITHUB_OUTPUT or a broken event file is a warning, not a failed deploy."""
    actions = Actions(tmp_path / "runner", "http://127.0.0.1:9", workspace=tmp_path)
    actions.event_path.write_text("{not json")
    env = actions.env(GITHUB_OUTPUT=str(tmp_path / "missing" / "dir" / "out"))
    err = io.StringIO()

    publish(_huge_refusal(), Settings(), env=env, cwd=tmp_path, out=io.StringIO(), err=err)

    lines = err.getvalue().splitlines()
    assert [line for line in lines if "warning" in line] == [
        "::warning::migration-guard: cannot write the step outputs: No such file or directory"]
