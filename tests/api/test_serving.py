"""Serving safely: slow clients are cut (headers, body, idle keep-alive), connections are
bounded, forwarded headers are believed only from configured proxies, and ``/panorama/``
answers a French page before anything is published.

The server tests run the real ``pilot serve`` in a subprocess on a free loopback port, with
short timeouts set through its ``PILOT_*`` environment; every loop is bounded."""

from __future__ import annotations

import ipaddress
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pilot import migrations
from pilot.api.app import create_app
from pilot.api.serving import forwarded_client
from pilot.config import Settings
from pilot.db import make_engine, scratch_database
from tests.conftest import BACKENDS, PG_URL, ROOT

HEADER_TIMEOUT = 4.0  # seconds, for the served tests; long enough to ask /healthz meanwhile
BODY_TIMEOUT = 2.0
AUTH_MAX_FAILURES = 3
SLOW_CLIENTS = 600
GRACE = 10.0  # how much later than a timeout a test gives up waiting for its effect
BOGUS = {"Authorization": "Bearer pilot_not_a_real_token"}


@dataclass
class Served:
    port: int
    log: Path

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=GRACE)
        return sock

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(
    directory: Path, database_url: str, command: str = "serve", **settings: object
) -> Iterator[Served]:
    """``pilot serve`` (or ``command``: ``demo``) on a free loopback port until the test
    ends."""
    port = _free_port()
    env = {
        **os.environ,
        "PILOT_VAR_DIR": str(directory / "var"),
        "PILOT_DATABASE_URL": database_url,
        "PILOT_SCHEDULER_IN_SERVE": "false",
        "PILOT_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "PILOT_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "PILOT_AUTH_MAX_FAILURES": str(AUTH_MAX_FAILURES),
        **{f"PILOT_{name.upper()}": str(value) for name, value in settings.items()},
    }
    env.pop("PILOT_TRUSTED_PROXIES", None)
    log = directory / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from pilot.cli import app; app()",
                command,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(port, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"pilot serve stopped: {log.read_text()}"
            assert time.monotonic() < deadline, f"pilot serve did not start: {log.read_text()}"
            try:
                if httpx.get(served.url("/healthz"), timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: it and its worker
            process.wait(timeout=10)


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("served")
    if request.param == "postgresql":
        # a database of its own: the run's shared one has its tables made from the models
        with scratch_database(PG_URL, "pilot_serving") as url:
            yield from _migrated_and_served(directory, url)
    else:
        yield from _migrated_and_served(directory, f"sqlite:///{directory / 'pilot.db'}")


def _migrated_and_served(directory: Path, url: str) -> Iterator[Served]:
    engine = make_engine(url)
    migrations.upgrade(engine, "head")
    engine.dispose()
    yield from _serve(directory, url)


def _read_until_closed(sock: socket.socket, seconds: float) -> tuple[bytes, bool]:
    """What the server sends until it closes the connection (True) or ``seconds`` pass."""
    received = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def _closed_ones(sockets: list[socket.socket], seconds: float) -> int:
    """How many of ``sockets`` the server closes within ``seconds``."""
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        closed = 0
        deadline = time.monotonic() + seconds
        while closed < len(sockets) and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(min(left, 1.0)):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                try:
                    data = ready.recv(4096)
                except ConnectionResetError:
                    data = b""
                if not data:
                    closed += 1
                    selector.unregister(ready)
        return closed


def _still_open(sockets: list[socket.socket]) -> int:
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        return len(sockets) - len(selector.select(0))


@pytest.mark.slow
def test_slow_header_connections_do_not_starve_healthz_and_are_closed(server: Served) -> None:
    slow: list[socket.socket] = []
    try:
        for _ in range(SLOW_CLIENTS):
            sock = server.connect()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: pilot\r\nX-Slow: ")
            slow.append(sock)
        started = time.monotonic()
        answer = httpx.get(server.url("/healthz"), timeout=GRACE)
        took = time.monotonic() - started
        assert answer.status_code == 200
        assert answer.json()["status"] == "ok"
        # Answered while every slow client still held its connection: it did not wait for
        # them to be cut.
        assert _still_open(slow) == SLOW_CLIENTS, f"/healthz took {took:.3f} s"
        assert _closed_ones(slow, HEADER_TIMEOUT + GRACE) == SLOW_CLIENTS
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.slow
def test_headers_sent_a_line_at_a_time_are_cut_after_the_header_timeout(
    server: Served,
) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: pilot\r\n")
        started = time.monotonic()
        cut = False
        while time.monotonic() - started < HEADER_TIMEOUT + GRACE:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                cut = True
                break
            time.sleep(0.2)
        assert cut
        assert time.monotonic() - started >= HEADER_TIMEOUT - 0.5


@pytest.mark.slow
def _read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 answer with a Content-Length (TCP may deliver it in pieces)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return answer


def test_idle_kept_alive_connection_is_closed_after_the_header_timeout(server: Served) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: pilot\r\n\r\n"
    with server.connect() as sock:
        for _ in range(2):  # kept alive: the second request is served on the same connection
            sock.sendall(request)
            answer = _read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        rest, closed = _read_until_closed(sock, HEADER_TIMEOUT + GRACE)
        assert closed and rest == b""
        assert time.monotonic() - started >= HEADER_TIMEOUT - 0.5


@pytest.mark.slow
def test_body_sent_a_byte_at_a_time_is_refused_after_the_body_timeout(server: Served) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: pilot\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000\r\n\r\n"
        )
        started = time.monotonic()
        sock.settimeout(0.2)
        received = b""
        while time.monotonic() - started < BODY_TIMEOUT + GRACE:
            try:
                sock.sendall(b" ")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            received += chunk
        assert received.startswith(b"HTTP/1.1 408"), received[:200]
        assert "Requête trop lente" in received.decode()
        assert time.monotonic() - started >= BODY_TIMEOUT - 0.5
        assert b"connection: close" in received.lower()


@pytest.mark.slow
def test_rotating_x_forwarded_for_does_not_bypass_the_failed_auth_limit(server: Served) -> None:
    statuses = []
    with httpx.Client(base_url=server.url(""), timeout=GRACE) as client:
        for n in range(AUTH_MAX_FAILURES + 2):
            forged = {"X-Forwarded-For": f"203.0.113.{n + 1}", "Forwarded": f"for=198.51.100.{n}"}
            statuses.append(client.get("/workbook/template", headers=BOGUS | forged).status_code)
    assert statuses == [401] * AUTH_MAX_FAILURES + [429, 429]


@pytest.mark.slow
def test_connections_past_the_limit_wait_for_a_place(tmp_path: Path) -> None:
    # The HTTP server's own limit: one backend is enough.
    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine, "head")
    engine.dispose()
    limit = 3
    for served in _serve(tmp_path, url, max_connections=limit):
        slow = [served.connect() for _ in range(limit)]
        try:
            for sock in slow:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: pilot\r\n")
            with served.connect() as waiting:
                waiting.sendall(
                    b"GET /healthz HTTP/1.1\r\nHost: pilot\r\nConnection: close\r\n\r\n"
                )
                answer, _ = _read_until_closed(waiting, HEADER_TIMEOUT + GRACE)
                # Served only once the header timeout had closed the slow ones.
                assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
                assert _closed_ones(slow, 0.5) == limit
        finally:
            for sock in slow:
                sock.close()


