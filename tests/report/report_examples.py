"""Hand-built reports, one per status, with the content real runs produce.

Used by the tests and by scripts/render_examples.py (which writes docs/examples/). The log tails carry an
unmasked database URL on purpose: the renderers must mask it even when the caller forgot to.
"""

from __future__ import annotations

from migration_guard.diagnose.failure import Failure
from migration_guard.report.model import Action, Attempt, Refusal, Report, RevisionTiming

PG_PASSWORD = "s3cr3t-Pa55"
PG_URL_MASKED = "postgresql://app:***@db.internal:5432/app"
PG_URL_RAW = f"postgresql://app:{PG_PASSWORD}@db.internal:5432/app"
MYSQL_PASSWORD = "hunter2!x"
MYSQL_URL_RAW = f"mysql+pymysql://deploy:{MYSQL_PASSWORD}@mysql.internal:3306/shop"
SECRETS = [PG_PASSWORD, MYSQL_PASSWORD]

ADD_CLIENT_ID = "ALTER TABLE settings ADD COLUMN google_calendar_client_id VARCHAR(255)"


def recovered() -> Report:
    failure = Failure(
        kind="duplicate_column",
        sqlstate="42701",
        object_type="column",
        object_name="google_calendar_client_id",
        table="settings",
        column="google_calendar_client_id",
        statement=ADD_CLIENT_ID,
        revision="3f9a1c2b7d4e",
        driver="psycopg2",
        dialect="postgresql",
        message='psycopg2.errors.DuplicateColumn: column "google_calendar_client_id" of relation '
        '"settings" already exists',
        line=9,
    )
    action = Action(
        id="mg-20261121T083412-1",
        kind="skip_satisfied",
        target="column settings.google_calendar_client_id",
        evidence=[
            "`settings.google_calendar_client_id` exists as `character varying(255)`, nullable, "
            "no default: the same definition revision `3f9a1c2b7d4e` asks for",
            "`settings.google_calendar_client_secret`, added later in the same revision, does not exist",
            "Revision `7c1d2e3f4a5b` (after it) adds table `calendar_sync_state`, which does not exist: "
            "the column was made some other way, the revision was not applied and forgotten",
            "1 of 3 statements in `3f9a1c2b7d4e` is already satisfied; "
            "the other 2 and its data step still run",
        ],
        statements=[ADD_CLIENT_ID],
        applied=True,
        failure_kind="duplicate_column",
        revision="3f9a1c2b7d4e",
    )
    log_tail = "\n".join(
        [
            f"INFO  [migration_guard] target {PG_URL_RAW}",
            "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
            "INFO  [alembic.runtime.migration] Will assume transactional DDL.",
            "INFO  [alembic.runtime.migration] Running upgrade 1e2d3c4b5a69 -> 3f9a1c2b7d4e, "
            "Google Calendar sync",
            "INFO  [migration_guard.bootstrap] skipped (satisfied): " + ADD_CLIENT_ID,
            "INFO  [alembic.runtime.migration] Running upgrade 3f9a1c2b7d4e -> 7c1d2e3f4a5b, "
            "Calendar sync state",
        ]
    )
    return Report(
        status="recovered",
        command=["alembic", "upgrade", "head"],
        framework="alembic",
        database={"dialect": "postgresql", "url": PG_URL_MASKED, "server_version": "16.4"},
        failures=[failure],
        actions=[action],
        attempts=[
            Attempt(
                number=1,
                exit_code=1,
                duration_s=2.31,
                failure=failure,
                revisions=[RevisionTiming("3f9a1c2b7d4e", "Google Calendar sync", "failed", 0.18, 1)],
            ),
            Attempt(
                number=2,
                exit_code=0,
                duration_s=3.05,
                revisions=[
                    RevisionTiming("3f9a1c2b7d4e", "Google Calendar sync", "ok", 0.42, 2),
                    RevisionTiming("7c1d2e3f4a5b", "Calendar sync state", "ok", 1.87, 2),
                ],
                skipped_statements=[ADD_CLIENT_ID],
            ),
        ],
        duration_s=6.02,
        summary="Column `settings.google_calendar_client_id` already existed with the definition the "
        "migration wants; the revision ran with that one statement skipped.",
        log_tail=log_tail,
    )


