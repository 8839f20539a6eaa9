"""Concurrency on PostgreSQL: imports of one ministry are serialised, and a publication
never sees half an import."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from importers.intake import submit
from pilot.audit.models import AuditEvent
from pilot.db import session_scope
from pilot.editions import service as editions
from pilot.projects.models import Report
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes

pytestmark = pytest.mark.slow


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrency between connections is checked on PostgreSQL")
    return engine


def _workbook(engine: Engine, cost: int, new_project: str | None = None) -> bytes:
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": cost})
    if new_project:
        set_cells(
            book["Projets"],
            3,
            {"Nom du projet": new_project, "Phase": "Cadrage", "Coût actualisé (€)": 5_000_000},
        )
    return to_bytes(book)


def _together(*jobs: Callable[[], object]) -> list[object]:
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def test_two_uploads_of_one_ministry_at_once_are_serialised_with_no_lost_update(
    pg: Engine, seed: Seed
) -> None:
    first, second = _workbook(pg, 130_000_000), _workbook(pg, 140_000_000)
    outcomes = _together(
        lambda: submit(
            data=first, filename="a.xlsx", ministry_code="MI", submitted_by="a", channel="http"
        ),
        lambda: submit(
            data=second, filename="b.xlsx", ministry_code="MI", submitted_by="b", channel="http"
        ),
    )
    assert [o.status for o in outcomes] == ["applied", "applied"]  # type: ignore[attr-defined]
    with Session(pg) as session:
        reports = session.exec(
            select(Report).where(Report.project_id == seed.project_id).order_by(col(Report.id))
        ).all()
        costs = {r.current_cost_eur for r in reports if r.import_id is not None}
        assert costs == {130_000_000, 140_000_000}  # both kept: history, no lost update
        events = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.import_id).is_not(None))
            .order_by(col(AuditEvent.id))
        ).all()
    order = [e.import_id for e in events]
    # never interleaved: all of one import's events, then all of the other's
    assert order == sorted(order, key=order.index) and len(set(order)) == 2


@pytest.mark.parametrize("attempt", range(3))
def test_a_publication_during_an_upload_sees_all_of_it_or_none(
    pg: Engine, seed: Seed, attempt: int
) -> None:
    data = _workbook(pg, 150_000_000 + attempt, new_project=f"Nouveau projet {attempt}")

    def publish() -> dict[str, object]:
        with session_scope(pg, write=True) as session:
            edition = editions.publish_current(session, published_on=date(2026, 11, 22))
            rows = editions.edition_rows(session, edition)
            return {r.data["Nom du projet"]: r.values["cost_eur"] for r in rows}

    outcome, published = _together(
        lambda: submit(
            data=data, filename="c.xlsx", ministry_code="MI", submitted_by="c", channel="http"
        ),
        publish,
    )
    assert outcome.status == "applied"  # type: ignore[attr-defined]
    assert isinstance(published, dict)
    radio = published["Réseau Radio du Futur"]
    if f"Nouveau projet {attempt}" in published:
        assert radio == 150_000_000 + attempt  # after the whole import
    else:
        assert radio == 120_000_000  # before it: never the cost without the new project
