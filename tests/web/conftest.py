"""The web spaces served for real: ``pilot serve`` in a subprocess, logging in through a
real OpenID Connect provider on loopback (tests/web/oidc_provider.mjs, the ``oidc-provider``
package pinned in package-lock.json), on a database of their own (SQLite, and PostgreSQL
when ``PILOT_TEST_DATABASE_URL`` is set). One server per test module."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from sqlalchemy import Engine

from pilot import migrations
from pilot.auth import accounts
from pilot.auth.models import Role
from pilot.db import make_engine, scratch_database, session_scope
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.projects.models import Milestone, Risk
from tests.conftest import BACKENDS, PG_URL, ROOT

PROVIDER_SCRIPT = ROOT / "tests" / "web" / "oidc_provider.mjs"
PROVIDER_PACKAGE = ROOT / "node_modules" / "oidc-provider"
CLIENT_ID = "pilot-tests"
CLIENT_SECRET = "pilot-tests-secret-of-at-least-32-characters"
# The provider's users: login typed in its form → the claims it gives.
USERS = {
    "agent-mi": {"email": "agent@interieur.gouv.fr", "given_name": "Marie", "usual_name": "Dupont"},
    "agent-mj": {"email": "Agent@Justice.gouv.fr", "given_name": "Jean", "usual_name": "Martin"},
    "agent-mi-2": {"email": "second@interieur.gouv.fr", "given_name": "Lou", "usual_name": "Roux"},
    "pilotage": {"email": "pilotage@numerique.gouv.fr", "given_name": "Aya", "usual_name": "Ben"},
    "admin": {"email": "admin@numerique.gouv.fr", "given_name": "Paul", "usual_name": "Leroy"},
    "inconnu": {"email": "inconnu@exemple.gouv.fr", "given_name": "Zoé", "usual_name": "Petit"},
}
MI_PROJECT = "Réseau Radio du Futur"
MJ_PROJECT = "Portalis"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not PROVIDER_PACKAGE.exists(),
    reason="node or node_modules/oidc-provider is missing (make install)",
)


@dataclass
class Web:
    url: str
    issuer: str
    directory: Path
    engine: Engine
    mi_project: str  # pilot ids
    mj_project: str

    def at(self, path: str) -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(engine: Engine) -> tuple[str, str]:
    """Two ministries with one project each (baseline, report, milestones, risks), and the
    accounts of USERS but "inconnu"."""
    with session_scope(engine, write=True) as s:
        mi = ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        mj = ministries.create_ministry(s, "MJ", "Ministère de la Justice")
        made = []
        for ministry, name, cost in ((mi, MI_PROJECT, 140_000_000), (mj, MJ_PROJECT, 30_000_000)):
            p = projects.create_project(
                s,
                ministry=ministry,
                name=name,
                on=date(2020, 1, 1),
                actor="test",
                phase="Conception / Réalisation",
                start_date=date(2020, 1, 1),
            )
            projects.set_initial_baseline(
                s,
                p,
                approved_on=date(2020, 1, 1),
                cost_eur=100_000_000 if ministry is mi else 25_000_000,
                start_date=date(2020, 1, 1),
                end_date=date(2026, 12, 31),
                actor="test",
            )
            projects.record_report(
                s,
                p,
                reported_on=date(2025, 6, 1),
                actor="test",
                phase="Conception / Réalisation",
                current_cost_eur=cost,
                forecast_end=date(2027, 6, 30),
                weather="soleil",
            )
            assert p.id is not None
            s.add(
                Milestone(project_id=p.id, name="Mise en service", baseline_date=date(2024, 6, 1))
            )
            s.add(
                Risk(
                    project_id=p.id,
                    title="Retard du titulaire",
                    probability=3,
                    impact=4,
                    mitigation="Pénalités prévues au marché",
                )
            )
            made.append(p.pilot_id)
        for login, claims in USERS.items():
            if login == "inconnu":
                continue
            role = (
                Role.MINISTRY
                if login.startswith("agent")
                else Role(login.replace("pilotage", "dinum"))
            )
            accounts.create_account(
                s,
                email=claims["email"],
                role=role,
                ministry=(mj if login == "agent-mj" else mi) if role == Role.MINISTRY else None,
                actor="test",
            )
    return made[0], made[1]


def _start_provider(directory: Path, port: int, pilot_url: str) -> subprocess.Popen[str]:
    config = directory / "provider.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"{pilot_url}/connexion/retour"],
                "post_logout_redirect_uris": [f"{pilot_url}/deconnexion"],
                "users": USERS,
            }
        )
    )
    process = subprocess.Popen(
        ["node", str(PROVIDER_SCRIPT), str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "ready <issuer>", or "" when it died
    assert line.startswith("ready "), "the OpenID Connect provider did not start"
    return process


def _start_pilot(
    directory: Path, port: int, database_url: str, issuer: str
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOT_")}
    env.update(
        {
            "PILOT_VAR_DIR": str(directory / "var"),
            "PILOT_DATABASE_URL": database_url,
            "PILOT_SCHEDULER_IN_SERVE": "false",
            "PILOT_OIDC_ISSUER": issuer,
            "PILOT_OIDC_CLIENT_ID": CLIENT_ID,
            "PILOT_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PILOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
    )
    log = (directory / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from pilot.cli import app; app()", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, (directory / "server.log").read_text()
        assert time.monotonic() < deadline, "pilot serve did not start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.25)


def _stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module", params=BACKENDS)
def web(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    directory = tmp_path_factory.mktemp("web")
    with ExitStack() as stack:
        if request.param == "postgresql":
            url = stack.enter_context(scratch_database(PG_URL, "pilot_web"))
        else:
            url = f"sqlite:///{directory / 'pilot.db'}"
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrations.upgrade(engine, "head")
        mi_project, mj_project = seed(engine)
        pilot_port, provider_port = _free_port(), _free_port()
        pilot_url = f"http://127.0.0.1:{pilot_port}"
        provider = _start_provider(directory, provider_port, pilot_url)
        stack.callback(_stop, provider)
        issuer = f"http://127.0.0.1:{provider_port}"
        stack.callback(_stop, _start_pilot(directory, pilot_port, url, issuer))
        yield Web(pilot_url, issuer, directory, engine, mi_project, mj_project)


_FORM = re.compile(r'<form[^>]*action="([^"]+)"', re.S)


def login(web: Web, user: str) -> tuple[httpx.Client, httpx.Response]:
    """An HTTP client logged in as ``user`` through the provider's own forms (its login
    form, then its consent form), as a browser would, and the page it lands on."""
    client = httpx.Client(follow_redirects=True, timeout=60)
    page = client.get(web.at("/connexion"))
    assert page.url.port != int(web.url.rsplit(":", 1)[1]), page.text[:500]
    form = _FORM.search(page.text)
    assert form, page.text[:500]
    page = client.post(
        urljoin(str(page.url), form.group(1)),
        data={"prompt": "login", "login": user, "password": "mot de passe"},
    )
    if 'value="consent"' in page.text:
        form = _FORM.search(page.text)
        assert form
        page = client.post(urljoin(str(page.url), form.group(1)), data={"prompt": "consent"})
    return client, page


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: httpx.Client, url: str) -> str:
    """The CSRF token of the forms on the page at ``url``."""
    found = _CSRF.search(client.get(url).text)
    assert found, url
    return found.group(1)