CREATE_STATUS = "CREATE TYPE subscription_status AS ENUM ('trialing', 'active', 'past_due', 'canceled')"


def refused() -> Report:
    failure = Failure(
        kind="duplicate_type",
        sqlstate="42710",
        object_type="type",
        object_name="subscription_status",
        statement=CREATE_STATUS,
        revision="9b8e7d6c5b4a",
        driver="psycopg2",
        dialect="postgresql",
        message='psycopg2.errors.DuplicateObject: type "subscription_status" already exists',
        line=14,
    )
    refusal = Refusal(
        failure_kind="duplicate_type",
        reason="Type `subscription_status` already exists with labels `('active', 'cancelled')`; revision "
        "`9b8e7d6c5b4a` creates it with `('trialing', 'active', 'past_due', 'canceled')`. The existing "
        "label `cancelled` is not in the migration, so adding labels cannot make the two agree, and "
        "`subscriptions.status` (1,204 rows) uses the type.",
        human_steps=[
            "Find out where `cancelled` came from (an older branch, a hotfix) and whether rows use it: "
            "`SELECT status, count(*) FROM subscriptions GROUP BY status`",
            "If `cancelled` means the same as `canceled`, rename the label and add the missing ones "
            "(the SQL below), then deploy again: the guard will see the type matches and skip the statement",
            "Otherwise change the migration so that it keeps `cancelled`, and deploy again",
        ],
        sql=[
            "ALTER TYPE subscription_status RENAME VALUE 'cancelled' TO 'canceled'",
            "ALTER TYPE subscription_status ADD VALUE 'trialing' BEFORE 'active'",
            "ALTER TYPE subscription_status ADD VALUE 'past_due' AFTER 'active'",
        ],
    )
    return Report(
        status="refused",
        command=["flask", "db", "upgrade"],
        framework="flask-migrate",
        database={"dialect": "postgresql", "url": PG_URL_MASKED},
        failures=[failure],
        refusals=[refusal],
        attempts=[Attempt(1, 1, 1.74, failure, [RevisionTiming("9b8e7d6c5b4a", "Billing", "failed", 0.09)])],
        duration_s=2.4,
        summary="Type `subscription_status` exists with other labels than the migration creates; "
        "nothing was changed.",
        log_tail="\n".join(
            [
                "INFO  [alembic.runtime.migration] Running upgrade 8a7b6c5d4e3f -> 9b8e7d6c5b4a, Billing",
                "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateObject) type "
                '"subscription_status" already exists',
                "",
                "[SQL: " + CREATE_STATUS + "]",
                "(Background on this error at: https://sqlalche.me/e/14/f405)",
            ]
        ),
    )


DROP_USER_ID = "ALTER TABLE `orders_order` DROP COLUMN `user_id`"


