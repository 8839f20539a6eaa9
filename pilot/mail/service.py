"""The outbox: messages are enqueued in the caller's transaction and delivered later by
``deliver`` (the scheduler, ``pilot campaign remind``), so that sending never blocks an
import or a request, and a failing SMTP server or webhook loses nothing: a failed
attempt is logged on the message (``attempts``, ``last_error``) and retried with a
growing backoff until it succeeds.

E-mails are in French, plain text and HTML (one ``multipart/alternative``). Webhooks
are JSON bodies posted with an ``X-Pilot-Signature: sha256=<hex>`` header: the
HMAC-SHA256 of the body under ``PILOT_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pilot import db
from pilot.config import Settings, get_settings
from pilot.imports.models import Finding, ImportFile, ImportStatus
from pilot.mail.models import OutboxMessage
from pilot.ministries.models import Ministry
from pilot.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
CLAIM_SECONDS = 300  # a message being delivered is not picked by another process meanwhile
FINDINGS_IN_SUMMARY = 20

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(day: date) -> str:
    """``date(2027, 1, 15)`` → ``"15 janvier 2027"``; the first of a month is ``"1er"``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Content:
    """A message's text: its subject and paragraphs (a paragraph may hold a list)."""

    subject: str
    paragraphs: Sequence[str | Sequence[str]]

    def text(self) -> str:
        parts = []
        for p in self.paragraphs:
            parts.append(p if isinstance(p, str) else "\n".join(f"- {line}" for line in p))
        return "\n\n".join([*parts, _SIGNATURE]) + "\n"

    def html(self) -> str:
        parts = []
        for p in self.paragraphs:
            if isinstance(p, str):
                parts.append(f"<p>{html.escape(p)}</p>")
            else:
                items = "".join(f"<li>{html.escape(line)}</li>" for line in p)
                parts.append(f"<ul>{items}</ul>")
        return (
            '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.subject)}</title></head><body>"
            + "".join(parts)
            + f"<p>{html.escape(_SIGNATURE)}</p></body></html>"
        )


_SIGNATURE = "L'équipe PILOT (DINUM)"


def enqueue_all(session: Session, messages: Iterable[OutboxMessage]) -> int:
    """Add the messages whose key is not queued yet (in a few statements); returns how
    many were added. Of two processes queuing the same key at once, one adds it: on a
    conflict the batch's savepoint is rolled back and the messages are added one by one."""
    unique = {m.key: m for m in messages}
    if not unique:
        return 0
    queued = set(
        session.exec(
            select(OutboxMessage.key).where(col(OutboxMessage.key).in_(list(unique)))
        ).all()
    )
    fresh = [m for key, m in unique.items() if key not in queued]
    try:
        with session.begin_nested():
            session.add_all(fresh)
            session.flush()
        return len(fresh)
    except IntegrityError:
        pass
    added = 0
    for m in fresh:
        try:
            with session.begin_nested():
                session.add(OutboxMessage.model_validate(m.model_dump(exclude={"id"})))
                session.flush()
            added += 1
        except IntegrityError:
            continue
    return added


def email_message(*, key: str, to: str, content: Content) -> OutboxMessage:
    return OutboxMessage(
        key=key[:300],
        channel="email",
        recipient=to,
        subject=content.subject[:300],
        body_text=content.text(),
        body_html=content.html(),
    )


def webhook_message(*, key: str, url: str, payload: dict[str, Any]) -> OutboxMessage:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return OutboxMessage(key=key[:300], channel="webhook", recipient=url, body_text=body)


def enqueue_email(session: Session, *, key: str, to: str, content: Content) -> bool:
    """Queue an e-mail to ``to`` (once per ``key``); True when queued now."""
    return enqueue_all(session, [email_message(key=key, to=to, content=content)]) == 1


def enqueue_webhook(session: Session, *, key: str, url: str, payload: dict[str, Any]) -> bool:
    """Queue a JSON POST to ``url`` (once per ``key``); True when queued now."""
    return enqueue_all(session, [webhook_message(key=key, url=url, payload=payload)]) == 1


def sign(body: bytes, secret: str) -> str:
    """The ``X-Pilot-Signature`` header value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_email(message: OutboxMessage, settings: Settings) -> None:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = settings.mail_from
    email["To"] = message.recipient
    email["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(email)


def _send_webhook(message: OutboxMessage, settings: Settings) -> None:
    body = message.body_text.encode()
    request = urllib.request.Request(
        message.recipient,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "PILOT",
            "X-Pilot-Delivery": message.key,
            "X-Pilot-Signature": sign(body, settings.webhook_secret),
        },
    )
    with urllib.request.urlopen(request, timeout=settings.webhook_timeout_seconds) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(
                message.recipient, response.status, "not a 2xx response", response.headers, None
            )


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int
    waiting: int  # still queued after this run (failed ones included)


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Wait after the ``attempts``-th failure: the base, doubled each time, up to 6 h."""
    seconds = settings.outbox_backoff_seconds * 2 ** min(attempts - 1, 20)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def deliver(
    engine: Engine | None = None, *, now: datetime | None = None, limit: int = 500
) -> Delivery:
    """Send every queued message due at ``now``: each is claimed (two processes never
    send it both), sent outside any transaction, then marked sent, or its failure logged
    and its next attempt set. E-mails wait while no SMTP host is configured."""
    engine = engine or db.get_engine()
    settings = get_settings()
    now = now or utcnow()
    channels = ["webhook"] + (["email"] if settings.smtp_host else [])
    with db.session_scope(engine) as session:
        due = session.exec(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.sent_at).is_(None),
                col(OutboxMessage.next_attempt_at) <= now,
                col(OutboxMessage.channel).in_(channels),
            )
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(limit)
        ).all()
    sent = failed = 0
    for message in due:
        if not _claim(engine, message, now):
            continue
        error: str | None = None
        try:
            if message.channel == "email":
                _send_email(message, settings)
            else:
                _send_webhook(message, settings)
        except (OSError, smtplib.SMTPException, ValueError) as problem:
            error = f"{type(problem).__name__}: {problem}"[:2000]
        with db.session_scope(engine, write=True) as session:
            values: dict[str, Any] = {"attempts": message.attempts + 1}
            if error is None:
                values |= {"sent_at": utcnow(), "last_error": None}
                sent += 1
            else:
                values |= {
                    "last_error": error,
                    "next_attempt_at": now + backoff(message.attempts + 1, settings),
                }
                failed += 1
                log.warning("outbox %s to %s failed: %s", message.key, message.recipient, error)
            session.execute(
                update(OutboxMessage).where(col(OutboxMessage.id) == message.id).values(values)
            )
    with db.session_scope(engine) as session:
        waiting = len(
            session.exec(select(OutboxMessage.id).where(col(OutboxMessage.sent_at).is_(None))).all()
        )
    return Delivery(sent=sent, failed=failed, waiting=waiting)


