"""The import's answer an agent reads: a French summary of what changed, and the same
counts for a dry run as for the real import of the same workbook."""

from __future__ import annotations

from sqlalchemy import Engine

from importers.generate import generate_workbook
from importers.intake import submit
from importers.workbook.report import summary
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes


def _submit(data: bytes, *, dry_run: bool = False) -> tuple[str, dict[str, int]]:
    outcome = submit(
        data=data,
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="test",
        channel="cli",
        dry_run=dry_run,
    )
    counts = {k: v for k, v in outcome.counts.items() if not k.endswith("_ms")}
    return outcome.status, counts


def test_a_dry_run_counts_what_the_import_then_writes(engine: Engine, seed: Seed) -> None:
    data = generate_workbook(5)
    dry_status, dry = _submit(data, dry_run=True)
    status, real = _submit(data)
    assert (dry_status, status) == ("validated", "applied")
    assert dry == real
    assert real["audit_events"] > real["projects_created"] > 0
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": 140_000_000})
    edited = to_bytes(book)
    assert _submit(edited, dry_run=True)[1] == _submit(edited)[1]


def test_the_summary_says_in_french_what_changed(engine: Engine, seed: Seed) -> None:
    status, counts = _submit(generate_workbook(2))
    text = summary(counts, status)
    assert text.startswith("2 projets créés, 2 points de situation enregistrés")
    assert "20 jalons ajoutés" in text and "20 risques ajoutés" in text
    assert summary({"projects_created": 1}, "validated") == "Ce classeur donnerait : 1 projet créé."
    assert summary({}, "applied") == "Aucun changement."
    assert summary({"errors": 3}, "rejected") == "Rien n'a été modifié : 3 erreurs à corriger."