def failed() -> Report:
    message = (
        "django.db.utils.OperationalError: (1829, \"Cannot drop column 'user_id': needed in a foreign "
        "key constraint 'orders_order_user_id_fk' of table 'orders_invoice'\")"
    )
    failure = Failure(
        kind="unknown",
        errno=1829,
        statement=DROP_USER_ID,
        revision="orders.0007_remove_order_user",
        driver="mysqlclient",
        dialect="mysql",
        message=message,
        line=23,
    )
    return Report(
        status="failed",
        command=["python", "manage.py", "migrate", "--noinput"],
        framework="django",
        database={"dialect": "mysql", "url": "mysql://deploy:***@mysql.internal:3306/shop"},
        failures=[failure],
        attempts=[Attempt(1, 1, 4.8, failure)],
        duration_s=5.1,
        summary="`orders.0007_remove_order_user` failed with an error migration-guard does not act on.",
        notes=[
            "migration-guard recovers only failures whose fix the catalog can prove; this one is "
            "left as it was, and the database is unchanged by the guard.",
        ],
        log_tail="\n".join(
            [
                f"DATABASE_URL={MYSQL_URL_RAW}",
                "Operations to perform:",
                "  Apply all migrations: admin, auth, contenttypes, orders, sessions",
                "Running migrations:",
                "  Applying orders.0007_remove_order_user...Traceback (most recent call last):",
                '  File "/app/.venv/lib/python3.12/site-packages/django/db/backends/mysql/base.py", '
                "line 76, in execute",
                "    return self.cursor.execute(query, args)",
                message,
            ]
        ),
    )


def predicted_failure() -> Report:
    return Report(
        status="predicted_failure",
        command=["alembic", "upgrade", "head"],
        framework="alembic",
        database={"dialect": "postgresql", "url": PG_URL_MASKED},
        predicted=[
            Failure(
                kind="duplicate_relation",
                sqlstate="42P07",
                object_type="index",
                object_name="ix_users_email",
                table="users",
                statement="CREATE UNIQUE INDEX ix_users_email ON users (email)",
                revision="5d4c3b2a1f0e",
                dialect="postgresql",
            ),
            Failure(
                kind="duplicate_data",
                sqlstate="23505",
                object_type="constraint",
                constraint="uq_accounts_slug",
                table="accounts",
                key="Key (slug)=(acme)",
                statement="ALTER TABLE accounts ADD CONSTRAINT uq_accounts_slug UNIQUE (slug)",
                revision="6e5d4c3b2a1f",
                dialect="postgresql",
            ),
        ],
        duration_s=0.84,
        summary="2 of 3 pending revisions would fail against the live database.",
        notes=[
            "Pending: `5d4c3b2a1f0e` (Unique emails), `6e5d4c3b2a1f` (Account slugs), "
            "`7f6e5d4c3b2a` (Audit log).",
            "3 rows in `accounts` share the slug `acme`; `--dedupe keep-oldest` would quarantine 2 of them.",
        ],
    )


def clean() -> Report:
    return Report(
        status="clean",
        command=["python", "manage.py", "migrate"],
        framework="django",
        database={"dialect": "sqlite", "url": "sqlite:///var/app/db.sqlite3"},
        duration_s=0.21,
        summary="2 pending migrations checked against the live database; none would fail.",
        notes=["Pending: `accounts.0012_profile_timezone`, `accounts.0013_backfill_timezone`."],
    )


def succeeded() -> Report:
    return Report(
        status="succeeded",
        command=["alembic", "upgrade", "head"],
        framework="alembic",
        database={"dialect": "postgresql", "url": PG_URL_MASKED, "server_version": "16.4"},
        attempts=[
            Attempt(
                1,
                0,
                12.6,
                revisions=[
                    RevisionTiming("a1b2c3d4e5f6", "Add invoices table", "ok", 0.31),
                    RevisionTiming("b2c3d4e5f6a7", "Backfill invoice numbers", "ok", 11.94),
                ],
            )
        ],
        duration_s=27.0,
        lock_wait_s=14.2,
        summary="2 revisions applied.",
        log_tail="\n".join(
            [
                "INFO  [alembic.runtime.migration] Running upgrade  -> a1b2c3d4e5f6, Add invoices table",
                "INFO  [alembic.runtime.migration] Running upgrade a1b2c3d4e5f6 -> b2c3d4e5f6a7, "
                "Backfill invoice numbers",
            ]
        ),
    )


EXAMPLES = {
    "succeeded": succeeded,
    "recovered": recovered,
    "refused": refused,
    "failed": failed,
    "predicted_failure": predicted_failure,
    "clean": clean,
}