def _claim(engine: Engine, message: OutboxMessage, now: datetime) -> bool:
    """Take ``message`` for ``CLAIM_SECONDS`` if it is still due (not sent, not claimed
    by another process); True when taken."""
    with db.session_scope(engine, write=True) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message.id,
                col(OutboxMessage.sent_at).is_(None),
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        )
        return cast(CursorResult[Any], result).rowcount == 1


# --- The findings summary after an import ---------------------------------------------

_STATUS_TEXT = {
    ImportStatus.APPLIED.value: "a été importé : les données sont enregistrées",
    ImportStatus.VALIDATED.value: "a été vérifié (simulation) : rien n'a été enregistré",
    ImportStatus.REJECTED.value: "a été refusé : rien n'a été enregistré",
    ImportStatus.FAILED.value: "n'a pas pu être importé : rien n'a été enregistré",
    ImportStatus.DUPLICATE.value: "avait déjà été importé : rien n'a changé",
}


def _where(f: Finding) -> str:
    parts = []
    if f.sheet:
        parts.append(f"feuille « {f.sheet} »")
    if f.row is not None:
        parts.append(f"ligne {f.row}")
    if f.column:
        parts.append(f"colonne {f.column}")
    return (", ".join(parts) + " : ") if parts else ""


def import_summary(session: Session, record: ImportFile) -> Content:
    """The French summary of an import: its outcome and its first findings."""
    findings = session.exec(
        select(Finding)
        .where(Finding.import_id == record.id)
        .order_by(col(Finding.severity), col(Finding.id))  # errors before warnings
    ).all()
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    counts = record.counts or {}
    errors = int(counts.get("errors", errors))
    warnings = int(counts.get("warnings", warnings))
    outcome = _STATUS_TEXT.get(record.status, f"est à l'état « {record.status} »")
    paragraphs: list[str | Sequence[str]] = [
        "Bonjour,",
        f"Le fichier « {record.filename} » reçu le "
        f"{french_date(record.received_at.date())} (import n° {record.id}) {outcome}.",
        f"{_plural(errors, 'erreur')} et {_plural(warnings, 'avertissement')}.",
    ]
    if findings:
        shown = findings[:FINDINGS_IN_SUMMARY]
        paragraphs.append([f"{_where(f)}{f.message}" for f in shown])
        if len(findings) > len(shown):
            paragraphs.append(
                f"Et {len(findings) - len(shown)} autres constats, à lire dans votre espace PILOT."
            )
    if record.status in (ImportStatus.REJECTED.value, ImportStatus.FAILED.value):
        paragraphs.append("Corrigez le fichier puis renvoyez-le.")
    title = "refusé" if record.status == ImportStatus.REJECTED.value else "reçu"
    return Content(f"PILOT : fichier « {record.filename} » {title}", paragraphs)


def _plural(n: int, word: str) -> str:
    return (
        f"{n} {word}{'s' if n > 1 else ''}"
        if n
        else f"aucun{'e' if word == 'erreur' else ''} {word}"
    )


def notify_import(session: Session, import_id: int) -> int:
    """Queue the findings summary of import ``import_id`` to its ministry's contacts (to
    DINUM's alert subscribers when the ministry is unknown), once per import and address.
    Call it once the import is finished (any status, inbox files included; a dry run is
    answered on the spot and sends nothing). Returns the messages queued."""
    from pilot.alerts.service import alert_recipients
    from pilot.campaigns.service import contacts_of

    record = session.get(ImportFile, import_id)
    if record is None or record.dry_run or record.status == ImportStatus.RECEIVED.value:
        return 0
    if record.ministry_id is not None:
        recipients: Iterable[str] = contacts_of(session, record.ministry_id)
    else:
        recipients = alert_recipients(session)
    content = import_summary(session, record)
    return sum(
        enqueue_email(session, key=f"import:{import_id}:{to}", to=to, content=content)
        for to in recipients
    )


def subscribers(settings: Settings) -> list[str]:
    """The addresses of ``PILOT_ALERT_EMAILS`` (with the ``alert_subscriber`` table, the
    recipients of alerts: ``pilot.alerts.service.alert_recipients``)."""
    return split_list(settings.alert_emails)


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def ministry_name(session: Session, ministry_id: int) -> str:
    ministry = session.get(Ministry, ministry_id)
    return ministry.name if ministry else str(ministry_id)
