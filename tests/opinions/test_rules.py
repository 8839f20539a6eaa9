"""The rules of the procedure: bad input gets a French refusal and changes nothing; the
file's documents are bounded and typed; history is never rewritten; the threshold watch;
the approved baseline through the baseline model."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilot import config
from pilot.db import session_scope
from pilot.guards import HistoryIsImmutable
from pilot.opinions import service as opinions
from pilot.opinions.models import OpinionDocument, OpinionEvent, OpinionRequest
from pilot.opinions.service import AxisInput, RecommendationInput
from pilot.projects import service as projects
from pilot.projects.models import Baseline, Project
from pilot.projects.service import DomainError
from tests.opinions.conftest import PDF, Portfolio

AXES = [AxisInput(a, "to_improve", "À suivre.") for a in opinions.AXIS_LABELS]


def _project(s: Session, project_id: int) -> Project:
    found = s.get(Project, project_id)
    assert found is not None
    return found


def _received(s: Session, pf: Portfolio, project_id: int, on: date) -> OpinionRequest:
    request = opinions.open_request(s, pf.ministry, _project(s, project_id), subject="S", on=on)
    opinions.add_document(s, pf.ministry, request, filename="d.pdf", data=PDF)
    opinions.receive_file(s, pf.dinum, request, on=on)
    return request


def test_documents_are_typed_bounded_archived_unchanged_and_never_parsed(
    engine: Engine,
    portfolio: Portfolio,
    settings: config.Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PILOT_OPINION_MAX_DOCUMENTS", "2")
    monkeypatch.setenv("PILOT_OPINION_MAX_DOCUMENT_BYTES", "100")
    config.get_settings.cache_clear()
    m = portfolio.ministry
    with session_scope(engine, write=True) as s:
        request = opinions.open_request(
            s, m, _project(s, portfolio.cadre), subject="S", on=date(2027, 1, 4)
        )
        refusals = {
            "note.exe": (b"MZ\x90\x00", "Type de document refusé"),
            "faux.pdf": (b"PK\x03\x04", "n'est pas un document .pdf valide"),
            "texte.txt": (b"\xff\xfe\x00", "n'est pas un texte en UTF-8"),
            "gros.pdf": (b"%PDF-" + b"x" * 200, "dépasse la limite de 100 octets"),
            "vide.csv": (b"", "est vide"),
        }
        for name, (data, message) in refusals.items():
            with pytest.raises(DomainError, match=message):
                opinions.add_document(s, m, request, filename=name, data=data)
        first = opinions.add_document(
            s, m, request, filename="C:\\Users\\agent\\Dossier de saisine.PDF", data=PDF
        )
        opinions.add_document(s, m, request, filename="annexe.csv", data=b"a;b\n1;2\n")
        with pytest.raises(DomainError, match="déjà 2 documents, le maximum"):
            opinions.add_document(s, m, request, filename="trois.pdf", data=PDF)
        assert first.filename == "Dossier de saisine.PDF"
        assert Path(first.stored_path).read_bytes() == PDF
        assert Path(first.stored_path).parent == settings.var_dir / "uploads" / "opinions"
        assert len(s.exec(select(OpinionDocument)).all()) == 2
        opinions.receive_file(s, portfolio.dinum, request, on=date(2027, 1, 5))
        with pytest.raises(DomainError, match="ne se complète qu'en préparation"):
            opinions.add_document(s, m, request, filename="tard.pdf", data=PDF)
    config.get_settings.cache_clear()


def test_steps_out_of_order_are_refused_in_french_and_change_nothing(
    engine: Engine, portfolio: Portfolio
) -> None:
    d, m = portfolio.dinum, portfolio.ministry
    with session_scope(engine, write=True) as s:
        request = opinions.open_request(
            s, m, _project(s, portfolio.cadre), subject="Saisine", on=date(2027, 1, 4)
        )
        with pytest.raises(DomainError, match="Le dossier est vide"):
            opinions.receive_file(s, d, request, on=date(2027, 1, 5))
        with pytest.raises(DomainError, match="Une saisine est déjà en cours"):
            opinions.open_request(
                s, m, _project(s, portfolio.cadre), subject="Bis", on=date(2027, 1, 5)
            )
        with pytest.raises(DomainError, match="« en préparation »"):
            opinions.give_opinion(s, d, request, sense="favourable", on=date(2027, 1, 6), axes=AXES)
        opinions.add_document(s, m, request, filename="d.pdf", data=PDF)
        with pytest.raises(DomainError, match="précède la dernière étape"):
            opinions.receive_file(s, d, request, on=date(2027, 1, 3))
        with pytest.raises(DomainError, match="Date hors des bornes : « 9999-12-31 »"):
            opinions.receive_file(s, d, request, on=date(9999, 12, 31))
        opinions.receive_file(s, d, request, on=date(2027, 1, 15))
        with pytest.raises(DomainError, match="n'est possible que si elle est « informations"):
            opinions.receive_information(s, m, request, on=date(2027, 1, 16))
        with pytest.raises(DomainError, match="Indiquez les informations demandées"):
            opinions.request_information(s, d, request, on=date(2027, 1, 16), note="  ")
        with pytest.raises(DomainError, match="Observateur inconnu"):
            opinions.record_observations(s, d, request, observer="cnil", on=date(2027, 1, 16))
        opinions.record_observations(s, d, request, observer="anssi", on=date(2027, 1, 16))
        with pytest.raises(DomainError, match="déjà enregistrées"):
            opinions.record_observations(s, d, request, observer="anssi", on=date(2027, 1, 17))
        with pytest.raises(DomainError, match="Il manque l'appréciation des axes : planning"):
            opinions.give_opinion(
                s, d, request, sense="favourable", on=date(2027, 1, 20), axes=AXES[:4]
            )
        with pytest.raises(DomainError, match="Sens d'avis inconnu"):
            opinions.give_opinion(s, d, request, sense="mitigé", on=date(2027, 1, 20), axes=AXES)
        with pytest.raises(DomainError, match="ne se rend pas"):
            opinions.give_opinion(
                s, d, request, sense="deemed_favourable", on=date(2027, 1, 20), axes=AXES
            )
        with pytest.raises(DomainError, match="précède l'avis"):
            opinions.give_opinion(
                s,
                d,
                request,
                sense="favourable",
                on=date(2027, 1, 20),
                axes=AXES,
                recommendations=[RecommendationInput("Faire.", "DNUM", date(2027, 1, 1))],
            )
        assert request.status == "observations_received"  # nothing of the refused steps
        kinds = [e.kind for e in opinions.events(s, d, request)]
        assert kinds == ["opened", "received", "observations_received"]
        opinion = opinions.give_opinion(
            s,
            d,
            request,
            sense="unfavourable",
            on=date(2027, 1, 20),
            axes=AXES,
            recommendations=[RecommendationInput("Refaire le cadrage.", "DNUM", date(2027, 6, 1))],
        )
        assert opinion.baseline_id is None  # an unfavourable opinion approves nothing
        assert projects.baselines(s, portfolio.cadre) == []
        [(rec, _, _)] = opinions.recommendations(s, m, opinion_id=opinion.id)
        with pytest.raises(DomainError, match="déjà « ouverte »"):
            opinions.update_recommendation(s, m, rec, status="open", on=date(2027, 2, 1))
        with pytest.raises(DomainError, match="Statut inconnu"):
            opinions.update_recommendation(s, m, rec, status="fini", on=date(2027, 2, 1))
        with pytest.raises(DomainError, match="Dites pourquoi"):
            opinions.update_recommendation(s, d, rec, status="dropped", on=date(2027, 2, 1))


def test_events_are_history_never_rewritten(engine: Engine, portfolio: Portfolio) -> None:
    with session_scope(engine, write=True) as s:
        _received(s, portfolio, portfolio.cadre, date(2027, 1, 4))
    with Session(engine) as s:
        event = s.exec(select(OpinionEvent)).first()
        assert event is not None
        event.note = "réécrit"
        with pytest.raises(HistoryIsImmutable):
            s.flush()


def test_threshold_watch_flags_projects_without_opinion_irregular_ones_first(
    engine: Engine, portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(engine) as s:
        flags = opinions.threshold_flags(s, portfolio.dinum)
        assert [(f.project.id, f.irregular) for f in flags] == [
            (portfolio.contracted, True),  # under contract at 15 M€ without an opinion
            (portfolio.justice, False),  # 20 M€, in cadrage
            (portfolio.cadre, False),  # 12 M€
            (portfolio.second, False),  # 10 M€
        ]
        own = opinions.threshold_flags(s, portfolio.ministry, ministry_id=portfolio.mj)
        assert {f.ministry_code for f in own} == {"MI"}  # a ministry sees its own, always
    monkeypatch.setenv("PILOT_OPINION_THRESHOLD_EUR", "12000000")
    config.get_settings.cache_clear()
    with session_scope(engine, write=True) as s:
        request = _received(s, portfolio, portfolio.cadre, date(2027, 1, 4))
        flags = opinions.threshold_flags(s, portfolio.dinum)
        assert [f.project.id for f in flags] == [
            portfolio.contracted,
            portfolio.justice,
            portfolio.cadre,
        ]
        assert flags[-1].request is not None and flags[-1].request.id == request.id
        opinions.give_opinion(
            s, portfolio.dinum, request, sense="favourable", on=date(2027, 1, 20), axes=AXES
        )
        assert portfolio.cadre not in {
            f.project.id for f in opinions.threshold_flags(s, portfolio.dinum)
        }
    config.get_settings.cache_clear()


def test_the_first_approving_opinion_rebaselines_a_project_that_had_a_baseline(
    engine: Engine, portfolio: Portfolio
) -> None:
    d = portfolio.dinum
    with session_scope(engine, write=True) as s:
        project = _project(s, portfolio.contracted)
        initial = projects.set_initial_baseline(
            s,
            project,
            approved_on=date(2025, 1, 1),
            cost_eur=8_000_000,
            start_date=date(2026, 1, 1),
            end_date=date(2027, 12, 31),
            actor="test",
        )
        request = _received(s, portfolio, portfolio.contracted, date(2027, 1, 4))
        opinion = opinions.give_opinion(
            s, d, request, sense="favourable", on=date(2027, 1, 20), axes=AXES
        )
        approved = s.get(Baseline, opinion.baseline_id)
        assert approved is not None and approved.kind == "rebaseline"
        assert (approved.cost_eur, approved.end_date) == (15_000_000, date(2028, 12, 31))
        assert approved.reason == (
            "Référence approuvée par l'avis favorable de la DINUM du 20 janvier 2027 "
            f"(saisine n° {request.id})."
        )
        assert projects.initial_baseline(s, portfolio.contracted) == initial  # untouched
        # A later opinion approves nothing new: the baseline stays the approved one.
        later = _received(s, portfolio, portfolio.contracted, date(2027, 6, 1))
        again = opinions.give_opinion(
            s, d, later, sense="favourable", on=date(2027, 6, 20), axes=AXES
        )
        assert again.baseline_id == approved.id
        assert len(projects.baselines(s, portfolio.contracted)) == 2
        # Drift since the opinion: the figures recorded on it against today's.
        projects.record_report(
            s,
            project,
            reported_on=date(2027, 9, 1),
            actor="test",
            current_cost_eur=18_000_000,
            forecast_end=date(2028, 12, 31),
        )
        drift = opinions.drift_since_opinion(s, d, opinion)
        assert (drift.then.cost_eur, drift.now.cost_eur) == (15_000_000, 18_000_000)
        assert (drift.budget, drift.schedule) == (Decimal("0.2"), 0)
