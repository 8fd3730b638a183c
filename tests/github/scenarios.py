"""Real Alembic projects on a real PostgreSQL database, broken the ways the GitHub tests need:
a hotfix column the guard recovers from, a column of another type it refuses, and nothing broken."""

from __future__ import annotations

from pathlib import Path

from tests.support.guard import bare, execute, tool
from tests.support.projects import Rev, alembic_project

UPGRADE = [tool("alembic"), "upgrade", "head"]

REVISIONS = [
    Rev("a1", "create settings", """
        op.create_table("settings", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(50), nullable=False))
        op.execute("INSERT INTO settings (name) VALUES ('alpha'), ('beta')")
    """),
    Rev("b2", "add google id", """
        op.create_index("ix_settings_name", "settings", ["name"])
        op.add_column("settings", sa.Column("google_id", sa.String(255), nullable=True))
        op.execute("UPDATE settings SET google_id = 'g-' || id")
    """),
    Rev("c3", "create teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)))
    """),
]

# The migration file of b2, relative to the project, and the line that adds the column.
B2_FILE = "migrations/versions/b2_add_google_id.py"


def b2_add_column_line(project: Path) -> int:
    lines = (project / B2_FILE).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if 'sa.Column("google_id"' in line)


def project(root: Path, url: str, breakage: str) -> Path:
    """breakage: "hotfix" (the column was added by hand: recovered), "other_type" (the column exists as
    INTEGER: refused), or "none"."""
    app = alembic_project(root, REVISIONS)
    env = {"DATABASE_URL": url}
    if breakage != "none":
        bare(app, [tool("alembic"), "upgrade", "a1"], env)
        column_type = "VARCHAR(255)" if breakage == "hotfix" else "INTEGER"
        execute(url, f"ALTER TABLE settings ADD COLUMN google_id {column_type}")
    return app
