"""What operations see of a running PILOT: request ids, logs, metrics, readiness.

- **Request id**: every request gets one, taken from its ``X-Request-Id`` header when the
  peer is a trusted proxy (``PILOT_TRUSTED_PROXIES``; 1 to 128 letters, digits, ``.``,
  ``_`` or ``-``), otherwise generated; it is returned in the response's
  ``X-Request-Id`` and carried by every log line written while the request is served.
- **Logs**: one access line per request (logger ``pilot.access``: method, path, status,
  duration, client, request id); with ``PILOT_LOG_JSON=true`` every line is a JSON object
  (JSON Lines on standard error), otherwise plain text.
- **Metrics** (Prometheus text format at ``/metrics``, answered only to the addresses of
  ``PILOT_METRICS_ALLOWED``, loopback by default; 404 for anyone else): GraphQL latency
  histogram and error responses, HTTP responses by status (counted in each worker and
  summed over them through ``prometheus_client``'s multiprocess mode when ``pilot serve``
  runs several), imports by status and publications (counted in the database at each
  scrape, so the same whichever worker answers).
- **Readiness** (``/readyz``): the database answers and its schema is at the migrations'
  head.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, inspect, select, text
from sqlmodel import col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pilot.api.serving import Network, forwarded_client
from pilot.editions.models import Edition
from pilot.imports.models import ImportFile
from pilot.migrations import head_revisions

REQUEST_ID: ContextVar[str] = ContextVar("pilot_request_id", default="-")
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's documented variable

access_log = logging.getLogger("pilot.access")

GRAPHQL_SECONDS = Histogram(
    "pilot_graphql_request_seconds",
    "Durée des requêtes GraphQL (secondes), jusqu'à la fin de la réponse.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
GRAPHQL_ERRORS = Counter(
    "pilot_graphql_error_responses",
    "Réponses GraphQL portant des erreurs (ou de statut HTTP 400 et plus).",
)
HTTP_RESPONSES = Counter(
    "pilot_http_responses", "Réponses HTTP, par classe de statut.", ["status_class"]
)
# A GraphQL error object in a response body: the key "errors" (a key: a quote inside a
# JSON string is escaped) opening a list whose first object starts with "message".
_GRAPHQL_ERROR = re.compile(rb'"errors":\s*\[\s*\{\s*"message"')
_TAIL = 64  # bytes of the previous chunk kept, so that a match split in two is found


def _trusts(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class RequestContext:
    """Gives each request its id, writes its access line and counts its metrics. Runs
    before ``ForwardedClient`` (it must see the real peer to trust an incoming id) and
    resolves the forwarded client address itself for the log line."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        client = peer[0] if peer else "inconnu"
        request_id = None
        if peer and _trusts(peer[0], self.trusted):
            headers = scope.get("headers") or []
            client = forwarded_client(headers, lambda a: _trusts(a, self.trusted)) or client
            given = next((v for k, v in headers if k.lower() == b"x-request-id"), b"")
            text = given.decode("latin-1")
            request_id = text if _VALID_ID.fullmatch(text) else None
        request_id = request_id or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        path = scope.get("path", "")
        graphql = path.rstrip("/") == "/graphql"
        started = time.perf_counter()
        status = 500
        errors = False
        tail = b""

        async def send_with_id(message: Message) -> None:
            nonlocal status, errors, tail
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            elif graphql and message["type"] == "http.response.body" and not errors:
                body = tail + message.get("body", b"")
                errors = _GRAPHQL_ERROR.search(body) is not None
                tail = body[-_TAIL:]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            HTTP_RESPONSES.labels(status_class=f"{status // 100}xx").inc()
            if graphql:
                GRAPHQL_SECONDS.observe(seconds)
                if errors or status >= 400:
                    GRAPHQL_ERRORS.inc()
            access_log.info(
                "%s %s %d %.1f ms client=%s",
                scope.get("method"),
                path,
                status,
                seconds * 1000,
                client,
                extra={
                    "method": scope.get("method"),
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "client": client,
                },
            )
            REQUEST_ID.reset(token)


# --- Logs ---------------------------------------------------------------------------------

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request
    id, and the fields a call passed in ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(json_lines: bool) -> None:
    """Send INFO and above to standard error, as JSON lines or plain text with the request
    id. Does nothing when the root logger already has a handler (a test's, an embedding
    program's): their configuration wins."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(logging.INFO)


# --- Metrics ------------------------------------------------------------------------------


class DatabaseCollector(Collector):
    """Imports by status and publications, counted in the database at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        from pilot.editions.service import PUBLISH_SOURCE

        imports = CounterMetricFamily(
            "pilot_imports", "Imports de classeurs reçus, par statut.", labels=["status"]
        )
        publications = CounterMetricFamily(
            "pilot_publications", "Éditions publiées par PILOT (pilot publish)."
        )
        with self.engine.connect() as conn:
            for status, count in conn.execute(
                select(col(ImportFile.status), func.count()).group_by(col(ImportFile.status))
            ):
                imports.add_metric([status], count)
            publications.add_metric(
                [],
                conn.execute(
                    select(func.count()).where(
                        col(Edition.status) == "published",
                        col(Edition.source) == PUBLISH_SOURCE,
                    )
                ).scalar_one(),
            )
        yield imports
        yield publications


def render_metrics(engine: Engine) -> bytes:
    """The metrics of every worker (multiprocess mode when ``pilot serve`` set it up) and
    the database's counts, in Prometheus' text format."""
    if os.environ.get(MULTIPROCESS_ENV):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
    else:
        workers = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector(engine))
    return generate_latest(workers) + generate_latest(database)


def metrics_allowed(client: str | None, networks: Sequence[Network]) -> bool:
    return client is not None and _trusts(client, networks)


# --- Readiness ----------------------------------------------------------------------------


def schema_at_head(engine: Engine) -> bool:
    """Whether the database's Alembic revision is the code's head (raises when the
    database cannot be reached)."""
    with engine.connect() as conn:  # Alembic's version table, read without Alembic's logs
        if not inspect(conn).has_table("alembic_version"):
            return False
        current = frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return current == head_revisions()


__all__ = [
    "REQUEST_ID",
    "JsonFormatter",
    "RequestContext",
    "configure_logging",
    "metrics_allowed",
    "render_metrics",
    "schema_at_head",
]
