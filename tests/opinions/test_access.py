"""Who may do what with DINUM's opinions: every operation of the service, for every role,
on its own ministry's request and on another's (``pilot.auth.access``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilot.auth.access import AccessDenied
from pilot.auth.service import Principal
from pilot.db import session_scope
from pilot.opinions import service as opinions
from pilot.opinions.models import OpinionRequest, Recommendation
from pilot.opinions.service import AxisInput, RecommendationInput
from pilot.projects.models import Project
from tests.opinions.conftest import PDF, Portfolio

AXES = [AxisInput(a, "satisfactory", "Rien à signaler.") for a in opinions.AXIS_LABELS]
ON = date(2027, 3, 1)


def _project(s: Session, project_id: int) -> Project:
    found = s.get(Project, project_id)
    assert found is not None
    return found


@pytest.fixture
def states(engine: Engine, portfolio: Portfolio) -> dict[str, int]:
    """MI's requests in each state the operations need: a draft (``second``), a running
    one (``cadre``, after a first one answered with a recommendation), a suspended one
    (``small``); ``contracted`` has none (to open one)."""
    dinum = portfolio.dinum
    with session_scope(engine, write=True) as s:

        def opened(project_id: int, subject: str) -> OpinionRequest:
            request = opinions.open_request(
                s, dinum, _project(s, project_id), subject=subject, on=date(2027, 1, 4)
            )
            opinions.add_document(s, dinum, request, filename="dossier.pdf", data=PDF)
            return request

        draft = opened(portfolio.second, "Brouillon")
        answered = opened(portfolio.cadre, "Première saisine")
        opinions.receive_file(s, dinum, answered, on=date(2027, 1, 5))
        opinion = opinions.give_opinion(
            s,
            dinum,
            answered,
            sense="favourable",
            on=date(2027, 1, 20),
            axes=AXES,
            recommendations=[RecommendationInput("Documenter.", "DNUM", date(2027, 6, 1))],
        )
        [(rec, _, _)] = opinions.recommendations(s, dinum, opinion_id=opinion.id)
        running = opened(portfolio.cadre, "Seconde saisine")
        opinions.receive_file(s, dinum, running, on=date(2027, 2, 1))
        suspended = opened(portfolio.small, "Suspendue")
        opinions.receive_file(s, dinum, suspended, on=date(2027, 2, 1))
        opinions.request_information(s, dinum, suspended, on=date(2027, 2, 3), note="Le coût.")
        [document] = opinions.documents(s, dinum, running)
        ids = {
            "draft": draft.id,
            "running": running.id,
            "suspended": suspended.id,
            "recommendation": rec.id,
            "document": document.id,
        }
    return {k: v for k, v in ids.items() if v is not None}


U, F, N, OK = "unauthenticated", "forbidden", "not_found", "ok"
Operation = Callable[[Session, Principal, dict[str, int], Portfolio], object]


def _req(s: Session, ids: dict[str, int], name: str) -> OpinionRequest:
    found = s.get(OpinionRequest, ids[name])
    assert found is not None
    return found


def _rec(s: Session, ids: dict[str, int]) -> Recommendation:
    found = s.get(Recommendation, ids["recommendation"])
    assert found is not None
    return found


OPERATIONS: dict[str, Operation] = {
    "read a request": lambda s, p, ids, pf: opinions.get_request(s, p, ids["running"]),
    "read its clock": lambda s, p, ids, pf: opinions.clock_of(s, p, _req(s, ids, "running")),
    "read a document": lambda s, p, ids, pf: opinions.document_content(s, p, ids["document"]),
    "read a recommendation": lambda s, p, ids, pf: opinions.get_recommendation(
        s, p, ids["recommendation"]
    ),
    "read its history": lambda s, p, ids, pf: (
        opinions.recommendation_history(s, p, _rec(s, ids)) and OK
    ),
    "list requests": lambda s, p, ids, pf: len(opinions.list_requests(s, p)),
    "list running clocks": lambda s, p, ids, pf: len(opinions.running_clocks(s, p, ON)[0]),
    "list recommendations": lambda s, p, ids, pf: len(opinions.recommendations(s, p)),
    "list threshold flags": lambda s, p, ids, pf: sorted(
        f.ministry_code for f in opinions.threshold_flags(s, p)
    ),
    "open a request": lambda s, p, ids, pf: opinions.open_request(
        s, p, _project(s, pf.contracted), subject="Saisine", on=ON
    ),
    "add a document": lambda s, p, ids, pf: opinions.add_document(
        s, p, _req(s, ids, "draft"), filename="annexe.pdf", data=PDF
    ),
    "record the file complete": lambda s, p, ids, pf: opinions.receive_file(
        s, p, _req(s, ids, "draft"), on=ON
    ),
    "request information": lambda s, p, ids, pf: opinions.request_information(
        s, p, _req(s, ids, "running"), on=ON, note="Précisions."
    ),
    "record the information received": lambda s, p, ids, pf: opinions.receive_information(
        s, p, _req(s, ids, "suspended"), on=ON
    ),
    "record observations": lambda s, p, ids, pf: opinions.record_observations(
        s, p, _req(s, ids, "running"), observer="anssi", on=ON
    ),
    "give the opinion": lambda s, p, ids, pf: opinions.give_opinion(
        s, p, _req(s, ids, "running"), sense="unfavourable", on=ON, axes=AXES
    ),
    "update a recommendation": lambda s, p, ids, pf: opinions.update_recommendation(
        s, p, _rec(s, ids), status="closed", on=ON
    ),
    "drop a recommendation": lambda s, p, ids, pf: opinions.update_recommendation(
        s, p, _rec(s, ids), status="dropped", on=ON, comment="Sans objet."
    ),
}

# operation: (public, admin, dinum, own ministry, other ministry)
EXPECTED: dict[str, tuple[object, ...]] = {
    "read a request": (U, F, OK, OK, N),
    "read its clock": (U, F, OK, OK, N),
    "read a document": (U, F, OK, OK, N),
    "read a recommendation": (U, F, OK, OK, N),
    "read its history": (U, F, OK, OK, N),
    "list requests": (U, F, 4, 4, 0),
    "list running clocks": (U, F, 2, 2, 0),
    "list recommendations": (U, F, 1, 1, 0),
    "list threshold flags": (U, F, ["MI", "MI", "MJ"], ["MI", "MI"], ["MJ"]),
    "open a request": (U, F, OK, OK, N),
    "add a document": (U, F, OK, OK, N),
    "record the file complete": (U, F, OK, F, F),
    "request information": (U, F, OK, F, F),
    "record the information received": (U, F, OK, OK, N),
    "record observations": (U, F, OK, F, F),
    "give the opinion": (U, F, OK, F, F),
    "update a recommendation": (U, F, OK, OK, N),
    "drop a recommendation": (U, F, OK, F, N),
}


def _outcome(
    operation: Operation, s: Session, principal: Principal, ids: dict[str, int], pf: Portfolio
) -> object:
    try:
        result = operation(s, principal, ids, pf)
    except AccessDenied as denied:
        return denied.kind
    return result if isinstance(result, int | list) else OK


def test_access_matrix_roles_by_own_and_other_ministry(
    engine: Engine, portfolio: Portfolio, states: dict[str, int]
) -> None:
    assert set(OPERATIONS) == set(EXPECTED)
    principals = (
        portfolio.public,
        portfolio.admin,
        portfolio.dinum,
        portfolio.ministry,
        portfolio.other,
    )
    found: dict[str, tuple[object, ...]] = {}
    for name, operation in OPERATIONS.items():
        outcomes = []
        for principal in principals:
            with Session(engine) as s:  # each operation alone, then undone
                outcomes.append(_outcome(operation, s, principal, states, portfolio))
                s.rollback()
        found[name] = tuple(outcomes)
    assert found == EXPECTED
