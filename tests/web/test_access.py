"""Who reaches what through the web pages, logged in through a real OpenID Connect
provider: a ministry never sees nor changes another ministry's data through any page (a
matrix over every web route), every form refuses a request without the session's CSRF
token, an unknown e-mail is told politely to ask DINUM, a disabled account is out at once."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import httpx
import openpyxl
import pytest
from sqlmodel import select

from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.db import session_scope
from pilot.imports.models import ImportFile
from pilot.opinions import service as opinions
from pilot.opinions.models import Axis, Recommendation
from pilot.projects.models import Project
from pilot.web.routes import admin, dinum, ministry
from pilot.web.routes import login as login_routes
from tests.web.conftest import MI_PROJECT, MJ_PROJECT, USERS, Web, csrf_of, login, needs_node

pytestmark = [needs_node, pytest.mark.slow]

DAY = date(2026, 3, 2)
WEB_PREFIXES = ("/espace", "/pilotage", "/administration", "/connexion", "/deconnexion")


def _web_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the web pages, read from their routers."""
    found = []
    for module in (login_routes, ministry, dinum, admin):
        for route in module.router.routes:
            path = getattr(route, "path", "")
            for method in sorted(getattr(route, "methods", None) or ()):
                if method in ("GET", "POST") and path.startswith(WEB_PREFIXES):
                    found.append((method, path))
    return found


def _upload_own_workbook(client: httpx.Client, web: Web) -> int:
    """The ministry's own prefilled workbook, sent back through its space: a checked import."""
    workbook = client.get(web.at("/espace/classeur"))
    assert workbook.status_code == 200
    page = client.post(
        web.at("/espace/depot"),
        data={"csrf_token": csrf_of(client, web.at("/espace/"))},
        files={"fichier": ("classeur.xlsx", workbook.content)},
    )
    found = re.search(r"/espace/imports/(\d+)$", str(page.url))
    assert found, page.text[:1000]
    return int(found.group(1))


def _mj_opinion(web: Web) -> dict[str, str]:
    """MJ's project with a request for DINUM's opinion (a document in its file), the
    opinion given with one recommendation, and a second request still a draft: the ids."""
    dinum = Principal(role=Role.DINUM, ministry_id=None, name="pilotage@numerique.gouv.fr")
    with session_scope(web.engine, write=True) as s:
        project = s.exec(select(Project).where(Project.name == MJ_PROJECT)).one()
        request = opinions.open_request(s, dinum, project, subject="Réalisation", on=DAY)
        document = opinions.add_document(
            s, dinum, request, filename="dossier.pdf", data=b"%PDF-1.4 dossier"
        )
        opinions.receive_file(s, dinum, request, on=DAY)
        axes = [opinions.AxisInput(a.value, "satisfactory", "Bien.") for a in Axis]
        given = opinions.give_opinion(
            s,
            dinum,
            request,
            sense="favourable",
            on=DAY,
            axes=axes,
            recommendations=[opinions.RecommendationInput("Renforcer l'équipe", "DSI", DAY)],
        )
        [(recommendation, _, _)] = opinions.recommendations(s, dinum, opinion_id=given.id)
        return {
            "request_id": str(request.id),
            "document_id": str(document.id),
            "recommendation_id": str(recommendation.id),
        }


def test_a_ministry_never_sees_or_changes_another_ministrys_data_through_any_page(
    web: Web,
) -> None:
    mj_opinion = _mj_opinion(web)
    mj, _ = login(web, "agent-mj")
    assert mj.get(web.at(f"/espace/avis/saisines/{mj_opinion['request_id']}")).status_code == 200
    mj_workbook = mj.get(web.at("/espace/classeur")).content
    mj_import = _upload_own_workbook(mj, web)
    assert mj.get(web.at(f"/espace/projets/{web.mj_project}")).status_code == 200
    assert mj.get(web.at(f"/espace/imports/{mj_import}")).status_code == 200

    mi, landing = login(web, "agent-mi")
    assert landing.url.path == "/espace/" and MI_PROJECT in landing.text
    token = csrf_of(mi, web.at("/espace/"))
    values = {
        "pilot_id": web.mj_project,
        "import_id": str(mj_import),
        "account_id": "1",
        "token_id": "1",
        "number": "1",
        **mj_opinion,
    }
    own_pages = {"/espace/", "/espace/imports/", "/espace/classeur", "/espace/avis/"}
    login_pages = {"/connexion", "/connexion/retour", "/connexion/demo", "/deconnexion"}
    checked = []
    for method, template in _web_routes():
        if template in login_pages:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        if template == "/espace/depot":  # MJ's own workbook, sent by MI: refused, nothing changes
            response = mi.post(
                web.at(path),
                data={"csrf_token": token},
                files={"fichier": ("justice.xlsx", mj_workbook)},
            )
            checked.append((method, template))
            assert response.status_code == 200 and "Refusé" in response.text, response.text
            continue
        if method == "GET":
            response = mi.get(web.at(path), follow_redirects=False)
        else:
            response = mi.post(web.at(path), data={"csrf_token": token}, follow_redirects=False)
        checked.append((method, template))
        body = response.text if "html" in response.headers.get("content-type", "") else ""
        assert MJ_PROJECT not in body, (method, path)
        if template in own_pages and method == "GET":
            assert response.status_code == 200, (method, path)
        elif template.startswith("/espace"):
            assert response.status_code == 404, (method, path, response.status_code)
        else:  # DINUM's and the admin's pages
            assert response.status_code == 403, (method, path, response.status_code)
    assert len(checked) >= 15  # every page and form of the three spaces

    # MI cannot close MJ's recommendation, even with a valid status: nothing changes
    refused = mi.post(
        web.at(f"/espace/avis/recommandations/{mj_opinion['recommendation_id']}"),
        data={"csrf_token": token, "statut": "closed"},
    )
    assert refused.status_code == 404
    with session_scope(web.engine) as session:
        recommendation = session.get(Recommendation, int(mj_opinion["recommendation_id"]))
        assert recommendation is not None and recommendation.status == "open"

    history = mi.get(web.at("/espace/imports/")).text
    assert f"/espace/imports/{mj_import}" not in history
    workbook = openpyxl.load_workbook(io.BytesIO(mi.get(web.at("/espace/classeur")).content))
    names = {str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row}
    assert MI_PROJECT in names and MJ_PROJECT not in names
    with session_scope(web.engine) as session:  # nothing of MJ's changed
        record = session.get(ImportFile, mj_import)
        assert record is not None and record.status == "validated"
        portalis = session.exec(select(Project).where(Project.name == MJ_PROJECT)).one()
        assert portalis.confidential is False


