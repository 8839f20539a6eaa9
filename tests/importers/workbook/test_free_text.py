"""Free text is kept as typed (line breaks, non-breaking spaces, "…"), and an untouched
template sent again writes no "modified" audit event."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from importers.intake import submit
from pilot.audit.models import AuditEvent
from pilot.db import session_scope
from pilot.projects.models import Project, Risk
from pilot.text import clean_text, keep_text
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes

TYPED = "Doter les forces d'un réseau radio\u00a0: haut débit…\nPhase 2\u00a0: déploiement."
MITIGATION = "Pénalités…\nPoint hebdomadaire\u00a0; comité mensuel."


def _send(data: bytes) -> str:
    outcome = submit(
        data=data, filename="mi.xlsx", ministry_code="MI", submitted_by="cli", channel="cli"
    )
    return outcome.status


def _stored(engine: Engine, seed: Seed) -> tuple[str | None, str | None]:
    with session_scope(engine) as s:
        project = s.get(Project, seed.project_id)
        risk = s.exec(select(Risk).where(Risk.project_id == seed.project_id)).one()
        assert project is not None
        return project.description, risk.mitigation


def _updates(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "update")))


def test_free_text_is_stored_as_typed_and_an_untouched_template_changes_nothing(
    engine: Engine, seed: Seed
) -> None:
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Description": "  " + TYPED.replace("\n", "\r\n") + " "})
    set_cells(book["Risques"], 2, {"Mesures de réduction": MITIGATION})
    assert _send(to_bytes(book)) == "applied"
    description, mitigation = _stored(engine, seed)
    assert description == TYPED and mitigation == MITIGATION  # not folded into one line
    assert clean_text(TYPED) != TYPED and keep_text(TYPED) == TYPED
    before = len(_updates(engine))

    # The template PILOT gives now, sent back untouched.
    assert _send(to_bytes(template_for(engine, "MI"))) == "applied"
    assert len(_updates(engine)) == before
    again = _stored(engine, seed)
    assert again[0] is not None and again[0].encode() == TYPED.encode()
    assert again[1] is not None and again[1].encode() == MITIGATION.encode()
