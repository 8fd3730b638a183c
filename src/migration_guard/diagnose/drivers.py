"""Database drivers as logs name them: module paths, friendly names, dialects, SQLSTATEs.

The exception line says which driver raised (`psycopg2.errors.DuplicateColumn`,
`asyncpg.exceptions.DuplicateTableError`, `pymysql.err.OperationalError`,
`MySQLdb._exceptions.OperationalError`, `sqlite3.OperationalError`) and, for PostgreSQL's drivers,
the class name is the SQLSTATE's condition name.
"""

from __future__ import annotations

import re

DRIVER = re.compile(
    r"\b(?P<driver>psycopg2|psycopg|asyncpg|pymysql|MySQLdb|_mysql_exceptions|sqlite3|aiosqlite|pg8000"
    r"|mysql\.connector)\.(?:[\w.]{0,80}\.)?(?P<cls>[A-Z]\w{0,80})"
)
# Module name -> the name reports use (the package users install).
DRIVER_NAMES = {
    "MySQLdb": "mysqlclient",
    "_mysql_exceptions": "mysqlclient",
    "aiosqlite": "sqlite3",
    "mysql.connector": "mysql-connector",
}
DIALECT_OF_DRIVER = {
    "psycopg2": "postgresql",
    "psycopg": "postgresql",
    "asyncpg": "postgresql",
    "pg8000": "postgresql",
    "pymysql": "mysql",
    "mysqlclient": "mysql",
    "mysql-connector": "mysql",
    "sqlite3": "sqlite",
}
# psycopg2.errors / psycopg.errors class names and asyncpg's (same names + "Error") -> SQLSTATE
SQLSTATE_OF_CLASS = {
    "DuplicateColumn": "42701",
    "DuplicateTable": "42P07",
    "DuplicateObject": "42710",
    "UniqueViolation": "23505",
    "DuplicateSchema": "42P06",
    "DuplicateFunction": "42723",
    "DuplicateDatabase": "42P04",
    "UndefinedTable": "42P01",
    "UndefinedColumn": "42703",
    "UndefinedObject": "42704",
    "NotNullViolation": "23502",
    "ForeignKeyViolation": "23503",
    "CheckViolation": "23514",
    "SyntaxError": "42601",
    "InsufficientPrivilege": "42501",
    "LockNotAvailable": "55P03",
    "DeadlockDetected": "40P01",
    "QueryCanceled": "57014",
}


def driver_name(module: str) -> str:
    return DRIVER_NAMES.get(module, module)


def sqlstate_of(cls: str) -> str | None:
    """`DuplicateTable` (psycopg) or `DuplicateTableError` (asyncpg) -> `42P07`."""
    found = SQLSTATE_OF_CLASS.get(cls)
    if found is None and cls.endswith("Error"):
        found = SQLSTATE_OF_CLASS.get(cls[:-5])
    return found