def test_every_form_refuses_a_request_without_the_sessions_csrf_token(web: Web) -> None:
    admin, _ = login(web, "admin")
    posts = [path for method, path in _web_routes() if method == "POST"]
    assert len(posts) >= 8
    values = {
        "pilot_id": web.mj_project,
        "import_id": "1",
        "account_id": "1",
        "token_id": "1",
        "request_id": "1",
        "recommendation_id": "1",
        "document_id": "1",
    }
    for template in posts:
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        for data in ({}, {"csrf_token": "forged"}):
            response = admin.post(
                web.at(path),
                data={**data, "confidentiel": "oui", "motif": "x"},
                follow_redirects=False,
            )
            assert response.status_code == 403, (path, data, response.status_code)
            assert "Formulaire expiré" in response.text, path
    # the same form with the session's token goes through
    token = csrf_of(admin, web.at("/administration/"))
    created = admin.post(
        web.at("/administration/comptes"),
        data={"csrf_token": token, "email": "nouveau@numerique.gouv.fr", "role": "dinum"},
    )
    assert created.status_code == 200 and "nouveau@numerique.gouv.fr" in created.text
    with session_scope(web.engine) as session:
        portalis = session.exec(select(Project).where(Project.name == MJ_PROJECT)).one()
        assert portalis.confidential is False  # the refused forms changed nothing


def test_the_session_cookie_is_httponly_samesite_lax_and_lasts_a_fixed_time(web: Web) -> None:
    _, page = login(web, "pilotage")
    callback = next(r for r in page.history if r.url.path == "/connexion/retour")
    cookie = callback.headers.get("set-cookie", "")
    assert "pilot_session=" in cookie
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "max-age=28800" in flags
    assert "secure" not in flags  # plain http on loopback; Secure when PILOT_PUBLIC_URL is https


def test_an_unknown_email_is_asked_politely_to_contact_dinum(web: Web) -> None:
    client, page = login(web, "inconnu")
    assert page.status_code == 403
    assert "n'a pas encore accès à PILOT" in page.text
    assert USERS["inconnu"]["email"] in page.text and "DINUM" in page.text
    assert client.get(web.at("/espace/"), follow_redirects=False).status_code == 303


def test_a_forged_or_replayed_callback_is_refused(web: Web) -> None:
    client = httpx.Client(timeout=30)
    response = client.get(web.at("/connexion/retour?code=forged&state=forged"))
    assert response.status_code == 400
    assert "La connexion n'a pas abouti" in html.unescape(response.text)
    assert client.get(web.at("/pilotage/"), follow_redirects=False).status_code == 303


def test_a_disabled_account_is_out_at_its_next_request(web: Web) -> None:
    agent, _ = login(web, "agent-mi-2")
    assert agent.get(web.at("/espace/")).status_code == 200
    admin, _ = login(web, "admin")
    page = admin.get(web.at("/administration/")).text
    account_id = re.search(
        r'action="/administration/comptes/(\d+)/etat">\s*<input[^>]*>\s*<input[^>]*value="non"'
        r"[^<]*>\s*<button[^>]*>Désactiver<span[^>]*> second@interieur",
        page,
    )
    assert account_id, page
    token = csrf_of(admin, web.at("/administration/"))
    admin.post(
        web.at(f"/administration/comptes/{account_id.group(1)}/etat"),
        data={"csrf_token": token, "actif": "non"},
    )
    response = agent.get(web.at("/espace/"), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/?suivant=")


def test_a_token_created_and_revoked_on_the_admin_page_is_audited_under_the_admins_name(
    web: Web,
) -> None:
    from pilot.audit.models import AuditEvent
    from pilot.auth.models import Token

    admin_client, _ = login(web, "admin")
    token = csrf_of(admin_client, web.at("/administration/jetons"))
    created = admin_client.post(
        web.at("/administration/jetons"),
        data={"csrf_token": token, "nom": "Robot de la DNUM", "role": "dinum"},
    )
    assert created.status_code == 200 and "pilot_" in created.text
    with session_scope(web.engine) as session:
        made = session.exec(select(Token).where(Token.name == "Robot de la DNUM")).one()
    admin_client.post(
        web.at(f"/administration/jetons/{made.id}/revoquer"), data={"csrf_token": token}
    )
    with session_scope(web.engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "token", AuditEvent.entity_id == made.id)
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        ).all()
    assert [(e.action, e.actor) for e in events] == [
        ("create", USERS["admin"]["email"]),
        ("revoke", USERS["admin"]["email"]),
    ]
