"""Write docs/examples/<status>-comment.md and <status>-summary.md from the example reports.

Run from the repository root after changing a template or a renderer:

    PYTHONPATH=src python scripts/render_examples.py

tests/report/test_examples_docs.py fails when the committed files are out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "examples"
# The example reports live with the tests that check them; the key is what the GitHub Action passes.
EXAMPLE_KEY = "migrations"


def render_all() -> dict[Path, str]:
    """Every example file's path and content, without writing anything."""
    sys.path.insert(0, str(ROOT / "tests" / "report"))
    sys.path.insert(0, str(ROOT / "src"))
    from report_examples import EXAMPLES, SECRETS

    from migration_guard.report.render import to_markdown

    files = {}
    for status, build in EXAMPLES.items():
        report = build()
        for flavor in ("comment", "summary"):
            text = to_markdown(report, flavor=flavor, key=EXAMPLE_KEY, secrets=SECRETS)
            files[OUT / f"{status}-{flavor}.md"] = text
    return files


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in render_all().items():
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
