"""Reading a migrated database back the same way on MariaDB and SQLite (tests only)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from tests.support.guard import rows


def _dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def columns(url: str, table: str) -> dict[str, str]:
    """Column name -> type as the database prints it (MySQL COLUMN_TYPE, SQLite declared type)."""
    if _dialect(url) == "sqlite":
        return {r[1]: r[2] for r in rows(url, f"PRAGMA table_info(\"{table}\")")}
    return {r[0]: r[1] for r in rows(url, f"SHOW COLUMNS FROM `{table}`")}


def indexes(url: str, table: str) -> dict[str, bool]:
    """Index name -> unique, for the indexes a migration names (not the primary key)."""
    if _dialect(url) == "sqlite":
        return {r[1]: bool(r[2]) for r in rows(url, f"PRAGMA index_list(\"{table}\")") if r[3] == "c"}
    return {r[2]: not r[1] for r in rows(url, f"SHOW INDEX FROM `{table}`") if r[2] != "PRIMARY"}


def tables(url: str) -> set[str]:
    if _dialect(url) == "sqlite":
        return {r[0] for r in rows(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {r[0] for r in rows(url, "SHOW TABLES")}


def batch_env(project) -> None:
    """Turn on alembic's batch mode in the project's env.py, as `alembic init` users do for SQLite."""
    env_py = project / "migrations" / "env.py"
    env_py.write_text(env_py.read_text().replace(
        "context.configure(connection=connection, target_metadata=target_metadata)",
        "context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)"))


def state(url: str, leave_out: tuple[str, ...] = ("migration_guard_journal",)) -> dict:
    """Every table's definition as the database prints it, and every row, to compare two databases
    that should have ended the same (MySQL's AUTO_INCREMENT counter is left out: it is not data)."""
    import re

    shape, data = {}, {}
    for table in sorted(tables(url) - set(leave_out)):
        if _dialect(url) == "sqlite":
            shape[table] = sorted(r[0] for r in rows(url, "SELECT sql FROM sqlite_master WHERE tbl_name = :t "
                                                          "AND sql IS NOT NULL", t=table))
            quoted = '"' + table.replace('"', '""') + '"'
        else:
            ddl = rows(url, f"SHOW CREATE TABLE `{table}`")[0][1]
            shape[table] = re.sub(r" AUTO_INCREMENT=\d+", "", ddl)
            quoted = f"`{table}`"
        data[table] = sorted(rows(url, f"SELECT * FROM {quoted}"), key=repr)
    return {"schema": shape, "rows": data}
