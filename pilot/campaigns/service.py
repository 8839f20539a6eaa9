"""Reporting campaigns: open, follow, remind, close. Plain functions taking a session;
every date is passed in (``on``), so that a test controls the clock.

A ministry's status in a campaign, from the workbooks it sent since the campaign opened
(``ImportFile.received_at``; dry runs do not count):

- ``envoyé``: a workbook was applied (or was the same as one applied);
- ``en retard``: nothing applied and the deadline has passed;
- ``envoyé avec erreurs``: only refused (or failed) workbooks, before the deadline;
- ``non commencé``: nothing received, before the deadline.

Reminders go to the ministry's contacts (``contacts_of``) when nothing was applied yet:
``PILOT_REMINDER_DAYS`` days before the deadline (e.g. ``7,2``), then, once late, the day
after the deadline and every ``PILOT_LATE_REMINDER_EVERY_DAYS`` days. Each is queued once
per (campaign, ministry, kind, reminder day, address); a run that missed a reminder day
(scheduler stopped) sends it at its next run, keyed on the same day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from pilot.auth.models import Account, Role
from pilot.campaigns.models import Campaign, CampaignMinistry, Contact
from pilot.config import Settings, get_settings
from pilot.editions import service as editions
from pilot.editions.models import Edition
from pilot.imports.models import ImportFile, ImportStatus
from pilot.indicators import steering
from pilot.mail import service as mail
from pilot.ministries import service as ministries
from pilot.ministries.models import Ministry
from pilot.timeutil import utcnow


class CampaignError(ValueError):
    """A campaign operation refused, with a French message."""


class MinistryState(StrEnum):
    NOT_STARTED = "non commencé"
    SENT_WITH_ERRORS = "envoyé avec erreurs"
    SENT = "envoyé"
    LATE = "en retard"


@dataclass(frozen=True)
class MinistryStatus:
    ministry_id: int
    code: str
    name: str
    state: MinistryState
    imports: int  # workbooks received in the campaign
    last_received_at: datetime | None


def current_campaign(session: Session) -> Campaign | None:
    """The open campaign, if any."""
    return session.exec(
        select(Campaign).where(col(Campaign.closed_at).is_(None)).order_by(col(Campaign.id))
    ).first()


def latest_campaign(session: Session) -> Campaign | None:
    """The open campaign, else the last one closed."""
    return (
        current_campaign(session)
        or session.exec(select(Campaign).order_by(col(Campaign.id).desc())).first()
    )


def open_campaign(
    session: Session,
    *,
    title: str,
    deadline: date,
    ministry_codes: Sequence[str] = (),
    on: date,
    actor: str,
) -> Campaign:
    """Open a campaign from ``on`` to ``deadline`` for the ministries named (all of them
    when none is named). One campaign is open at a time."""
    title = title.strip()
    if not title:
        raise CampaignError("Donnez un titre à la campagne.")
    if deadline < on:
        raise CampaignError(
            f"La date limite ({mail.french_date(deadline)}) est passée : choisissez une date "
            "à venir."
        )
    if (existing := current_campaign(session)) is not None:
        raise CampaignError(
            f"La campagne « {existing.title} » est encore ouverte : clôturez-la d'abord."
        )
    concerned: list[Ministry] = []
    for code in ministry_codes:
        found = ministries.get_by_code(session, code)
        if found is None:
            raise CampaignError(f"Ministère inconnu : « {code} ».")
        if found not in concerned:
            concerned.append(found)
    if not ministry_codes:
        concerned = list(ministries.list_ministries(session))
    if not concerned:
        raise CampaignError("Aucun ministère n'est enregistré : la campagne ne concerne personne.")
    campaign = Campaign(title=title[:300], period_start=on, deadline=deadline, opened_by=actor)
    session.add(campaign)
    session.flush()
    assert campaign.id is not None
    for ministry in concerned:
        assert ministry.id is not None
        session.add(CampaignMinistry(campaign_id=campaign.id, ministry_id=ministry.id))
    session.flush()
    return campaign


def concerned_ministries(session: Session, campaign: Campaign) -> list[Ministry]:
    return list(
        session.exec(
            select(Ministry)
            .join(CampaignMinistry, col(CampaignMinistry.ministry_id) == col(Ministry.id))
            .where(CampaignMinistry.campaign_id == campaign.id)
            .order_by(col(Ministry.code))
        )
    )


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def ministry_statuses(session: Session, campaign: Campaign, *, on: date) -> list[MinistryStatus]:
    """Each concerned ministry's status at ``on`` (see the module docstring)."""
    concerned = concerned_ministries(session, campaign)
    until = min(on, campaign.period_end) if campaign.period_end else on
    imports = session.exec(
        select(ImportFile.ministry_id, ImportFile.status, ImportFile.received_at).where(
            col(ImportFile.ministry_id).in_([m.id for m in concerned]),
            col(ImportFile.dry_run).is_(False),
            col(ImportFile.received_at) >= _start(campaign.period_start),
            col(ImportFile.received_at) < _start(until + timedelta(days=1)),
        )
    ).all()
    result = []
    for ministry in concerned:
        assert ministry.id is not None
        mine = [(status, at) for ministry_id, status, at in imports if ministry_id == ministry.id]
        statuses = {status for status, _ in mine}
        if statuses & {ImportStatus.APPLIED.value, ImportStatus.DUPLICATE.value}:
            state = MinistryState.SENT
        elif on > campaign.deadline:
            state = MinistryState.LATE
        elif statuses & {ImportStatus.REJECTED.value, ImportStatus.FAILED.value}:
            state = MinistryState.SENT_WITH_ERRORS
        else:
            state = MinistryState.NOT_STARTED
        result.append(
            MinistryStatus(
                ministry_id=ministry.id,
                code=ministry.code,
                name=ministry.name,
                state=state,
                imports=len(mine),
                last_received_at=max((at for _, at in mine), default=None),
            )
        )
    return result


