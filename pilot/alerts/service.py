"""Alerts: ``detect_alerts`` looks at the portfolio and records each new event once
(``Alert.key`` is unique: detecting the same event again, e.g. after re-importing the
same data, records and sends nothing), then queues an e-mail to each of DINUM's
subscribers (``alert_recipients``: the ``alert_subscriber`` table DINUM manages, plus
``PILOT_ALERT_EMAILS``) and a signed JSON POST to each webhook
(``PILOT_WEBHOOKS``), delivered by the outbox (``pilot.mail.service.deliver``).

The events, and the key that makes each one once:

- ``health_red``: the computed health turned red; keyed on the first report of the
  current red streak (going back to green then red again is a new event);
- ``weather_rosier``: the declared météo became rosier than the computed health; keyed
  likewise on the first report of the streak;
- ``milestone_slip``: a milestone's forecast slipped at the second report in a row (and
  at each further slipping report); keyed on the milestone and the report;
- ``risk_unmitigated``: an open risk of criticality 9 or more has no mitigation; keyed
  on the risk;
- ``recommendation_overdue`` and ``opinion_deemed_favourable``: from DINUM's opinions,
  detected by ``pilot.opinions.service.daily_checks`` and recorded by ``record_alerts``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from pilot.alerts.models import KINDS, Alert, AlertSubscriber
from pilot.config import get_settings
from pilot.indicators.early_warning import slipping_in_a_row
from pilot.indicators.health import Health, health_from_drift, weather_is_rosier
from pilot.indicators.steering import unmitigated_risk
from pilot.mail import service as mail
from pilot.ministries.models import Ministry
from pilot.projects import service as projects
from pilot.projects.forecasts import forecast_history
from pilot.projects.models import Milestone, Project, Report, Risk


@dataclass(frozen=True)
class Candidate:
    key: str
    kind: str
    project_id: int
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    project: dict[str, Any] = field(default_factory=dict)  # id, name, ministry (webhooks)


def _pct(value: Any) -> str:
    return f"{value * 100:.0f} %".replace(".", ",") if value is not None else "inconnue"


def _streak_start(reports: list[Report], holds: Callable[[Report], bool]) -> Report | None:
    """The first report of the latest run of reports for which ``holds`` is true (None
    when it does not hold for the latest report)."""
    start = None
    for report in reversed(reports):
        if not holds(report):
            break
        start = report
    return start


def _fr(d: Any) -> str:
    return mail.french_date(d) if d is not None else "sans date"


def candidates(session: Session, project_ids: list[int] | None = None) -> list[Candidate]:
    """Every event the portfolio (or the projects named) shows now, recorded or not."""
    found: list[Candidate] = []
    named = select(Project, Ministry.code).join(Ministry)
    ordered = select(Report).order_by(
        col(Report.project_id), col(Report.reported_on), col(Report.id)
    )
    milestones_query = select(Milestone)
    risky = select(Risk).where(unmitigated_risk())
    if project_ids is not None:
        named = named.where(col(Project.id).in_(project_ids))
        ordered = ordered.where(col(Report.project_id).in_(project_ids))
        milestones_query = milestones_query.where(col(Milestone.project_id).in_(project_ids))
        risky = risky.where(col(Risk.project_id).in_(project_ids))
    names = {p.id: (p, code) for p, code in session.exec(named).all()}
    reports: dict[int, list[Report]] = {}
    for r in session.exec(ordered):
        reports.setdefault(r.project_id, []).append(r)
    baselines = projects.baselines_by_project(session, project_ids)
    for pid, history in reports.items():
        project, code = names[pid]
        label = f"« {project.name} » ({code})"
        initial, latest = baselines.get(pid, (None, None))

        def health(r: Report, initial: Any = initial, latest: Any = latest) -> Health | None:
            drift = projects.drift_of(initial, latest, r)
            return health_from_drift(drift.budget_initial, drift.schedule_initial)

        red = _streak_start(history, lambda r: health(r) == Health.RED)
        if red is not None:
            drift = projects.drift_of(initial, latest, history[-1])
            found.append(
                Candidate(
                    f"health_red:{pid}:{red.id}",
                    "health_red",
                    pid,
                    f"Le projet {label} est passé au rouge : dérive de {_pct(drift.budget_initial)}"
                    f" sur le budget et de {_pct(drift.schedule_initial)} sur le calendrier "
                    "(par rapport à la référence initiale).",
                    {"since_report_id": red.id, "reported_on": red.reported_on},
                )
            )
        rosier = _streak_start(history, lambda r: weather_is_rosier(r.weather, health(r)))
        if rosier is not None:
            last = history[-1]
            found.append(
                Candidate(
                    f"weather_rosier:{pid}:{rosier.id}",
                    "weather_rosier",
                    pid,
                    f"La météo déclarée du projet {label} (« {last.weather} ») est plus "
                    f"favorable que sa santé calculée ({health(last)}).",
                    {"since_report_id": rosier.id, "weather": last.weather},
                )
            )
    milestones = {m.id: m for m in session.exec(milestones_query)}
    for milestone_id, rows in forecast_history(session, project_ids).items():
        if (
            rows[-1].actual_date is not None
            or slipping_in_a_row([r.forecast_date for r in rows]) < 2
        ):
            continue
        project, code = names[rows[-1].project_id]
        m = milestones.get(milestone_id)
        dates = ", puis ".join(_fr(r.forecast_date) for r in rows[-3:])
        found.append(
            Candidate(
                f"milestone_slip:{milestone_id}:{rows[-1].report_id}",
                "milestone_slip",
                rows[-1].project_id,
                f"Le jalon « {m.name if m else milestone_id} » du projet « {project.name} » "
                f"({code}) a glissé à deux remontées de suite : prévu le {dates}.",
                {"milestone_id": milestone_id, "forecasts": [r.forecast_date for r in rows[-3:]]},
            )
        )
    for risk in session.exec(risky):
        project, code = names[risk.project_id]
        found.append(
            Candidate(
                f"risk_unmitigated:{risk.id}",
                "risk_unmitigated",
                risk.project_id,
                f"Le risque critique « {risk.title} » (criticité {risk.criticality}) du projet "
                f"« {project.name} » ({code}) n'a pas de mesure d'atténuation.",
                {"risk_id": risk.id, "criticality": risk.criticality},
            )
        )
    for c in found:
        project, code = names[c.project_id]
        c.project.update(id=project.pilot_id, name=project.name, ministry=code)
    return found


def detect_alerts(session: Session, project_ids: list[int] | None = None) -> list[Alert]:
    """Record the new events (see the module docstring) of the portfolio, or of the
    projects named, and queue their messages; returns the alerts recorded now. Run daily
    by the scheduler (on all); after each import, ``pilot.followup`` reads the
    ``candidates`` first then records them in short batches (``record_alerts``)."""
    return record_alerts(session, candidates(session, project_ids))


def record_alerts(session: Session, events: list[Candidate]) -> list[Alert]:
    """Record the events of ``events`` not recorded yet, and queue their messages to
    DINUM's subscribers and webhooks; returns the alerts recorded now."""
    found = {c.key: c for c in events}
    if not found:
        return []
    known = set(session.exec(select(Alert.key).where(col(Alert.key).in_(list(found)))).all())
    new = [c for key, c in found.items() if key not in known]
    try:
        with session.begin_nested():
            recorded = [_alert(c) for c in new]
            session.add_all(recorded)
            session.flush()
    except IntegrityError:  # another process recorded some meanwhile: one by one
        recorded = []
        for c in new:
            try:
                with session.begin_nested():
                    alert = _alert(c)
                    session.add(alert)
                    session.flush()
                recorded.append(alert)
            except IntegrityError:
                continue
    settings = get_settings()
    emails, webhooks = alert_recipients(session), mail.split_list(settings.webhooks)
    messages = []
    for alert in recorded:
        c = found[alert.key]
        content = mail.Content(
            f"PILOT : alerte, {_SUBJECTS[alert.kind]}",
            ["Bonjour,", alert.message, "Le détail est dans l'espace DINUM de PILOT."],
        )
        messages += [
            mail.email_message(key=f"alert:{alert.key}:{to}", to=to, content=content)
            for to in emails
        ]
        body = payload(alert, c.project)
        messages += [
            mail.webhook_message(key=f"alert:{alert.key}:{url}", url=url, payload=body)
            for url in webhooks
        ]
    mail.enqueue_all(session, messages)
    return recorded


