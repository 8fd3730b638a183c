"""MySQL and SQLite statements read as Effects by sqlglot, and alembic's offline output cut into statements."""

from __future__ import annotations

from migration_guard.operations import effects_of, split_statements


def _ops(statement: str, dialect: str) -> list[tuple]:
    return [(e.op, e.name, e.table, e.cmd) for e in effects_of(statement, dialect)]


def test_mysql_multi_command_alter_table_is_one_effect_per_command() -> None:
    effects = effects_of(
        "ALTER TABLE t ADD COLUMN a INT UNSIGNED NOT NULL DEFAULT 0, ADD INDEX ix_a (a), ADD UNIQUE KEY uq (b(10)), "
        "ADD CONSTRAINT ck CHECK (a > 0), DROP COLUMN z, DROP INDEX ix_old, "
        "ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES y (id), DROP FOREIGN KEY fk2", "mysql")
    assert [(e.op, e.name, e.table, e.cmd) for e in effects] == [
        ("add_column", "a", "t", 0), ("create_index", "ix_a", "t", 1), ("create_index", "uq", "t", 2),
        ("add_constraint", "ck", "t", 3), ("drop_column", "z", "t", 4), ("drop_index", "ix_old", "t", 5),
        ("add_constraint", "fk", "t", 6), ("drop_constraint", "fk2", "t", 7)]
    assert effects[2].detail["unique"] is True
    assert effects[6].detail == {"type": "foreign", "columns": ["x"], "ref_table": "y", "ref_columns": ["id"]}


def test_mysql_tables_indexes_constraints_and_data() -> None:
    create = effects_of("CREATE TABLE settings (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tname VARCHAR(50) NOT NULL, "
                        "\n\tPRIMARY KEY (id)\n)", "mysql")[0]
    assert (create.op, create.name, create.detail["columns"]) == ("create_table", "settings", ["id", "name"])
    index = effects_of("CREATE UNIQUE INDEX ix_members_email ON members (email)", "mysql")[0]
    assert (index.op, index.name, index.table, index.detail["unique"]) == (
        "create_index", "ix_members_email", "members", True)
    unique = effects_of("ALTER TABLE t ADD CONSTRAINT uq_x UNIQUE (a, b)", "mysql")[0]
    assert (unique.op, unique.detail) == ("add_constraint", {"type": "unique", "columns": ["a", "b"]})
    assert _ops("DROP INDEX ix ON t", "mysql") == [("drop_index", "ix", "t", 0)]
    assert [e.op for e in effects_of("UPDATE settings SET google_id = CONCAT('g-', id)", "mysql")] == ["data"]
    assert [e.op for e in effects_of("SELECT SLEEP(2)", "mysql")] == ["data"]


def test_sqlite_statements_alembic_emits() -> None:
    assert _ops("ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)", "sqlite") == [
        ("add_column", "google_id", "settings", 0)]
    assert _ops("CREATE TABLE _alembic_tmp_settings (id INTEGER NOT NULL, PRIMARY KEY (id))", "sqlite") == [
        ("create_table", "_alembic_tmp_settings", "_alembic_tmp_settings", 0)]
    assert [e.op for e in effects_of("INSERT INTO _alembic_tmp_s (id) SELECT s.id FROM s", "sqlite")] == ["data"]
    assert _ops("DROP TABLE IF EXISTS a, b", "sqlite") == [("drop_table", "a", None, 0), ("drop_table", "b", None, 0)]
    partial = effects_of("CREATE UNIQUE INDEX ix ON members (email) WHERE email IS NOT NULL", "sqlite")[0]
    assert (partial.op, partial.table, partial.detail["unique"]) == ("create_index", "members", True)


def test_what_cannot_be_read_carries_no_checkable_effect() -> None:
    for statement, dialect in [("CREATE INDEX ix ON m (a(10)) USING BTREE", "mysql"),
                               ("THIS IS NOT SQL (", "mysql"), ("CREATE TEMP TABLE x (a)", "sqlite"),
                               ("ALTER TABLE t ADD COLUMN (a INT, b INT)", "mysql")]:
        assert not any(e.checkable for e in effects_of(statement, dialect)), statement


def test_offline_output_is_cut_at_terminators_never_inside_strings() -> None:
    body = ("CREATE TABLE a (x VARCHAR(3) DEFAULT ';\n\n');\n\nINSERT INTO a VALUES ('a;\n\nb');\n\n"
            "UPDATE a SET x = 1;\n\n")
    assert split_statements(body, "mysql") == [
        "CREATE TABLE a (x VARCHAR(3) DEFAULT ';\n\n')", "INSERT INTO a VALUES ('a;\n\nb')", "UPDATE a SET x = 1"]
    trigger = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\nEND;\n\nSELECT 1;\n\n"
    assert split_statements(trigger, "sqlite") == [
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\nEND", "SELECT 1"]