def close_campaign(session: Session, *, on: date) -> Campaign:
    """Close the open campaign at ``on`` (its period ends that day)."""
    campaign = current_campaign(session)
    if campaign is None:
        raise CampaignError("Aucune campagne n'est ouverte.")
    campaign.period_end = max(on, campaign.period_start)
    campaign.closed_at = utcnow()
    session.add(campaign)
    session.flush()
    return campaign


def edition_preview(session: Session, *, on: date) -> Edition:
    """The edition the portfolio would make if published at ``on`` (nothing written):
    what closing a campaign proposes to publish (``pilot publish``)."""
    return editions.publish_current(session, published_on=on, dry_run=True)


def stale_before(session: Session, *, today: date, settings: Settings | None = None) -> date:
    """Reports dated before this day are stale: the open campaign's start when a campaign
    is open ("nothing sent for the current campaign"), else ``PILOT_REPORTING_PERIOD_DAYS``
    before ``today``."""
    campaign = current_campaign(session)
    if campaign is not None:
        return campaign.period_start
    settings = settings or get_settings()
    return steering.stale_before(today, settings.reporting_period_days)


# --- Contacts ------------------------------------------------------------------------


def add_contact(session: Session, *, ministry_code: str, email: str, actor: str) -> Contact:
    ministry = ministries.get_by_code(session, ministry_code)
    if ministry is None or ministry.id is None:
        raise CampaignError(f"Ministère inconnu : « {ministry_code} ».")
    email = email.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 320:
        raise CampaignError(f"Adresse électronique invalide : « {email} ».")
    existing = session.exec(
        select(Contact).where(Contact.ministry_id == ministry.id, Contact.email == email)
    ).first()
    if existing is not None:
        return existing
    contact = Contact(ministry_id=ministry.id, email=email, added_by=actor)
    session.add(contact)
    session.flush()
    return contact


def remove_contact(session: Session, *, ministry_code: str, email: str) -> bool:
    ministry = ministries.get_by_code(session, ministry_code)
    if ministry is None:
        raise CampaignError(f"Ministère inconnu : « {ministry_code} ».")
    contact = session.exec(
        select(Contact).where(Contact.ministry_id == ministry.id, Contact.email == email.strip())
    ).first()
    if contact is None:
        return False
    session.delete(contact)
    session.flush()
    return True


