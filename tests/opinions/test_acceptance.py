"""Issue 24's acceptance: a request walked from saisine to opinion on a clock the test
controls, its recommendations followed (one closed, one past due: an alert once, e-mailed
through a real SMTP server), and a request left unanswered deemed favourable on the right
day, not the day before."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import col, select

from pilot.alerts.models import Alert
from pilot.audit.models import AuditEvent
from pilot.config import Settings
from pilot.db import session_scope
from pilot.mail.service import deliver
from pilot.opinions import service as opinions
from pilot.opinions.models import Opinion, OpinionEvent, OpinionRequest, Recommendation
from pilot.opinions.service import AxisInput, RecommendationInput
from pilot.projects import service as projects
from pilot.projects.models import Project
from tests.campaigns.conftest import SmtpServer, WebhookReceiver, text_of
from tests.opinions.conftest import PDF, Portfolio

AXES = [
    AxisInput("strategy", "satisfactory", "Alignée sur la stratégie ministérielle."),
    AxisInput("finances", "to_improve", "Le coût complet doit intégrer le maintien."),
    AxisInput("governance", "satisfactory", "Comité de pilotage mensuel."),
    AxisInput("delivery", "insufficient", "Équipe interne trop réduite."),
    AxisInput("planning", "to_improve", "Calendrier tendu."),
]


def _request(engine: Engine, request_id: int) -> OpinionRequest:
    with session_scope(engine) as s:
        found = s.get(OpinionRequest, request_id)
        assert found is not None
        return found


def test_a_request_from_saisine_to_opinion_and_its_recommendations_to_closure(
    engine: Engine,
    portfolio: Portfolio,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    ministry, dinum = portfolio.ministry, portfolio.dinum
    with session_scope(engine, write=True) as s:
        project = s.get(Project, portfolio.cadre)
        assert project is not None
        request = opinions.open_request(
            s, ministry, project, subject="Passage en réalisation", on=date(2027, 1, 4)
        )
        opinions.add_document(s, ministry, request, filename="dossier.pdf", data=PDF)
        request_id = request.id
    assert request_id is not None

    with session_scope(engine, write=True) as s:  # the complete file, received 15 January
        request = _request(engine, request_id)
        opinions.receive_file(s, dinum, s.merge(request), on=date(2027, 1, 15))
        clock = opinions.clock_of(s, dinum, s.merge(request))
    assert clock.deadline == date(2027, 2, 15)
    assert clock.observations_due == date(2027, 2, 9)

    with session_scope(engine, write=True) as s:  # information requested: the clock stops
        request = s.merge(_request(engine, request_id))
        opinions.request_information(
            s, dinum, request, on=date(2027, 1, 20), note="Le détail du coût de maintien."
        )
        clock = opinions.clock_of(s, dinum, request)
        assert (clock.state, clock.deadline) == ("suspended", None)
        opinions.add_document(
            s, ministry, request, filename="maintien.ods", data=b"PK\x03\x04 tableur"
        )
        opinions.receive_information(s, ministry, request, on=date(2027, 1, 27))
        clock = opinions.clock_of(s, dinum, request)
    assert clock.state == "running"
    assert clock.suspended_days == 7
    assert clock.deadline == date(2027, 2, 22)  # the deadline moved by the 7 days

    with session_scope(engine, write=True) as s:
        request = s.merge(_request(engine, request_id))
        opinions.record_observations(s, dinum, request, observer="anssi", on=date(2027, 2, 1))
        opinions.record_observations(s, dinum, request, observer="budget", on=date(2027, 2, 5))
        assert request.status == "observations_received"
        views, due = opinions.running_clocks(s, dinum, date(2027, 2, 16))
    assert [v.request.id for v in views] == [request_id]
    assert [(d.what, d.due_on, d.days_left) for d in due] == [("opinion", date(2027, 2, 22), 6)]

    with session_scope(engine, write=True) as s:
        request = s.merge(_request(engine, request_id))
        opinion = opinions.give_opinion(
            s,
            dinum,
            request,
            sense="favourable_with_reservations",
            on=date(2027, 2, 20),
            axes=AXES,
            recommendations=[
                RecommendationInput("Renforcer l'équipe interne.", "DNUM MI", date(2027, 6, 30)),
                RecommendationInput(
                    "Chiffrer le maintien sur 24 mois.", "DNUM MI", date(2027, 4, 30)
                ),
            ],
        )
        assert request.status == "opinion_given"
        assert [a.axis for a in opinions.axes_of(s, dinum, opinion)] == [
            "strategy",
            "finances",
            "governance",
            "delivery",
            "planning",
        ]
        # The first opinion's figures became the project's approved (initial) baseline.
        initial = projects.initial_baseline(s, portfolio.cadre)
        assert initial is not None and opinion.baseline_id == initial.id
        assert (initial.cost_eur, initial.end_date) == (12_000_000, date(2028, 12, 31))
        recs = [r for r, _, _ in opinions.recommendations(s, ministry, opinion_id=opinion.id)]
    later, sooner = sorted(recs, key=lambda r: r.number)

    with session_scope(engine, write=True) as s:  # the ministry closes the first one
        rec = s.merge(later)
        opinions.update_recommendation(s, ministry, rec, status="in_progress", on=date(2027, 3, 1))
        opinions.update_recommendation(
            s, ministry, rec, status="closed", on=date(2027, 4, 15), comment="Deux recrutements."
        )
        history = opinions.recommendation_history(s, ministry, rec)
    assert [h.status for h in history] == ["open", "in_progress", "closed"]

    with session_scope(engine, write=True) as s:  # due on 30 April: not late that day
        assert opinions.daily_checks(s, date(2027, 4, 30)).alerts == []
    with session_scope(engine, write=True) as s:
        first = opinions.daily_checks(s, date(2027, 5, 1))
        overdue = opinions.overdue_recommendations(s, dinum, date(2027, 5, 1))
    assert [a.kind for a in first.alerts] == ["recommendation_overdue"]
    assert [(o.recommendation.id, o.days_late) for o in overdue] == [(sooner.id, 1)]
    with session_scope(engine, write=True) as s:  # the next days: the same event, no alert
        assert opinions.daily_checks(s, date(2027, 5, 2)).alerts == []
    deliver(engine)
    mails = smtp_server.to("veille@numerique.gouv.fr")
    assert len(mails) == 1
    assert "recommandation" in mails[0]["Subject"]
    assert "30 avril 2027" in text_of(mails[0])
    assert len(webhook_receiver.received) == 1

    with session_scope(engine) as s:  # the audit trail of the request
        changes = s.exec(
            select(AuditEvent.new_value)
            .where(AuditEvent.entity == "opinion_request", AuditEvent.field == "status")
            .order_by(col(AuditEvent.id))
        ).all()
    assert changes == [
        "received",
        "information_requested",
        "received",
        "observations_received",
        "opinion_given",
    ]


def test_an_unanswered_request_is_deemed_favourable_the_day_after_its_deadline(
    engine: Engine, portfolio: Portfolio, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    ministry, dinum = portfolio.ministry, portfolio.dinum
    with session_scope(engine, write=True) as s:
        project = s.get(Project, portfolio.second)
        assert project is not None
        request = opinions.open_request(
            s, ministry, project, subject="Avant l'appel d'offres", on=date(2027, 1, 25)
        )
        opinions.add_document(
            s, ministry, request, filename="note.txt", data="Dossier complété".encode()
        )
        opinions.receive_file(s, dinum, request, on=date(2027, 1, 31))
        # 31 January + one month: February has no 31st, the deadline is its last day.
        assert opinions.clock_of(s, dinum, request).deadline == date(2027, 2, 28)
        request_id = request.id
    assert request_id is not None

    with session_scope(engine, write=True) as s:  # on the deadline: still running
        assert opinions.daily_checks(s, date(2027, 2, 28)).expired == []
    with session_scope(engine, write=True) as s:  # the day after: deemed favourable
        result = opinions.daily_checks(s, date(2027, 3, 1))
    assert [r.id for r in result.expired] == [request_id]
    assert [a.kind for a in result.alerts] == ["opinion_deemed_favourable"]
    with session_scope(engine, write=True) as s:  # a week late, again: nothing new
        again = opinions.daily_checks(s, date(2027, 3, 8))
        assert (again.expired, again.alerts) == ([], [])
        closing = s.exec(
            select(OpinionEvent).where(
                OpinionEvent.request_id == request_id, OpinionEvent.kind == "deemed_favourable"
            )
        ).all()
        opinion = s.exec(select(Opinion).where(Opinion.request_id == request_id)).one()
        assert s.exec(select(Recommendation)).all() == []
        assert len(s.exec(select(Alert)).all()) == 1
    assert [e.happened_on for e in closing] == [date(2027, 3, 1)]
    assert (opinion.sense, opinion.given_on) == ("deemed_favourable", date(2027, 3, 1))
    assert _request(engine, request_id).status == "deemed_favourable"
    deliver(engine)
    [mail] = smtp_server.to("veille@numerique.gouv.fr")
    assert "réputé favorable" in mail["Subject"]
    assert "1er mars 2027" in text_of(mail)
