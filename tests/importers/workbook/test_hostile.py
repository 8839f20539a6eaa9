"""The ministry workbook intake on the hostile corpus, aimed at the Projets sheet: a
French error or warning, never a traceback, and the data tables unchanged (dry run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from importers.intake import submit
from importers.workbook.columns import PROJECTS
from importers.workbook.report import issues_of
from pilot.config import Settings
from pilot.db import session_scope
from tests.hostile import corpus
from tests.hostile.support import matches, table_counts
from tests.importers.workbook.conftest import Seed

Limits = Callable[[dict[str, int]], Settings]
IMPORT_TABLES = {"import_file", "finding"}  # the import's own record, always written
FIELDS = [c.field for c in PROJECTS.columns]


def _row(n: int) -> list[Any]:
    values = {
        "name": f"Projet hostile {n}",
        "description": "Un projet de test.",
        "phase": "Cadrage",
        "start_date": "01/01/2017",
        "current_cost": 12_500_000,
    }
    return [values.get(f) for f in FIELDS]


def workbook_table() -> corpus.Table:
    return corpus.Table(
        headers=[c.header for c in PROJECTS.columns],
        row=_row,
        id_col=FIELDS.index("pilot_id"),
        text_col=FIELDS.index("name"),
        date_col=FIELDS.index("start_date"),
        amount_col=FIELDS.index("current_cost"),
        title=PROJECTS.name,
        lookalike="РRJ-00001",  # Cyrillic Р
    )


CASES = corpus.cases(table=workbook_table())


def _data_counts(engine: Engine) -> dict[str, int]:
    return {k: v for k, v in table_counts(engine).items() if k not in IMPORT_TABLES}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_workbook_intake_does_what_the_corpus_expects(
    case: corpus.HostileCase, engine: Engine, seed: Seed, apply_limits: Limits
) -> None:
    apply_limits(case.limits)
    before = _data_counts(engine)
    outcome = submit(
        data=case.data,
        filename=case.filename,
        ministry_code=seed.ministry_code,
        submitted_by="test",
        channel="cli",
        dry_run=True,
        engine=engine,
    )
    with session_scope(engine) as session:
        issues = issues_of(session, outcome.import_id)
    assert _data_counts(engine) == before
    assert issues, "a French error or warning"
    assert all(i.code != "internal_error" for i in issues), issues
    assert all("Traceback" not in i.message and len(i.message) < 1000 for i in issues)
    errors = [i.message for i in issues if i.is_error]
    warnings = [i.message for i in issues if not i.is_error]
    expected = case.workbook
    if expected.outcome == "refused":
        assert outcome.status == "rejected", issues
        assert any(matches(m, expected.fragment) for m in errors), errors
    elif expected.outcome == "warning":
        assert outcome.status == "validated", issues
        assert any(matches(m, expected.fragment) for m in warnings), warnings
    else:
        assert outcome.status == "validated", issues
        assert not errors
