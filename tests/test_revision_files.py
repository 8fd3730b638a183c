"""Heads read from the revision files alone agree with Alembic's, or are not claimed at all.

A wrong answer here would make a replica skip a revision, so every case Alembic reads differently
(or this reader cannot be sure of) must come back None, sending the guard to Alembic itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from migration_guard.frameworks import revision_files
from migration_guard.frameworks.detect import detect
from tests.support.projects import Rev, alembic_project, write_revisions


def alembic_heads(project: Path) -> set[str]:
    cfg = Config(str(project / "alembic.ini"))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def alembic_pending(project: Path, current: tuple[str, ...]) -> list[str]:
    script = ScriptDirectory.from_config(Config(str(project / "alembic.ini")))
    return [step.revision.revision for step in script._upgrade_revs("heads", current)]


def files_heads(project: Path):
    found = detect(["alembic", "upgrade", "head"], project).plain_files()
    graph = revision_files.graph(found[1]) if found else None
    return (found[0], graph) if graph else None


def test_linear_history(tmp_path: Path) -> None:
    project = alembic_project(tmp_path / "p", [Rev(f"r{i}", f"step {i}", "pass") for i in range(1, 6)])
    table, graph = files_heads(project)
    assert table == "alembic_version" and graph.heads == alembic_heads(project) == {"r5"}
    assert [r.id for r in graph.pending({"r2"})] == alembic_pending(project, ("r2",)) == ["r3", "r4", "r5"]
    assert [r.id for r in graph.pending(set())] == alembic_pending(project, ()) == ["r1", "r2", "r3", "r4", "r5"]
    assert graph.pending({"r5"}) == [] and graph.pending({"elsewhere"}) is None
    assert graph.revisions["r3"].description == "step 3" and graph.revisions["r3"].path.endswith(".py")


def test_branches_and_a_merge(tmp_path: Path) -> None:
    project = alembic_project(tmp_path / "p", [Rev("base", "base", "pass")])
    versions = project / "migrations" / "versions"
    write_revisions(versions, [Rev("left", "left", "pass", down="base")])
    write_revisions(versions, [Rev("right", "right", "pass", down="base")])
    assert files_heads(project)[1].heads == alembic_heads(project) == {"left", "right"}
    (versions / "merge.py").write_text('revision = "merge"\ndown_revision = ("left", "right")\n'
                                       "def upgrade():\n    pass\n")
    assert files_heads(project)[1].heads == alembic_heads(project) == {"merge"}
    pending = [r.id for r in files_heads(project)[1].pending({"left"})]
    assert sorted(pending) == sorted(alembic_pending(project, ("left",))) == ["merge", "right"]
    assert pending.index("right") < pending.index("merge")


def test_annotated_template(tmp_path: Path) -> None:
    """Alembic 1.13+'s template annotates the ids."""
    project = alembic_project(tmp_path / "p", [Rev("a1", "first", "pass")])
    (project / "migrations" / "versions" / "b2_second.py").write_text(
        "from typing import Sequence, Union\n"
        'revision: str = "b2"\ndown_revision: Union[str, None] = "a1"\n'
        "branch_labels: Union[str, Sequence[str], None] = None\n"
        "def upgrade() -> None:\n    pass\n")
    assert files_heads(project)[1].heads == alembic_heads(project) == {"b2"}


@pytest.mark.parametrize("content", [
    'import os\nrevision = os.environ.get("R", "x")\ndown_revision = "a1"\n',  # computed: only running tells
    'revision = "x"\nrevision = "y"\ndown_revision = "a1"\n',  # assigned twice
    'revision = "x"\n',  # no down_revision at all
    "HELPER = 1\n",  # not a revision: Alembic refuses the folder
    'revision = "a1"\ndown_revision = None\n',  # a duplicate id
    'revision = "x"\ndown_revision = "gone"\n',  # builds on a revision that is not there
    "def broken(:\n",
])
def test_anything_irregular_is_not_claimed(tmp_path: Path, content: str) -> None:
    project = alembic_project(tmp_path / "p", [Rev("a1", "first", "pass")])
    (project / "migrations" / "versions" / "odd.py").write_text(content)
    assert files_heads(project) is None


def test_config_it_does_not_follow_is_not_claimed(tmp_path: Path) -> None:
    project = alembic_project(tmp_path / "p", [Rev("a1", "first", "pass")])
    ini = project / "alembic.ini"
    original = ini.read_text()
    ini.write_text(original.replace("[alembic]\n", "[alembic]\nversion_locations = %(here)s/other\n"))
    assert files_heads(project) is None
    ini.write_text(original.replace("%(here)s/migrations", "myapp:migrations"))
    assert files_heads(project) is None
    ini.write_text(original)
    env_py = project / "migrations" / "env.py"
    env_py.write_text(env_py.read_text().replace("target_metadata=target_metadata)",
                                                 "target_metadata=target_metadata, version_table=TABLE)"))
    assert files_heads(project) is None


def test_named_version_table(tmp_path: Path) -> None:
    project = alembic_project(tmp_path / "p", [Rev("a1", "first", "pass")])
    env_py = project / "migrations" / "env.py"
    env_py.write_text(env_py.read_text().replace("target_metadata=target_metadata)",
                                                 'target_metadata=target_metadata, version_table="app_versions")'))
    assert files_heads(project)[0] == "app_versions" and files_heads(project)[1].heads == {"a1"}


def test_only_an_upgrade_to_head_is_answered(tmp_path: Path) -> None:
    project = alembic_project(tmp_path / "p", [Rev("a1", "first", "pass")])
    for argv in (["alembic", "upgrade", "a1"], ["alembic", "upgrade", "head", "--sql"], ["alembic", "stamp", "head"]):
        assert detect(argv, project).plain_files() is None


def test_scripts_folder_read_like_alembic(tmp_path: Path) -> None:
    project = alembic_project(tmp_path / "p", [Rev("a1", "first", "pass")])
    assert revision_files.script_folder(project / "alembic.ini", "alembic", tmp_path) == project / "migrations"
