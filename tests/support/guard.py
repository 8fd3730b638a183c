"""Driving a project under test: the bare tool, the guard, and reading the database back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.cli import clean_env, run_cli

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    return str(BIN / name)


def bare(project: Path, argv: list[str], env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """The user's own command without the guard (used to prepare databases, and as the baseline)."""
    proc = subprocess.run(argv, cwd=project, env=clean_env(env), capture_output=True, text=True, timeout=180)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def guard(project: Path, argv: list[str], env: dict | None = None, *options: str, report: bool = True):
    """`migration-guard run [options] -- argv`; returns (process, JSON report or None)."""
    report_path = project / f"report-{os.getpid()}-{len(list(project.glob('report-*.json')))}.json"
    args = ["run", *options]
    if report:
        args += ["--report-json", str(report_path)]
    proc = run_cli([*args, "--", *argv], env=env, cwd=project)
    data = json.loads(report_path.read_text()) if report and report_path.exists() else None
    return proc, data


def rows(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def version(url: str, table: str = "alembic_version") -> set[str]:
    return {r[0] for r in rows(url, f"SELECT version_num FROM {table}")}


def columns(url: str, table: str) -> dict[str, str]:
    return dict(rows(url, "SELECT column_name, data_type FROM information_schema.columns "
                          "WHERE table_name = :t ORDER BY ordinal_position", t=table))
