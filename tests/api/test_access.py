"""Access hardening: expiry, revocation, failed authentications limited and logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from pilot.api.app import create_app
from pilot.api.ratelimit import FailureLimiter
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.timeutil import utcnow

QUERY = {"query": "{ ministries { code } }"}


def _token(engine: Engine, **kwargs: object) -> tuple[int, str]:
    with Session(engine) as session:
        token, plaintext = auth.create_token(
            session,
            actor="test",
            name="t",
            role=Role.DINUM,
            **kwargs,  # type: ignore[arg-type]
        )
        session.commit()
        assert token.id is not None
        return token.id, plaintext


def _ask(client: TestClient, plaintext: str) -> int:
    headers = {"Authorization": f"Bearer {plaintext}"}
    return client.post("/graphql", json=QUERY, headers=headers).status_code


@pytest.fixture
def client(engine: Engine) -> TestClient:
    return TestClient(create_app())


def test_expired_token_is_refused(engine: Engine, client: TestClient) -> None:
    _, expired = _token(engine, expires_at=utcnow() - timedelta(seconds=1))
    _, valid = _token(engine, expires_at=utcnow() + timedelta(days=1))
    assert _ask(client, expired) == 401
    assert _ask(client, valid) == 200


def test_revoked_token_is_refused_at_once(engine: Engine, client: TestClient) -> None:
    token_id, plaintext = _token(engine)
    assert _ask(client, plaintext) == 200
    with Session(engine) as session:
        auth.revoke_token(session, token_id, actor="test")
        session.commit()
    assert _ask(client, plaintext) == 401


def test_tokens_are_stored_hashed(engine: Engine) -> None:
    from pilot.auth.models import Token

    token_id, plaintext = _token(engine)
    with Session(engine) as session:
        token = session.get(Token, token_id)
        assert token is not None
        assert plaintext not in (token.token_hash, token.prefix)
        assert token.token_hash == auth.hash_token(plaintext)


def test_failed_authentications_are_rate_limited_per_client(
    engine: Engine, client: TestClient
) -> None:
    _, valid = _token(engine)
    for _ in range(10):
        assert _ask(client, "pilot_wrong-guess") == 401
    response = client.post("/graphql", json=QUERY, headers={"Authorization": "Bearer pilot_x"})
    assert response.status_code == 429
    assert "Réessayez dans" in response.json()["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert _ask(client, valid) == 429  # even a right guess is not checked while blocked
    assert client.post("/graphql", json=QUERY).status_code == 200  # public reads go on
    other = TestClient(create_app(), client=("192.0.2.7", 50000))
    assert _ask(other, valid) == 200


def test_a_token_checked_a_moment_ago_is_still_refused_once_its_client_is_blocked(
    engine: Engine, client: TestClient
) -> None:
    # A token authenticated less than a second ago skips the limiter's bookkeeping (it is
    # no guess), never its verdict: a blocked client is refused with it too.
    _, valid = _token(engine)
    assert _ask(client, valid) == 200
    assert _ask(client, valid) == 200  # vouched for by the look-up of the line above
    for _ in range(10):
        assert _ask(client, "pilot_wrong-guess") in (401, 429)
    assert _ask(client, valid) == 429


def test_a_vouched_token_refused_after_its_revocation_counts_as_a_failure(
    engine: Engine, apply_limits: Callable[[dict[str, int]], object]
) -> None:
    apply_limits({"auth_max_failures": 2})
    client = TestClient(create_app())
    token_id, valid = _token(engine)
    assert _ask(client, valid) == 200
    with Session(engine) as session:
        auth.revoke_token(session, token_id, actor="test")
        session.commit()
    assert _ask(client, valid) == 401  # the revocation bumped the data version: at once
    assert _ask(client, "pilot_wrong-guess") == 401
    assert _ask(client, "pilot_another-guess") == 429  # two failures: the first one counted


def test_the_window_slides(engine: Engine) -> None:
    now = [1000.0]
    limiter = FailureLimiter(3, 60, clock=lambda: now[0])
    for _ in range(3):
        limiter.record_failure("a")
    assert limiter.retry_after("a") == 60
    now[0] += 30
    assert limiter.retry_after("a") == 30
    now[0] += 31
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("b") is None


def test_failures_are_logged_without_the_token(
    engine: Engine, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "pilot_" + "S3cr3t" * 7
    with caplog.at_level(logging.WARNING, logger="pilot.auth"):
        assert _ask(client, secret) == 401
    assert "authentication failed" in caplog.text
    assert secret[:12] in caplog.text
    assert secret not in caplog.text
    assert secret[12:] not in caplog.text
