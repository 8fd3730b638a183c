"""An Effect: one thing a statement does to one named object."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Effects that create something the catalog can show; the rest are checked by absence or not at all.
CREATES = {"create_table", "add_column", "create_index", "add_constraint", "create_enum", "create_type",
           "create_sequence", "create_view", "add_enum_value"}
DROPS = {"drop_table", "drop_column", "drop_index", "drop_constraint", "drop_type", "drop_sequence",
         "drop_view", "drop_default"}


@dataclass
class Effect:
    op: str  # one of CREATES | DROPS | {"data", "other"}
    name: str  # the object's own name: column name for add_column, index name, type name, ...
    statement: str
    table: str | None = None
    schema: str | None = None
    detail: dict = field(default_factory=dict)  # e.g. {"labels": [...]}, {"unique": True}, {"columns": [...]}
    cmd: int = 0  # position within a multi-command ALTER TABLE

    @property
    def checkable(self) -> bool:
        return self.op in CREATES or self.op in DROPS

    @property
    def subject(self) -> str:
        """How a person names the object: `settings.gid`, `index ix_user_email`, `type status`."""
        qual = f"{self.schema}." if self.schema and self.schema != "public" else ""
        if self.op in ("add_column", "drop_column"):
            return f"column {qual}{self.table}.{self.name}"
        if self.op == "drop_default":
            return f"the default of column {qual}{self.table}.{self.name}"
        kind = self.op.split("_", 1)[1] if "_" in self.op else self.op
        kind = {"enum": "type", "enum_value": "enum label"}.get(kind, kind)
        on = f" on {self.table}" if self.table and self.op in ("create_index", "add_constraint") else ""
        return f"{kind} {qual}{self.name}{on}"


_WS = re.compile(r"\s+")


def normalize_statement(sql: str) -> str:
    """The form in which the guard and the child's bootstrap compare statements for skipping."""
    return _WS.sub(" ", sql).strip().rstrip(";").strip()
