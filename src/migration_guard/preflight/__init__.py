"""Predict, before anything runs, every failure the pending revisions will meet.

Two ways, and the report says which revision was checked how:
- analysis (analysis.py): each pending statement, as the tool prints it without running it, read by
  the dialect's parser and compared with the catalog snapshot and the live rows, with the schema as
  the earlier pending statements leave it (state.py). One module per failure kind, its rule in its
  docstring: exists.py (duplicate_column/relation/type/object), missing.py (missing_object),
  type_conversion.py, null_data.py, duplicate_data.py, orphan_data.py;
- rehearsal (rehearse.py, PostgreSQL, on request): the pending migrations run for real inside a
  transaction that can never commit, which finds what the printed statements cannot show.

outlook.py then says what `run` would do about each predicted failure; check.py fills the report
for `check`, and ahead.py lets `run` apply, before its first attempt, a recovery the prediction
already proves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migration_guard.diagnose.failure import Failure
    from migration_guard.preflight.model import Finding, Findings, RevisionCheck

__all__ = ["Finding", "Findings", "RevisionCheck", "predict", "predict_failures"]


def __getattr__(name: str):
    # The model (and the parser behind it) is imported on first use, not with the package: `check`
    # imports preflight.early first, and the print it starts must not wait for the parser's import.
    if name in ("Finding", "Findings", "RevisionCheck"):
        from migration_guard.preflight import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def predict(ctx, *, rehearse: bool = False, say=None) -> Findings:
    from migration_guard.preflight import analysis

    findings = analysis.analyse(ctx)
    if rehearse:
        from migration_guard.db.catalog import PartialCatalog
        from migration_guard.preflight import rehearse as rehearsal

        if isinstance(ctx.catalog, PartialCatalog):
            # What run would decide after a failure the rehearsal meets is read, as before, before it.
            ctx.catalog.complete()

        findings = rehearsal.rehearse(ctx, findings, say=say)
    return findings


def predict_failures(ctx) -> list[Failure]:
    """The failures static analysis predicts, in order (every one, reached by a run or not)."""
    return predict(ctx).failures
