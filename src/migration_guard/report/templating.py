"""The Jinja2 environment for the Markdown report and the pull-request comment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from migration_guard.report import describe, mdtext

_HERE = Path(__file__).resolve().parent


def template_dirs(module_dir: Path = _HERE) -> list[Path]:
    """Where the templates may be, in order.

    Installed from a wheel, pyproject force-includes `templates/` as `migration_guard/templates`, next to
    this subpackage. From a source checkout or an editable install the package is `<repo>/src/
    migration_guard`, and the templates are still at `<repo>/templates`.
    """
    package_dir = module_dir.parent
    dirs = [package_dir / "templates"]
    # Only in the src layout: an installed package's grandparent is a lib folder, not our repository.
    if package_dir.parent.name == "src":
        dirs.append(package_dir.parent.parent / "templates")
    return dirs


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    dirs = [d for d in template_dirs() if d.is_dir()]
    if not dirs:
        raise FileNotFoundError(
            "migration-guard templates not found; looked in " + ", ".join(str(d) for d in template_dirs())
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        # Markdown, not HTML: escaping is done per value by the mdtext filters.
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        code=mdtext.code,
        fence=mdtext.fence,
        text=mdtext.text,
        prose=mdtext.prose,
        cell=mdtext.cell,
        sql=mdtext.sql,
        data=mdtext.data,
        shorten=mdtext.shorten,
        duration=mdtext.duration,
        describe=describe.describe,
        action_words=describe.action_words,
        dialect_name=describe.dialect_name,
        statements_label=describe.statements_label,
    )
    return env
