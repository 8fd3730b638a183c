"""Static prediction: each pending statement, in order, against the catalog as the earlier ones leave it.

The statements are those the tool prints without running anything (Alembic's offline `--sql` for
the pending range), read by the dialect's parser. Each statement is put to the failure-kind
modules in turn (KINDS); the first that finds a failure names it (a statement fails once). Then
the statement's effects are recorded in the State, as if it had run, so the next statement meets
the schema the run would give it: a failure that `run` recovers from lets the revision go on, and
one it refuses stops the run, which outlook.py works out from these findings.

What the analysis cannot see it says: a revision whose statements the tool cannot print without a
database (a migration that inspects the database as it runs) is "not analysed", and so is every
revision of a dialect without a statement parser here.
"""

from __future__ import annotations

import threading

from migration_guard.db.catalog import PartialCatalog, snapshot_of
from migration_guard.preflight import (
    duplicate_data,
    exists,
    missing,
    model,
    null_data,
    orphan_data,
    reading,
    rebuild,
    requirements,
    source,
    type_conversion,
)
from migration_guard.preflight.early import statements_env
from migration_guard.preflight.model import Finding, Findings, RevisionCheck, Step, Unsettled
from migration_guard.preflight.state import State

# In the order PostgreSQL meets them within one statement: the name is checked before the object is
# built, the table before its rows; a primary key's NOT NULL before its uniqueness.
KINDS = (rebuild, exists, missing, type_conversion, null_data, duplicate_data, orphan_data)
DIALECTS = {"postgresql", "mysql", "mariadb", "sqlite"}


def analyse(ctx) -> Findings:
    out = Findings()
    if ctx.dialect not in DIALECTS:
        out.revisions = [RevisionCheck(r.id, r.description, "not analysed",
                                       f"no statement parser for {ctx.dialect} in the preflight yet")
                         for r in ctx.pending]
        return out
    if ctx.dialect == "postgresql" and isinstance(ctx.__dict__.get("catalog"), PartialCatalog):
        load_statements(ctx)
        ctx.catalog.cover(_named(ctx))  # what the guess (prefetch) missed, in one more read
    elif "catalog" not in ctx.__dict__ and ctx.dialect == "postgresql":
        # Statements first, then only the objects they name (and anything else the analysis asks for
        # by name as it goes): a few small queries instead of the whole catalog of a large schema.
        load_statements(ctx)
        ctx.__dict__["catalog"] = snapshot_of(ctx.engine, _named(ctx))
    else:
        # The tool prints the statements in its own process while the catalog is read here.
        printing = threading.Thread(target=load_statements, args=(ctx,), daemon=True)
        printing.start()
        try:
            ctx.catalog  # noqa: B018 - read now, beside the printing
        finally:
            printing.join()
    state = State(ctx.catalog)
    with ctx.engine.connect() as conn, model.reader(ctx.engine) as rows:
        for rev in ctx.pending:
            statements = ctx.sql.get(rev.id)
            if statements is None:
                out.revisions.append(RevisionCheck(
                    rev.id, rev.description, "not analysed",
                    "the tool could not print its statements without a database (offline --sql mode); "
                    "a migration that reads the database as it runs is only seen by --rehearse"))
                state.blind = state.blind or f"revision {rev.id} could not be analysed"
                continue
            check = RevisionCheck(rev.id, rev.description, "analysed", _note(state))
            out.revisions.append(check)
            for statement in statements:
                _statement(ctx, rev, statement, state, conn, rows, out)
    for finding in out.findings:
        source.locate(finding.failure, ctx.pending)
    return out


def prefetch(ctx) -> None:
    """While the tool still prints the statements: read the catalog objects the revision files name.

    Only a head start (PostgreSQL): analyse() then reads whatever the printed statements name beyond
    these, and a PartialCatalog reads any other name it is asked for, so the guess changes no answer.
    """
    if ctx.dialect == "postgresql" and "catalog" not in ctx.__dict__ and ctx.pending:
        ctx.__dict__["catalog"] = snapshot_of(ctx.engine, source.literals(ctx.pending))


def load_statements(ctx) -> None:
    """The pending statements, from the tool's offline mode run with sessions read-only by default.

    Offline mode still runs the migrations' Python code, and a migration may open connections of
    its own; on PostgreSQL the server then refuses any write they try (PGOPTIONS), so printing the
    statements changes nothing either.
    """
    if ctx._sql is None:
        ctx._sql = ctx.framework.revision_sql(statements_env(ctx.env, ctx.dialect), ctx.pending, ctx.engine)


def _named(ctx) -> set[str]:
    """Every name the pending statements use (PostgreSQL), read from the trees the analysis reuses."""
    from migration_guard.operations.postgresql import names

    out: set[str] = set()
    for rev in ctx.pending:
        for statement in ctx.sql.get(rev.id) or ():
            out |= names(statement)
    return out


def _statement(ctx, rev, statement: str, state: State, conn, rows, out: Findings) -> None:
    effects = ctx.effects(statement)
    nodes = _parse(ctx, statement)
    needs = requirements.of(statement, ctx.dialect, nodes)
    step = Step(ctx, rev, statement, effects, needs, state, conn, rows, reading.of(statement, ctx.dialect, nodes))
    for module in KINDS:
        try:
            finding: Finding | None = module.examine(step)
        except Unsettled as exc:
            out.notes.append(f"revision {rev.id}: {_kind(module)} could not be checked: {exc}")
            continue
        if finding is not None:
            out.findings.append(finding)
            break
    state.record(rev.id, effects, step.reading, needs)


def _parse(ctx, statement: str):
    """The statement parsed once for the readers (on PostgreSQL the same tree the effects were read from;
    operations/ parses its own copy of other dialects' statements)."""
    if ctx.dialect == "postgresql":
        return ctx.parsed(statement)
    from migration_guard.operations import _sqlglot

    return _sqlglot.parse(statement, ctx.dialect)


def _kind(module) -> str:
    return getattr(module, "KIND", None) or "an existing object"


def _note(state: State) -> str:
    if state.blind:
        return (f"analysed with care: {state.blind}, so objects are not claimed absent and rows are "
                "not counted from here on")
    return ""
