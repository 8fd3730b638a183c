"""Django's SQLite table rebuilds (`new__t`) found as one unit among a migration's statements."""

from __future__ import annotations

from migration_guard.operations import normalize_statement
from migration_guard.operations.rebuild import find, in_revision

CREATE = ('CREATE TABLE "new__school_course" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
          '"title" varchar(100) NOT NULL, "code" varchar(20) NOT NULL);')
COPY = 'INSERT INTO "new__school_course" ("id", "title", "code") SELECT "id", "title", \'\' FROM "school_course";'
DROP = 'DROP TABLE "school_course";'
RENAME = 'ALTER TABLE "new__school_course" RENAME TO "school_course";'
INDEX = 'CREATE INDEX "school_course_title_idx" ON "school_course" ("title");'
DATA = "-- data step: Raw Python operation add_codes"


def test_the_four_statements_of_a_rebuild_are_one_group() -> None:
    [rebuild] = find([CREATE, COPY, DROP, RENAME, DATA])
    assert (rebuild.table, rebuild.scratch, rebuild.start) == ("school_course", "new__school_course", 0)
    assert rebuild.statements == [CREATE, COPY, DROP, RENAME]
    assert rebuild.copied == {"id": "id", "title": "title"}
    assert rebuild.filled == {"code": "''"}
    effect = rebuild.effect(COPY)
    assert (effect.op, effect.name, effect.checkable) == ("rebuild_table", "school_course", True)
    assert effect.detail["create"] == CREATE


def test_indexes_made_after_a_rebuild_are_tied_to_it() -> None:
    groups, after = in_revision([INDEX, CREATE, COPY, DROP, RENAME, INDEX.replace("title", "code"), DATA])
    assert set(groups) == {normalize_statement(s) for s in (CREATE, COPY, DROP, RENAME)}
    assert list(after) == [normalize_statement(INDEX.replace("title", "code"))]


def test_what_only_looks_like_a_rebuild_is_not_one() -> None:
    assert find([CREATE, COPY, DROP]) == []  # no rename
    assert find([CREATE, COPY, 'DROP TABLE "other";', RENAME]) == []
    assert find([CREATE.replace("new__school_course", "new__"), COPY, DROP, RENAME]) == []
    assert find([CREATE.replace("new__", "old__"), COPY.replace("new__", "old__"), DROP,
                 RENAME.replace("new__", "old__")]) == []
