from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from report_examples import recovered

from migration_guard.report.render import to_json, write_reports
from migration_guard.report.templating import environment, template_dirs

REPO = Path(__file__).resolve().parents[2]


def test_source_checkout_finds_the_repository_templates():
    module_dir = REPO / "src" / "migration_guard" / "report"
    assert REPO / "templates" in template_dirs(module_dir)
    for name in ("report.md.j2", "comment.md.j2", "_macros.md.j2"):
        assert environment().get_template(name)


def test_installed_layout_finds_the_package_templates(tmp_path):
    # The wheel layout: site-packages/migration_guard/{report/,templates/}, no repository around it.
    site = tmp_path / "site-packages"
    shutil.copytree(REPO / "src" / "migration_guard", site / "migration_guard")
    shutil.copytree(REPO / "templates", site / "migration_guard" / "templates")
    (site / "migration_guard" / "templates" / "report.md.j2").write_text("INSTALLED {{ headline }}\n")
    code = (
        "import sys; sys.path.insert(0, 'tests/report')\n"
        "from report_examples import succeeded\n"
        "from migration_guard.report.render import to_markdown\n"
        "print(to_markdown(succeeded()), end='')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "INSTALLED Migrated\n"


def test_write_reports_writes_both_files(tmp_path):
    report = recovered()
    json_path = tmp_path / "out" / "report.json"
    md_path = tmp_path / "out" / "report.md"
    written = write_reports(report, json_path, md_path, secrets=["s3cr3t-Pa55"])
    assert written == [json_path, md_path]
    assert json.loads(json_path.read_text())["status"] == "recovered"
    assert json_path.read_text() == to_json(report)
    md = md_path.read_text()
    assert md.startswith("## [RECOVERED] Migrated after recovery\n")
    assert "s3cr3t-Pa55" not in md + json_path.read_text()


def test_write_reports_skips_a_missing_path(tmp_path):
    assert write_reports(recovered(), None, tmp_path / "r.md") == [tmp_path / "r.md"]


def test_installed_layout_does_not_look_outside_the_package(tmp_path):
    module_dir = tmp_path / "lib" / "python3.11" / "site-packages" / "migration_guard" / "report"
    assert template_dirs(module_dir) == [module_dir.parent / "templates"]
