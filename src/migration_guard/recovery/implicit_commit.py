"""Half-applied revisions where every DDL statement commits (MySQL, MariaDB).

MySQL commits the open transaction before each DDL statement, even one that then fails. So a run that
stopped inside revision R left R's earlier DDL applied *and* R's data steps before the last DDL it
reached committed. (Alembic commits each revision with its record on these servers, so the revisions
before R are applied and recorded.) Seen from the catalog, a statement of R that exists could have been
applied by such a run, or made by hand.

Evidence rule: R runs again with its satisfied statements skipped only if none of its data steps (or
other statements the catalog cannot confirm) comes before a statement the catalog shows satisfied. If
one does, an earlier run that got that far ran it, while a hand-made object means it never ran; the
database cannot tell which, so refuse, and name both ways out. Statements after the last satisfied one
run as R says, data steps included (DESIGN.md, "made some other way"). PostgreSQL rolls a failed revision
back whole, and SQLite (through Python's sqlite3) commits DDL only until R's first data step, so neither
can leave a data step behind an applied statement: this rule is for MySQL only.
"""

from __future__ import annotations

from migration_guard.operations import normalize_statement
from migration_guard.recovery.steps import Decision

DIALECTS = {"mysql", "mariadb"}


def _short(sql: str, limit: int = 120) -> str:
    flat = normalize_statement(sql)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def refusal(ctx, r) -> Decision | None:
    """A refusal when revision evidence `r` has an unconfirmable statement before a satisfied one."""
    if ctx.dialect not in DIALECTS or not r.statements:
        return None
    states = [s.state for s in r.statements]
    if "satisfied" not in states:
        return None
    last = max(i for i, state in enumerate(states) if state == "satisfied")
    early = next((s for s in r.statements[:last] if s.state == "data"), None)
    if early is None:
        return None
    later = r.statements[last]
    rev, tool = r.revision.id, ctx.framework.name
    rest = [s.statement for s in r.statements[last + 1:]]
    return Decision.refuse(
        ctx.failure.kind,
        f"revision {rev} looks half-applied: `{_short(early.statement)}` comes before "
        f"`{_short(later.statement)}`, which is already satisfied. MySQL commits every statement before a DDL "
        "statement, so a run that got that far already ran it; if the objects were made by hand, it never ran. "
        "The database cannot tell which, and running it again could duplicate or change data", [
            f"if an earlier run of {rev} stopped part-way: run by hand what it did not reach "
            f"({len(rest)} statement(s) after `{_short(later.statement, 60)}`), then `{tool} stamp {rev}`",
            f"if the existing objects were made by hand: run the statements of {rev} that are not satisfied, "
            f"data steps included, by hand, then `{tool} stamp {rev}`"],
        sql=rest)


def note(ctx) -> list[str]:
    """What the evidence of a skip says on these servers."""
    if ctx.dialect not in DIALECTS:
        return []
    return ["MySQL commits each DDL statement at once, so the guard checked that no data step of the revision "
            "comes before a statement found applied"]