def _alert(c: Candidate) -> Alert:
    return Alert(
        key=c.key, kind=c.kind, project_id=c.project_id, message=c.message, data=_jsonable(c.data)
    )


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    def convert(v: Any) -> Any:
        if isinstance(v, list):
            return [convert(x) for x in v]
        return v.isoformat() if hasattr(v, "isoformat") else v

    return {k: convert(v) for k, v in data.items()}


_SUBJECTS = {
    "health_red": "projet passé au rouge",
    "weather_rosier": "météo plus favorable que la santé calculée",
    "milestone_slip": "jalon qui glisse encore",
    "risk_unmitigated": "risque critique sans atténuation",
    "recommendation_overdue": "recommandation de l'avis en retard",
    "opinion_deemed_favourable": "avis réputé favorable faute de réponse dans le délai",
}


def payload(alert: Alert, project: dict[str, Any]) -> dict[str, Any]:
    """The JSON body webhooks receive for ``alert`` (``project``: its id, name, ministry)."""
    return {
        "event": alert.kind,
        "alert_id": alert.id,
        "key": alert.key,
        "message": alert.message,
        "detected_at": alert.detected_at.isoformat(),
        "project": project,
        "data": alert.data,
    }


def recent_alerts(session: Session, limit: int = 100) -> list[Alert]:
    """The latest alerts, newest first (DINUM's space)."""
    return list_alerts(session, limit=limit).alerts