# Forwarded headers, in process --------------------------------------------------------


def _failures(client: TestClient, forwarded: list[dict[str, str]]) -> list[int]:
    return [
        client.get("/workbook/template", headers=BOGUS | headers).status_code
        for headers in forwarded
    ]


def test_forwarded_headers_from_a_peer_not_configured_as_proxy_are_ignored(
    engine: Engine, apply_limits: Callable[[dict[str, int]], Settings]
) -> None:
    apply_limits({"auth_max_failures": 2})
    client = TestClient(create_app(), client=("127.0.0.1", 50000))
    rotating = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(1, 5)]
    assert _failures(client, rotating) == [401, 401, 429, 429]


def test_forwarded_address_is_the_client_when_the_peer_is_a_configured_proxy(
    engine: Engine,
    apply_limits: Callable[[dict[str, int]], Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PILOT_TRUSTED_PROXIES", "127.0.0.1")
    apply_limits({"auth_max_failures": 2})
    client = TestClient(create_app(), client=("127.0.0.1", 50000))
    # The client's own (forged) left part is never believed past the proxy's entry.
    same = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}
    other = {"Forwarded": 'for="[2001:db8::7]:4711"'}
    assert _failures(client, [same, same, same, other, other, other]) == [
        401,
        401,
        429,
        401,
        401,
        429,
    ]
    limited = {"X-Forwarded-For": "192.0.2.99, 203.0.113.7"}
    assert _failures(client, [limited, {"X-Forwarded-For": "203.0.113.8"}]) == [429, 401]


def test_forwarded_client_reads_from_the_right_past_trusted_proxies() -> None:
    trusted = Settings(trusted_proxies="10.0.0.0/8, ::1").trusted_proxy_networks

    def trusts(address: str) -> bool:
        return any(ipaddress.ip_address(address) in net for net in trusted)

    def client(*headers: tuple[str, str]) -> str | None:
        return forwarded_client([(k.encode(), v.encode()) for k, v in headers], trusts)

    assert client(("X-Forwarded-For", "1.1.1.1, 2.2.2.2, 10.0.0.5")) == "2.2.2.2"
    assert client(("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "10.1.1.1")) == "1.1.1.1"
    assert client(("X-Forwarded-For", "10.0.0.1, 10.0.0.2")) == "10.0.0.1"  # all proxies
    assert client(("Forwarded", 'for=1.1.1.1;proto=https, for="[2001:db8::1]:80"')) == (
        "2001:db8::1"
    )
    # Forwarded (the standard) wins over X-Forwarded-For when both are there.
    assert client(("X-Forwarded-For", "3.3.3.3"), ("Forwarded", "for=4.4.4.4:8080")) == "4.4.4.4"
    assert client(("X-Forwarded-For", "unknown")) is None
    assert client(("Forwarded", "for=_hidden, for=10.0.0.1")) is None
    assert client() is None


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")


# The panorama before publication ------------------------------------------------------


def test_panorama_before_any_publication_answers_a_french_page(settings: Settings) -> None:
    client = TestClient(create_app())
    for path in ("/panorama/", "/panorama/index.html", "/panorama/editions/1/x.png"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "Le panorama n'a pas encore été publié" in answer.text
        assert 'lang="fr"' in answer.text
        assert "dsfr.min.css" not in answer.text  # nothing to link to yet


def test_panorama_home_placeholder_leaves_the_draft_to_dinum(settings: Settings) -> None:
    site = settings.site_path
    (site / "dsfr").mkdir(parents=True)
    (site / "dsfr" / "dsfr.min.css").write_text("/* DSFR */")
    client = TestClient(create_app())
    home = client.get("/panorama/")
    assert home.status_code == 404
    assert "Le panorama n'a pas encore été publié" in home.text
    assert 'href="/panorama/dsfr/dsfr.min.css"' in home.text  # styled like the site
    # the draft is DINUM's (tests/api/test_draft_access.py), never the public placeholder
    assert client.get("/panorama/brouillon/").status_code == 401
    assert client.get("/panorama/absent.html").status_code == 404
    (site / "index.html").write_text("<p>Édition 1</p>")
    published = client.get("/panorama/")
    assert published.status_code == 200
    assert published.text == "<p>Édition 1</p>"


@pytest.mark.slow
def test_serve_with_its_embedded_scheduler_answers(tmp_path: Path) -> None:
    # The default of `make demo`: the scheduler runs beside the HTTP workers, and a worker
    # forked while a scheduler thread held a lock never answered.
    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine, "head")
    engine.dispose()
    for served in _serve(tmp_path, url, scheduler_in_serve="true"):
        assert httpx.get(served.url("/healthz"), timeout=5).status_code == 200


def test_make_demo_reads_an_uploaded_workbook_in_its_isolated_reader(tmp_path: Path) -> None:
    # `pilot demo` reads the two editions before it serves: the isolated reader's fork
    # server started then could not be used by the web workers forked later, and every
    # upload to `make demo` answered 500.
    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    env = {**os.environ, "PILOT_VAR_DIR": str(tmp_path / "var"), "PILOT_DATABASE_URL": url}
    cli = [sys.executable, "-c", "from pilot.cli import app; app()"]
    for served in _serve(tmp_path, url, command="demo"):
        token = subprocess.run(
            [*cli, "token", "create", "--name", "agent", "--role", "ministry", "--ministry", "MI"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        book = tmp_path / "mi.xlsx"
        subprocess.run(
            [*cli, "template", str(book), "--ministry", "MI"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        )
        answer = httpx.post(
            served.url("/workbook/upload"),
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("mi.xlsx", book.read_bytes())},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "applied"
