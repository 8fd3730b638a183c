"""The normalizer: prefixes, control codes, SQL blocks and wrapped messages."""

from __future__ import annotations

from migration_guard.diagnose.normalize import normalize


def texts(log: str) -> list[str]:
    return [line.text for line in normalize(log)]


def test_ansi_and_carriage_returns() -> None:
    log = "\x1b[31mERROR\x1b[0m: boom\r\nprogress 10%\rprogress 100%\r\n\x1b]0;title\x07plain\n"
    assert texts(log) == ["ERROR: boom", "progress 100%", "plain", ""]


def test_compose_prefix_keeps_indentation() -> None:
    log = 'web-1  |   File "/app/x.py", line 3, in f\nweb-1  |     f()\nweb-1  |\n'
    lines = normalize(log)
    assert [line.text for line in lines] == ['  File "/app/x.py", line 3, in f', "    f()", "", ""]
    assert lines[0].code and lines[1].code


def test_timestamps_glued_or_bracketed_and_level_tags() -> None:
    log = (
        '2023-02-20 01:39:43.486762+00:00File "/x.py", line 1, in q\n'
        "2021-03-01T10:00:00.123Z[error] boom\n"
        "[2026-01-31 13:31:10 +0000] [7] [INFO] returning connection\n"
        "2021-07-09 19:42:53,814: alembic.runtime.migration: Running upgrade a -> b, doc\n"
        "2024-05-01T12:00:00.1234567Z app  | INFO  [alembic.runtime.migration] Context impl MySQLImpl.\n"
        '2023-09-20 17:51:30.331 UTC [71] user@db ERROR:  relation "x" already exists\n'
    )
    lines = normalize(log)
    assert [line.text for line in lines[:6]] == [
        'File "/x.py", line 1, in q',
        "boom",
        "returning connection",
        "Running upgrade a -> b, doc",
        "Context impl MySQLImpl.",
        'ERROR:  relation "x" already exists',
    ]
    assert [line.level for line in lines[:6]] == [None, "ERROR", "INFO", None, "INFO", None]
    assert all(line.stamped for line in lines[:6])


def test_exception_class_is_not_taken_for_a_logger_name() -> None:
    log = '2021-07-09 19:42:53,820: psycopg2.errors.DuplicateObject: type "x" already exists\n'
    assert texts(log)[0] == 'psycopg2.errors.DuplicateObject: type "x" already exists'


def test_sql_block_joined_with_its_line_number() -> None:
    log = (
        "E: boom\n\n[SQL: \nCREATE TABLE t (\n\ttags TEXT[]\n)\n\n]\n"
        + "(Background on this error at: x)\nnext\n"
    )
    lines = normalize(log)
    block = next(line for line in lines if line.text.startswith("[SQL:"))
    assert block.lineno == 3
    assert block.text == "[SQL: \nCREATE TABLE t (\n\ttags TEXT[]\n)\n\n]"
    assert [line.text for line in lines][-3:] == ["(Background on this error at: x)", "next", ""]


def test_unclosed_sql_block_stops_at_a_traceback() -> None:
    log = "[SQL:\nCREATE TABLE t (\n  id INT\n)\n\nTraceback (most recent call last):\n"
    assert texts(log)[:2] == ["[SQL:\nCREATE TABLE t (\n  id INT\n)", ""]


def test_server_statement_continuation_lines() -> None:
    log = (
        "2024-01-01 00:00:00 UTC [1] STATEMENT:  CREATE TABLE t (\n"
        "\t\tid SERIAL\n"
        "\t)\n"
        "2024-01-01 00:00:01 UTC [1] LOG:  next\n"
    )
    assert texts(log)[:2] == ["STATEMENT:  CREATE TABLE t (\n\t\tid SERIAL\n\t)", "LOG:  next"]


def test_hard_wrapped_exception_is_joined_without_a_character() -> None:
    head = "django.db.migrations.exceptions.InconsistentMigrationHistory: Migration a.0001_initial is applied"
    log = head + " before its dependency c\np_users.0001_initial on database 'default'.\n"
    lines = normalize(log)
    assert lines[0].text == head + " before its dependency cp_users.0001_initial on database 'default'."
    assert lines[0].lineno == 1


def test_short_or_complete_lines_are_not_joined() -> None:
    log = (
        "sqlite3.OperationalError: duplicate column name: timestamp\nfoo\n"
        'psycopg2.errors.UndefinedTable: relation "a_rather_long_table_name_for_wrapping" does not exist.'
        "\nbar\n"
    )
    assert texts(log)[:4] == [
        "sqlite3.OperationalError: duplicate column name: timestamp",
        "foo",
        'psycopg2.errors.UndefinedTable: relation "a_rather_long_table_name_for_wrapping" does not exist.',
        "bar",
    ]


def test_traceback_source_lines_are_code() -> None:
    log = (
        '  File "/m.py", line 5, in upgrade\n'
        '    raise InconsistentMigrationHistory("Migration a.1 is applied before its dependency b.1")\n'
        "    ^^^^^^^^^^\n"
        'File "asyncpg/protocol/protocol.pyx", line 201, in bind_execute\n'
        'asyncpg.exceptions.DuplicateTableError: relation "user" already exists\n'
    )
    assert [line.code for line in normalize(log)] == [True, True, True, True, False, False]


def test_window_keeps_the_tail_and_counts_lines() -> None:
    from migration_guard.diagnose import normalize as module  # the module, not the function

    log = "noise\n" * (module.MAX_CHARS // 6 + 1000) + "last line\n"
    lines = normalize(log)
    assert lines[-2].text == "last line"
    assert lines[-2].lineno == log.count("\n")