def contacts_of(session: Session, ministry_id: int) -> list[str]:
    """Where a ministry's messages go: the addresses DINUM added (``ministry_contact``)
    and those of the ministry's enabled web accounts, lower-case, each once (sorted)."""
    added = session.exec(select(Contact.email).where(Contact.ministry_id == ministry_id)).all()
    accounts = session.exec(
        select(Account.email).where(
            Account.ministry_id == ministry_id,
            Account.role == Role.MINISTRY.value,
            col(Account.disabled).is_(False),
        )
    ).all()
    emails = {e.strip().lower() for e in [*added, *accounts] if e.strip()}
    return sorted(emails)


# --- Reminders -----------------------------------------------------------------------


def reminder_days(settings: Settings) -> list[int]:
    """``PILOT_REMINDER_DAYS`` as days before the deadline, largest first."""
    days = {int(part) for part in mail.split_list(settings.reminder_days) if part.isdigit()}
    return sorted(days, reverse=True)


def due_reminder(campaign: Campaign, on: date, settings: Settings) -> tuple[str, date] | None:
    """The reminder due at ``on`` as (kind, its reminder day), or None.

    Before the deadline: the latest reminder day passed (``deadline - n`` for ``n`` in
    ``PILOT_REMINDER_DAYS``); after it: ``deadline + 1``, then every
    ``PILOT_LATE_REMINDER_EVERY_DAYS`` days."""
    if on > campaign.deadline:
        every = settings.late_reminder_every_days
        late_days = (on - campaign.deadline).days
        return "late", campaign.deadline + timedelta(days=1 + (late_days - 1) // every * every)
    days_left = (campaign.deadline - on).days
    passed = [n for n in reminder_days(settings) if days_left <= n]
    if not passed:
        return None
    return "before", campaign.deadline - timedelta(days=min(passed))


@dataclass(frozen=True)
class Reminded:
    ministry: str
    kind: str
    day: date
    queued: int  # messages queued now (0: already sent for that day, or no contact)


def remind(session: Session, *, on: date) -> list[Reminded]:
    """Queue the reminders due at ``on`` for the open campaign (see the module docstring);
    delivery is ``pilot.mail.service.deliver``'s."""
    campaign = current_campaign(session)
    if campaign is None or on < campaign.period_start:
        return []
    settings = get_settings()
    due = due_reminder(campaign, on, settings)
    if due is None:
        return []
    kind, day = due
    result = []
    for status in ministry_statuses(session, campaign, on=on):
        if status.state == MinistryState.SENT:
            continue
        content = reminder_content(campaign, status, on=on)
        queued = sum(
            mail.enqueue_email(
                session,
                key=f"remind:{campaign.id}:{status.ministry_id}:{kind}:{day.isoformat()}:{to}",
                to=to,
                content=content,
            )
            for to in contacts_of(session, status.ministry_id)
        )
        result.append(Reminded(status.code, kind, day, queued))
    return result


def reminder_content(campaign: Campaign, status: MinistryStatus, *, on: date) -> mail.Content:
    deadline = mail.french_date(campaign.deadline)
    paragraphs: list[str | Sequence[str]] = ["Bonjour,"]
    if status.state == MinistryState.LATE:
        subject = f"PILOT : remontée en retard ({campaign.title})"
        paragraphs.append(
            f"La date limite de la campagne « {campaign.title} » était le {deadline}, et "
            f"nous n'avons pas encore reçu de classeur valide pour : {status.name}."
        )
        paragraphs.append("Merci de l'envoyer dès que possible.")
    else:
        days_left = (campaign.deadline - on).days
        left = (
            "C'est aujourd'hui le dernier jour."
            if days_left == 0
            else f"Il reste {days_left} jour{'s' if days_left > 1 else ''}."
        )
        subject = f"PILOT : date limite le {deadline} ({campaign.title})"
        paragraphs.append(
            f"La campagne « {campaign.title} » attend le classeur de : {status.name}, "
            f"au plus tard le {deadline}. {left}"
        )
    if status.imports and status.state != MinistryState.SENT:
        paragraphs.append(
            "Le dernier classeur reçu a été refusé : corrigez les erreurs signalées, puis "
            "renvoyez-le."
        )
    paragraphs.append(
        "Déposez votre classeur dans votre espace PILOT, ou dans la boîte de dépôt de "
        "votre ministère."
    )
    return mail.Content(subject, paragraphs)
