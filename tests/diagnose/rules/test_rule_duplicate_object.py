"""duplicate_object: PostgreSQL 42710 on constraints, triggers and the like; MySQL 1826; SQLite trigger."""

from __future__ import annotations


def test_constraint_for_relation(one) -> None:
    failure = one('psycopg2.errors.DuplicateObject: constraint "fk_a" for relation "orders" already exists\n')
    assert (failure.kind, failure.object_type, failure.constraint, failure.table, failure.sqlstate) == (
        "duplicate_object",
        "constraint",
        "fk_a",
        "orders",
        "42710",
    )


def test_trigger_and_extension(one) -> None:
    failure = one('psycopg.errors.DuplicateObject: trigger "audit" for relation "t" already exists\n')
    assert (failure.object_type, failure.object_name, failure.table, failure.constraint) == (
        "trigger",
        "audit",
        "t",
        None,
    )
    failure = one('psycopg2.errors.DuplicateObject: extension "postgis" already exists\n')
    assert (failure.object_type, failure.object_name, failure.table) == ("extension", "postgis", None)


def test_domain_constraint_has_no_table(one) -> None:
    failure = one(
        'psycopg2.errors.DuplicateObject: constraint "positive" for domain "money_t" already exists\n'
    )
    assert (failure.constraint, failure.table) == ("positive", None)


def test_mysql_duplicate_foreign_key_name(one) -> None:
    failure = one(
        """\
        pymysql.err.IntegrityError: (1826, "Duplicate foreign key constraint name 'fk_a'")
        [SQL: ALTER TABLE orders ADD CONSTRAINT fk_a FOREIGN KEY(a) REFERENCES t (id)]
        """
    )
    assert (failure.errno, failure.constraint, failure.table) == (1826, "fk_a", "orders")


def test_mariadb_duplicate_check_constraint_name(one) -> None:
    failure = one(
        """\
        pymysql.err.OperationalError: (1826, "Duplicate CHECK constraint name 'ck_age'")
        [SQL: ALTER TABLE members ADD CONSTRAINT ck_age CHECK (age >= 0)]
        """
    )
    assert (failure.kind, failure.errno, failure.constraint, failure.table) == (
        "duplicate_object", 1826, "ck_age", "members")


def test_mariadb_foreign_key_name_taken_is_errno_121(one) -> None:
    failure = one(
        """\
        pymysql.err.OperationalError: (1005, 'Can\\'t create table `app`.`orders` (errno: 121 "Duplicate key on \
write or update")')
        [SQL: ALTER TABLE orders ADD CONSTRAINT fk_a FOREIGN KEY(a) REFERENCES t (id)]
        """
    )
    assert (failure.kind, failure.errno, failure.constraint, failure.table) == (
        "duplicate_object", 1005, "fk_a", "orders")


def test_errno_121_outside_an_added_constraint_is_not_a_duplicate_object(one) -> None:
    failure = one(
        """\
        pymysql.err.OperationalError: (1005, 'Can\\'t create table `app`.`orders` (errno: 121 "Duplicate key on \
write or update")')
        [SQL: CREATE TABLE orders (id INTEGER)]
        """
    )
    assert failure.kind != "duplicate_object"


def test_sqlite_trigger(one) -> None:
    failure = one("sqlite3.OperationalError: trigger trg_a already exists\n")
    assert (failure.kind, failure.object_type, failure.object_name) == (
        "duplicate_object",
        "trigger",
        "trg_a",
    )


def test_policy_for_table_is_not_a_sqlite_table(one) -> None:
    failure = one('psycopg2.errors.DuplicateObject: policy "p" for table "t" already exists\n')
    assert (failure.kind, failure.object_type, failure.object_name, failure.table) == (
        "duplicate_object",
        "policy",
        "p",
        "t",
    )
