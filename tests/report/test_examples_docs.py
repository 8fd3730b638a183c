"""docs/examples/ shows what users see; it must be what the renderer produces today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "render_examples.py"


def _render_all() -> dict[Path, str]:
    spec = importlib.util.spec_from_file_location("render_examples", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render_all()


RENDERED = _render_all()


@pytest.mark.parametrize("path", sorted(RENDERED), ids=lambda p: p.name)
def test_committed_example_is_current(path):
    assert path.exists(), f"{path.name} missing; run: PYTHONPATH=src python scripts/render_examples.py"
    assert path.read_text(encoding="utf-8") == RENDERED[path], (
        f"{path.name} is out of date; run: PYTHONPATH=src python scripts/render_examples.py"
    )


def test_there_is_an_example_of_each_flavor_for_each_status():
    from migration_guard.report.model import STATUSES

    names = {p.name for p in RENDERED}
    assert names == {f"{s}-{f}.md" for s in STATUSES for f in ("comment", "summary")}
