"""Fictitious follow-up data for the demo, so that a newcomer sees every indicator at work.

The two real editions carry no milestones, risks or météo. ``add_demo_follow_up`` gives
each project in the panorama a few milestones, risks and a report dated today, drawn
from a generator seeded by the project's identifier (the same every time). Every
report it writes says in its comment that the data is fictitious. It does nothing when
follow-up data already exists. The data keeps the ministry workbook's rules, so that each
demo ministry's workbook imports as it is.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlmodel import Session, func, select

from pilot.indicators import service as indicators
from pilot.indicators.steering import CRITICAL_FROM, criticality
from pilot.projects import service as projects
from pilot.projects.models import Milestone, Risk, RiskStatus, Weather

DEMO_COMMENT = "Données fictives de démonstration (pilot demo)."
ACTOR = "demo"
MILESTONES = ("Lancement", "Mise en service pilote", "Généralisation")
RISKS = (
    ("Dépendance à un prestataire unique", "Contrat"),
    ("Disponibilité des équipes métier", "Ressources"),
    ("Reprise des données historiques", "Technique"),
    ("Évolution réglementaire en cours de projet", "Juridique"),
)


def add_demo_follow_up(session: Session, *, today: date) -> int:
    """Add fictitious milestones, risks and a report to each project; returns how many."""
    if session.exec(select(func.count()).select_from(Milestone)).one():
        return 0
    done = 0
    for status in indicators.project_statuses(session):
        project, report = status.project, status.report
        assert project.id is not None
        rng = random.Random(project.id)
        start = project.start_date or today - timedelta(days=3 * 365)
        end = (report.forecast_end if report else None) or start + timedelta(days=5 * 365)
        span = max((end - start).days, 90)
        slip = rng.choice((0, 0, 30, 90, 240))
        for index, name in enumerate(MILESTONES, start=1):
            planned = start + timedelta(days=span * index // (len(MILESTONES) + 1))
            forecast = planned + timedelta(days=slip * index)
            session.add(
                Milestone(
                    project_id=project.id,
                    name=name,
                    baseline_date=planned,
                    forecast_date=forecast,
                    actual_date=forecast if forecast < today - timedelta(days=30) else None,
                )
            )
        for title, category in rng.sample(RISKS, k=rng.randint(1, 3)):
            probability, impact = rng.randint(1, 4), rng.randint(1, 4)
            # About a third of the minor risks have no mitigation yet; a critical open risk
            # always has one (the ministry workbook refuses it otherwise).
            unmitigated = rng.random() < 0.3 and criticality(probability, impact) < CRITICAL_FROM
            session.add(
                Risk(
                    project_id=project.id,
                    title=title,
                    category=category,
                    probability=probability,
                    impact=impact,
                    owner="Directeur de projet",
                    mitigation=None if unmitigated else "Plan d'action suivi en comité.",
                    status=RiskStatus.OUVERT.value,
                    opened_on=start,
                )
            )
        cost = report.current_cost_eur if report else None
        if cost is not None:
            cost = int(cost * (1 + rng.choice((0, 0, 0.05, 0.15, 0.4))))
        projects.record_report(
            session,
            project,
            reported_on=today,
            actor=ACTOR,
            phase=report.phase if report else project.phase,
            current_cost_eur=cost,
            forecast_end=end + timedelta(days=slip) if report and report.forecast_end else None,
            weather=rng.choice([w.value for w in Weather]),
            comment=DEMO_COMMENT,
        )
        done += 1
    session.flush()
    return done


DEMO_ACCOUNTS = (
    ("agent.mi@demo.pilot.local", "ministry", "MI"),
    ("pilotage@demo.pilot.local", "dinum", None),
    ("admin@demo.pilot.local", "admin", None),
)


def add_demo_accounts(session: Session) -> list[str]:
    """The demo's web accounts (a ministry agent of MI, a DINUM officer, an admin), once;
    returns their addresses. For the demo's login only (pilot/web/demo.py)."""
    from pilot.auth import accounts
    from pilot.auth.models import Role
    from pilot.ministries import service as ministries

    made = []
    for email, role, code in DEMO_ACCOUNTS:
        ministry = ministries.get_by_code(session, code) if code else None
        if accounts.find_account(session, email) is None and (code is None or ministry):
            accounts.create_account(
                session, email=email, role=Role(role), ministry=ministry, actor=ACTOR
            )
        made.append(email)
    return made


