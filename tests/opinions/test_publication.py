"""Publication: the public project page shows the date and the sense of DINUM's latest
opinion and its number of open recommendations, as the edition froze them; never the
content of the opinion; nothing of it for a confidential project."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilot.db import session_scope
from pilot.editions import service as editions
from pilot.opinions import service as opinions
from pilot.opinions.service import AxisInput, RecommendationInput
from pilot.projects import confidentiality
from pilot.projects.models import Project
from scorecards.publish import publish_edition
from tests.opinions.conftest import PDF, Portfolio

AXES = [AxisInput(a, "to_improve", "Commentaire interne sur l'axe.") for a in opinions.AXIS_LABELS]
SECRET = "Recommandation interne à ne pas publier"


def _opinion(engine: Engine, pf: Portfolio, project_id: int, sense: str, closed: int) -> None:
    """An opinion given on 5 January 2027 with three recommendations, ``closed`` of them
    closed by the ministry."""
    with session_scope(engine, write=True) as s:
        project = s.get(Project, project_id)
        assert project is not None
        request = opinions.open_request(s, pf.dinum, project, subject="S", on=date(2027, 1, 4))
        opinions.add_document(s, pf.dinum, request, filename="d.pdf", data=PDF)
        opinions.receive_file(s, pf.dinum, request, on=date(2027, 1, 4))
        given = opinions.give_opinion(
            s,
            pf.dinum,
            request,
            sense=sense,
            on=date(2027, 1, 5),
            axes=AXES,
            recommendations=[RecommendationInput(SECRET, "DSI", date(2027, 6, 30))] * 3,
        )
        for r, _, _ in opinions.recommendations(s, pf.dinum, opinion_id=given.id)[:closed]:
            opinions.update_recommendation(s, pf.dinum, r, status="closed", on=date(2027, 1, 8))


@pytest.mark.slow
def test_the_public_page_shows_the_frozen_opinion_date_sense_and_open_recommendations(
    engine: Engine, portfolio: Portfolio, tmp_path: Path
) -> None:
    pf = portfolio
    _opinion(engine, pf, pf.cadre, "favourable_with_reservations", closed=1)
    _opinion(engine, pf, pf.justice, "unfavourable", closed=0)
    with session_scope(engine, write=True) as s:
        justice = s.get(Project, pf.justice)
        assert justice is not None
        confidentiality.mark_confidential(
            s, justice, reason="Appel d'offres", until=None, actor="test", today=date(2027, 1, 9)
        )
        ids = {pid: s.get(Project, pid).pilot_id for pid in (pf.cadre, pf.justice, pf.small)}  # type: ignore[union-attr]

    number = publish_edition(engine, tmp_path, published_on=date(2027, 1, 10)).number
    # Closing a recommendation afterwards changes nothing in the published edition.
    with session_scope(engine, write=True) as s:
        for r, _, _ in opinions.recommendations(s, pf.dinum, project_id=pf.cadre, open_only=True):
            opinions.update_recommendation(s, pf.dinum, r, status="closed", on=date(2027, 1, 11))
    pages = tmp_path / "editions" / str(number) / "projets"

    cadre = (pages / f"{ids[pf.cadre]}.html").read_text(encoding="utf-8")
    assert "Avis de la DINUM" in cadre
    assert "Avis favorable avec réserves rendu le 5 janvier 2027" in cadre
    assert "2 recommandations ouvertes" in cadre
    assert SECRET not in cadre and "Commentaire interne" not in cadre

    justice_page = (pages / f"{ids[pf.justice]}.html").read_text(encoding="utf-8")
    assert "Avis de la DINUM" not in justice_page and "défavorable" not in justice_page
    assert "Avis de la DINUM" not in (pages / f"{ids[pf.small]}.html").read_text(encoding="utf-8")


def test_the_frozen_summary_is_the_opinion_and_open_recommendations_as_of_published_on(
    engine: Engine, portfolio: Portfolio
) -> None:
    """An edition dated 15 January 2027, published later: one recommendation closed on
    8 January counts as closed, one closed on 20 January still as open, and the opinion
    given on 20 January is not the edition's."""
    pf = portfolio
    _opinion(engine, pf, pf.cadre, "favourable_with_reservations", closed=1)  # 5 and 8 Jan
    with session_scope(engine, write=True) as s:
        [first, *_] = opinions.recommendations(s, pf.dinum, project_id=pf.cadre, open_only=True)
        opinions.update_recommendation(
            s, pf.ministry, first[0], status="in_progress", on=date(2027, 1, 12)
        )
        opinions.update_recommendation(
            s, pf.ministry, first[0], status="closed", on=date(2027, 1, 20), comment="Fait."
        )
        project = s.get(Project, pf.cadre)
        assert project is not None
        request = opinions.open_request(s, pf.dinum, project, subject="S2", on=date(2027, 1, 19))
        opinions.add_document(s, pf.dinum, request, filename="d.pdf", data=PDF)
        opinions.receive_file(s, pf.dinum, request, on=date(2027, 1, 19))
        opinions.give_opinion(
            s, pf.dinum, request, sense="unfavourable", on=date(2027, 1, 20), axes=AXES
        )
    with session_scope(engine, write=True) as s:
        edition = editions.publish_current(s, published_on=date(2027, 1, 15), force=True)
        frozen = {r.project_id: r.values["opinion"] for r in editions.edition_rows(s, edition)}
        assert frozen[pf.cadre] == {
            "given_on": "2027-01-05",
            "sense": "favourable_with_reservations",
            "open_recommendations": 2,
        }
        # an edition dated the day before the first opinion: no opinion at all
        earlier = editions.prepare_publication(s, published_on=date(2027, 1, 4))
        cadre_then = [v for pid, _, v in earlier.rows if pid == pf.cadre]
        assert [v["opinion"] for v in cadre_then] == [None]
        # today's summary: the latest opinion, and the closed recommendation as closed
        now = opinions.opinion_summaries(s, [pf.cadre])[pf.cadre]
        assert (now.given_on, now.sense, now.open_recommendations) == (
            date(2027, 1, 20),
            "unfavourable",
            1,
        )
