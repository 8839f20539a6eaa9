"""A real SMTP server (aiosmtpd) and a real HTTP receiver of webhooks, on loopback."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pilot import config

# the workbook seed (ministries MI and MJ, a project with its data) and its helpers
from tests.importers.workbook.conftest import seed, set_cells, template_for, to_bytes

__all__ = ["seed", "set_cells", "template_for", "to_bytes"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; ``stop`` and ``start`` it to play an outage."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.handler = _Collect()
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """An HTTP server answering 500 to the first ``fail_next`` requests, then 204."""

    url: str = ""
    fail_next: int = 0
    received: list[Received] = field(default_factory=list)
    refused: int = 0


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if receiver.fail_next > 0:
                receiver.fail_next -= 1
                receiver.refused += 1
                self.send_response(500)
                self.end_headers()
                return
            receiver.received.append(Received(dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/pilot"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def mail_settings(
    settings: config.Settings,
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[config.Settings]:
    """Settings pointing at the loopback SMTP server and webhook receiver."""
    values = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_TIMEOUT_SECONDS": "5",
        "MAIL_FROM": "pilot@numerique.gouv.fr",
        "ALERT_EMAILS": "veille@numerique.gouv.fr",
        "WEBHOOKS": webhook_receiver.url,
        "WEBHOOK_SECRET": "secret-de-test",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "REMINDER_DAYS": "7,2",
        "LATE_REMINDER_EVERY_DAYS": "7",
    }
    for name, value in values.items():
        monkeypatch.setenv(f"PILOT_{name}", value)
    config.get_settings.cache_clear()
    yield config.get_settings()
    config.get_settings.cache_clear()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    content: str = part.get_content()
    return content