def add_demo_opinions(session: Session, *, today: date) -> int:
    """Fictitious requests for DINUM's opinion (docs/opinions.md), once, so that each
    space shows the procedure at work: for MI's two costliest projects in the panorama, a
    request whose clock runs (information asked and received, ANSSI's observations in,
    the budget director's due this week) and one answered unfavourably two months ago,
    with a recommendation past due and one in progress (an unfavourable opinion approves
    no baseline: the projects' figures and drift are unchanged). Returns how many
    requests it opened."""
    from pilot.auth.models import Role
    from pilot.auth.service import Principal
    from pilot.ministries import service as ministries
    from pilot.opinions import service as opinions
    from pilot.opinions.models import OpinionRequest

    ministry = ministries.get_by_code(session, "MI")
    if ministry is None or session.exec(select(func.count()).select_from(OpinionRequest)).one():
        return 0
    statuses = [
        s
        for s in indicators.project_statuses(session, ministry_id=ministry.id)
        if s.row.cost_eur is not None
    ]
    statuses.sort(key=lambda s: -(s.row.cost_eur or 0))
    if len(statuses) < 2:
        return 0
    agent = Principal(role=Role.MINISTRY, ministry_id=ministry.id, name=DEMO_ACCOUNTS[0][0])
    dinum = Principal(role=Role.DINUM, name=DEMO_ACCOUNTS[1][0])
    note = DEMO_COMMENT.encode()

    def day(offset: int) -> date:
        return today + timedelta(days=offset)

    running = opinions.open_request(
        session, agent, statuses[0].project, subject="Passage en réalisation", on=day(-30)
    )
    opinions.add_document(session, agent, running, filename="dossier-de-saisine.txt", data=note)
    opinions.receive_file(session, dinum, running, on=day(-20), note=DEMO_COMMENT)
    opinions.request_information(
        session, dinum, running, on=day(-15), note="Détail du coût de maintien sur 24 mois."
    )
    opinions.receive_information(session, agent, running, on=day(-12))
    opinions.record_observations(session, dinum, running, observer="anssi", on=day(-4))
    answered = opinions.open_request(
        session, agent, statuses[1].project, subject="Lancement du marché", on=day(-100)
    )
    opinions.add_document(session, agent, answered, filename="note-de-cadrage.txt", data=note)
    opinions.receive_file(session, dinum, answered, on=day(-90))
    opinions.record_observations(session, dinum, answered, observer="anssi", on=day(-70))
    opinions.record_observations(session, dinum, answered, observer="budget", on=day(-68))
    opinion = opinions.give_opinion(
        session,
        dinum,
        answered,
        sense="unfavourable",
        on=day(-62),
        summary=DEMO_COMMENT,
        axes=[
            opinions.AxisInput("strategy", "satisfactory", "Besoin clairement établi."),
            opinions.AxisInput("finances", "insufficient", "Coût complet sous-estimé."),
            opinions.AxisInput("governance", "to_improve", "Comité stratégique à réunir."),
            opinions.AxisInput("delivery", "insufficient", "Équipe interne trop réduite."),
            opinions.AxisInput("planning", "critical", "Calendrier irréaliste."),
        ],
        recommendations=[
            opinions.RecommendationInput(
                "Réévaluer le coût complet (construction et 24 mois de maintien).",
                "Directeur de projet",
                day(-10),
            ),
            opinions.RecommendationInput(
                "Renforcer l'équipe interne de deux chefs de projet.", "DNUM", day(60)
            ),
        ],
    )
    [_, (in_progress, _, _)] = opinions.recommendations(session, dinum, opinion_id=opinion.id)
    opinions.update_recommendation(
        session, agent, in_progress, status="in_progress", on=day(-30), comment=DEMO_COMMENT
    )
    session.flush()
    return 2
