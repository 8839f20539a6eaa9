"""The outbox delivers French e-mails (text and HTML) to a real SMTP server and signed
webhooks to a real HTTP receiver, and loses nothing when either is down."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, timedelta

from sqlalchemy import Engine
from sqlmodel import select

from pilot.config import Settings
from pilot.db import session_scope
from pilot.mail import service as mail
from pilot.mail.models import OutboxMessage
from pilot.timeutil import utcnow
from tests.campaigns.conftest import SmtpServer, WebhookReceiver, html_of, text_of

CONTENT = mail.Content("PILOT : essai", ["Bonjour,", ["premier point", "<second> & suite"]])


def test_french_dates_name_the_month_and_the_first_day() -> None:
    assert mail.french_date(date(2027, 1, 15)) == "15 janvier 2027"
    assert mail.french_date(date(2027, 8, 1)) == "1er août 2027"
    assert mail.french_date(date(2026, 12, 31)) == "31 décembre 2026"


def test_email_arrives_as_french_text_and_html(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    with session_scope(engine, write=True) as s:
        assert mail.enqueue_email(s, key="k1", to="agent@interieur.gouv.fr", content=CONTENT)
    result = mail.deliver(engine)
    assert (result.sent, result.failed, result.waiting) == (1, 0, 0)
    [message] = smtp_server.messages
    assert message["Subject"] == "PILOT : essai"
    assert message["From"] == "pilot@numerique.gouv.fr"
    assert "- <second> & suite" in text_of(message)
    assert "<li>&lt;second&gt; &amp; suite</li>" in html_of(message)
    assert 'lang="fr"' in html_of(message)


def test_the_same_key_is_queued_once(engine: Engine, mail_settings: Settings) -> None:
    with session_scope(engine, write=True) as s:
        assert mail.enqueue_email(s, key="same", to="a@b.gouv.fr", content=CONTENT)
        assert not mail.enqueue_email(s, key="same", to="a@b.gouv.fr", content=CONTENT)
    with session_scope(engine) as s:
        assert len(s.exec(select(OutboxMessage)).all()) == 1


def test_a_failing_smtp_server_loses_nothing(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    with session_scope(engine, write=True) as s:
        mail.enqueue_email(s, key="k", to="agent@justice.gouv.fr", content=CONTENT)
    now = utcnow()
    first = mail.deliver(engine, now=now)
    assert (first.sent, first.failed, first.waiting) == (0, 1, 1)
    with session_scope(engine) as s:
        row = s.exec(select(OutboxMessage)).one()
    assert row.attempts == 1 and row.sent_at is None and row.last_error
    retry_at = row.next_attempt_at.replace(tzinfo=UTC)  # SQLite gives it back naive (UTC)
    assert retry_at >= now + timedelta(seconds=mail_settings.outbox_backoff_seconds)
    smtp_server.start()
    early = mail.deliver(engine, now=now + timedelta(seconds=1))  # backoff not over yet
    assert (early.sent, early.failed) == (0, 0) and smtp_server.messages == []
    later = mail.deliver(engine, now=now + timedelta(minutes=2))
    assert (later.sent, later.failed, later.waiting) == (1, 0, 0)
    assert [m["To"] for m in smtp_server.messages] == ["agent@justice.gouv.fr"]
    with session_scope(engine) as s:
        row = s.exec(select(OutboxMessage)).one()
    assert row.attempts == 2 and row.sent_at is not None and row.last_error is None


def test_backoff_doubles_up_to_six_hours(mail_settings: Settings) -> None:
    waits = [mail.backoff(n, mail_settings).total_seconds() for n in (1, 2, 3, 20)]
    assert waits == [60, 120, 240, 6 * 3600]


def test_webhooks_are_signed_and_retried_until_delivered(
    engine: Engine, mail_settings: Settings, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.fail_next = 2
    with session_scope(engine, write=True) as s:
        mail.enqueue_webhook(
            s, key="w", url=webhook_receiver.url, payload={"event": "essai", "n": 1}
        )
    now = utcnow()
    for minutes in (0, 2, 10):
        mail.deliver(engine, now=now + timedelta(minutes=minutes))
    assert webhook_receiver.refused == 2
    [received] = webhook_receiver.received
    assert json.loads(received.body) == {"event": "essai", "n": 1}
    expected = hmac.new(b"secret-de-test", received.body, hashlib.sha256).hexdigest()
    assert received.headers["X-Pilot-Signature"] == f"sha256={expected}"
    with session_scope(engine) as s:
        row = s.exec(select(OutboxMessage)).one()
    assert row.attempts == 3 and row.sent_at is not None
    mail.deliver(engine, now=now + timedelta(hours=1))
    assert len(webhook_receiver.received) == 1  # delivered once


def test_emails_wait_while_no_smtp_host_is_configured(engine: Engine, settings: Settings) -> None:
    with session_scope(engine, write=True) as s:
        mail.enqueue_email(s, key="k", to="a@b.gouv.fr", content=CONTENT)
    result = mail.deliver(engine)
    assert (result.sent, result.failed, result.waiting) == (0, 0, 1)