@dataclass(frozen=True)
class AlertPage:
    alerts: list[Alert]  # newest first
    total: int  # alerts matching the filters, all pages
    more: bool  # older alerts follow this page


def list_alerts(
    session: Session,
    *,
    kind: str | None = None,
    project_id: int | None = None,
    before_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> AlertPage:
    """The recorded alerts, newest first (in the order they were recorded), of a ``kind``
    and of a project when given: ``limit`` of them after ``offset``, or (keyset) older
    than the alert ``before_id``."""
    conditions = []
    if kind is not None:
        conditions.append(col(Alert.kind) == kind)
    if project_id is not None:
        conditions.append(col(Alert.project_id) == project_id)
    total = session.exec(select(func.count()).select_from(Alert).where(*conditions)).one()
    if before_id is not None:
        conditions.append(col(Alert.id) < before_id)
    limit = max(limit, 1)
    found = list(
        session.exec(
            select(Alert)
            .where(*conditions)
            .order_by(col(Alert.id).desc())
            .offset(max(offset, 0))
            .limit(limit + 1)
        )
    )
    return AlertPage(alerts=found[:limit], total=int(total), more=len(found) > limit)


def alert_kinds() -> tuple[str, ...]:
    return KINDS


KIND_LABELS = {  # DINUM's space
    "health_red": "Santé passée au rouge",
    "weather_rosier": "Météo plus favorable que la santé calculée",
    "milestone_slip": "Jalon qui glisse encore",
    "risk_unmitigated": "Risque critique sans atténuation",
    "recommendation_overdue": "Recommandation de l'avis en retard",
    "opinion_deemed_favourable": "Avis réputé favorable faute de réponse",
}


# --- DINUM's subscribers to alert e-mails ------------------------------------------------


class SubscriberError(ValueError):
    """A subscriber address refused (French message)."""


def normalise_email(email: str) -> str:
    """The address, trimmed and lower-cased; ``SubscriberError`` when it is not one."""
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if (
        not local
        or "." not in domain
        or "@" in domain
        or any(c.isspace() or ord(c) < 32 for c in email)
        or len(email) > 320
    ):
        raise SubscriberError(f"Adresse électronique invalide : « {email[:330]} ».")
    return email


def add_subscriber(session: Session, *, email: str, actor: str) -> AlertSubscriber:
    """Subscribe ``email`` to alert e-mails (once: adding it again changes nothing)."""
    email = normalise_email(email)
    existing = session.exec(select(AlertSubscriber).where(AlertSubscriber.email == email)).first()
    if existing is not None:
        return existing
    subscriber = AlertSubscriber(email=email, added_by=actor[:200])
    session.add(subscriber)
    session.flush()
    return subscriber


def remove_subscriber(session: Session, *, email: str) -> bool:
    """Unsubscribe ``email``; False when it was not subscribed (in the table)."""
    found = session.exec(
        select(AlertSubscriber).where(AlertSubscriber.email == email.strip().lower())
    ).first()
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def list_subscribers(session: Session) -> list[AlertSubscriber]:
    """The subscribers DINUM added, by address."""
    return list(session.exec(select(AlertSubscriber).order_by(col(AlertSubscriber.email))))


def alert_recipients(session: Session) -> list[str]:
    """Who receives alert e-mails: the subscribers DINUM added and the addresses of
    ``PILOT_ALERT_EMAILS``, lower-cased, each once."""
    addresses = [s.email for s in list_subscribers(session)]
    addresses += [a.lower() for a in mail.subscribers(get_settings())]
    return list(dict.fromkeys(addresses))
