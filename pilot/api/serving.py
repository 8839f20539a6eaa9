"""ASGI middleware for what the HTTP server does not decide: how long a request's body may
take to arrive, and which address is the client's.

The server itself (``pilot serve``, Granian) closes connections whose headers are too slow
(``header_timeout_seconds``) and bounds the connections served at once
(``max_connections``); see ``pilot/cli``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Callable, Iterable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("pilot.serving")

TOO_SLOW = (
    "Requête trop lente : son contenu n'est pas arrivé en entier dans les {} secondes "
    "permises. Vérifiez votre connexion et renvoyez-la."
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _BodyTooSlow(Exception):
    """The body's deadline passed while the application waited for more of it."""


class BodyTimeout:
    """A request's whole body must arrive within ``seconds`` of the request reaching the
    application (its headers are complete by then); otherwise 408 and the connection is
    closed. Waiting for the body afterwards (a disconnect) is not limited."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_done = False
        started = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _BodyTooSlow from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, watched_send)
        except _BodyTooSlow:
            client = scope.get("client")
            log.warning(
                "request body too slow, cut after %s s: client=%s path=%s",
                self.seconds,
                client[0] if client else "inconnu",
                scope.get("path"),
            )
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        payload = json.dumps(
            {
                "errors": [
                    {
                        "message": TOO_SLOW.format(f"{self.seconds:g}"),
                        "extensions": {"code": "REQUEST_TIMEOUT"},
                    }
                ]
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 408,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class ForwardedClient:
    """When the peer is one of the ``trusted`` proxies, the client address (ASGI
    ``scope["client"]``) becomes the one its ``Forwarded`` (RFC 7239) or, without it,
    ``X-Forwarded-For`` header names: read from the right, the first address that is not a
    trusted proxy (the left part is whatever the client sent, so it is never believed
    past that). From any other peer these headers are ignored."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self._trusts(client[0]):
            forwarded = forwarded_client(scope.get("headers") or [], self._trusts)
            if forwarded is not None:
                scope = {**scope, "client": (forwarded, 0)}
        await self.app(scope, receive, send)

    def _trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)


def forwarded_client(
    headers: Iterable[tuple[bytes, bytes]], trusts: Callable[[str], bool]
) -> str | None:
    """The client address named by the forwarding headers, or None when they name none
    (or something that is not an address where one is expected)."""
    forwarded: list[str] = []
    x_forwarded_for: list[str] = []
    for name, value in headers:
        if name.lower() == b"forwarded":
            forwarded += _forwarded_for(value.decode("latin-1"))
        elif name.lower() == b"x-forwarded-for":
            x_forwarded_for += [part.strip() for part in value.decode("latin-1").split(",")]
    chain = forwarded or x_forwarded_for
    for hop in reversed(chain):
        address = _address(hop)
        if address is None:
            return None
        if not trusts(address):
            return address
    return _address(chain[0]) if chain else None


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` value of each element of a ``Forwarded`` header, in order."""
    hops = []
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, node = pair.strip().partition("=")
            if key.strip().lower() == "for":
                hops.append(node.strip().strip('"'))
    return hops


def _address(node: str) -> str | None:
    """An IP address from a forwarding node (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``,
    ``::1``); None for anything else (``unknown``, obfuscated names)."""
    if node.startswith("["):
        node = node[1:].partition("]")[0]
    elif node.count(":") == 1:
        node = node.partition(":")[0]
    try:
        return str(ipaddress.ip_address(node))
    except ValueError:
        return None


__all__ = ["BodyTimeout", "ForwardedClient", "forwarded_client"]
