"""Access on the HTTP (non-GraphQL) routes: role × own/other ministry, expired and
revoked tokens, hostile file names, oversized bodies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.config import Settings, get_settings
from pilot.db import session_scope
from pilot.imports.models import ImportFile
from pilot.ministries import service as ministries
from pilot.timeutil import utcnow
from tests.api.multipart import post_graphql_upload
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes


@pytest.fixture
def tokens(engine: Engine, seed: Seed) -> dict[str, str]:
    made = {}
    with session_scope(engine, write=True) as s:
        mi = ministries.get_by_code(s, "MI")
        for name, role, ministry in [
            ("ministry", Role.MINISTRY, mi),
            ("dinum", Role.DINUM, None),
            ("admin", Role.ADMIN, None),
        ]:
            made[name] = auth.create_token(
                s, actor="test", name=name, role=role, ministry=ministry
            )[1]
        made["expired"] = auth.create_token(
            s, actor="test", name="old", role=Role.DINUM, expires_at=utcnow() - timedelta(days=1)
        )[1]
        revoked, made["revoked"] = auth.create_token(s, actor="test", name="gone", role=Role.DINUM)
        assert revoked.id is not None
        auth.revoke_token(s, revoked.id, actor="test")
    return made


def _get(client: TestClient, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers).status_code


# role → (own ministry's template, another ministry's template)
TEMPLATE_MATRIX = {
    None: (401, 401),
    "ministry": (200, 403),
    "dinum": (200, 200),
    "expired": (401, 401),
    "revoked": (401, 401),
}


@pytest.mark.parametrize("role", list(TEMPLATE_MATRIX))
def test_template_download_by_role_and_ministry(
    engine: Engine, tokens: dict[str, str], role: str | None
) -> None:
    client = TestClient(create_app())
    token = tokens[role] if role else None
    own = "/workbook/template" if role == "ministry" else "/workbook/template?ministry=MI"
    assert (_get(client, own, token), _get(client, "/workbook/template?ministry=MJ", token)) == (
        TEMPLATE_MATRIX[role]
    )


@pytest.mark.parametrize("role", [None, "expired", "revoked"])
def test_upload_and_report_refuse_missing_expired_and_revoked_tokens(
    engine: Engine, tokens: dict[str, str], role: str | None
) -> None:
    client = TestClient(create_app())
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
    upload = client.post("/workbook/upload", headers=headers, files={"file": ("a.xlsx", b"x")})
    assert upload.status_code == 401
    assert client.get("/workbook/imports/1/report", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "name", ["../../../../etc/passwd.xlsx", "/etc/cron.d/pilot.xlsx", "a\x00b.xlsx", "é" * 300]
)
def test_hostile_file_names_never_escape_the_archive(
    engine: Engine, seed: Seed, settings: Settings, tokens: dict[str, str], name: str
) -> None:
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": 125_000_000})
    client = TestClient(create_app())
    response = client.post(
        "/workbook/upload",
        headers={"Authorization": f"Bearer {tokens['ministry']}"},
        files={"file": (name, to_bytes(book))},
    )
    assert response.status_code in (200, 400, 422), response.text
    uploads = settings.uploads_path.resolve()
    with session_scope(engine) as session:
        for imported in session.exec(select(ImportFile)):
            stored = (settings.uploads_path / imported.stored_path).resolve()
            assert stored.is_relative_to(uploads) or stored.is_relative_to(
                settings.var_dir.resolve()
            )
    written = [p for p in settings.var_dir.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(settings.var_dir.resolve()) for p in written)


def test_oversized_upload_is_refused_before_it_is_read(
    engine: Engine, tokens: dict[str, str], settings: Settings
) -> None:
    client = TestClient(create_app())
    body = b"0" * (settings.max_request_bytes + 1)
    response = client.post(
        "/workbook/upload",
        headers={"Authorization": f"Bearer {tokens['ministry']}"},
        files={"file": ("gros.xlsx", body)},
    )
    assert response.status_code == 413
    with session_scope(engine) as session:
        assert session.exec(select(ImportFile)).first() is None  # nothing recorded


def test_upload_on_a_full_disk_is_refused_with_507_over_http_and_graphql(
    engine: Engine,
    seed: Seed,
    tokens: dict[str, str],
    tiny_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tiny_disk / "plein").write_bytes(b"\0" * 60_000)  # a real disk with 4 KiB left
    monkeypatch.setenv("PILOT_UPLOADS_DIR", str(tiny_disk))
    get_settings.cache_clear()
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": 125_000_000})
    data = to_bytes(book)
    assert len(data) > 4096
    client = TestClient(create_app())
    headers = {"Authorization": f"Bearer {tokens['ministry']}"}

    response = client.post("/workbook/upload", headers=headers, files={"file": ("mi.xlsx", data)})
    assert response.status_code == 507, response.text
    assert "disque est plein" in response.json()["detail"]

    query = "mutation($file: Upload!) { uploadWorkbook(file: $file) { importId } }"
    response = post_graphql_upload(client, query, data, headers=headers, filename="mi.xlsx")
    assert response.status_code == 507, response.text
    assert "disque est plein" in response.json()["detail"]
    with session_scope(engine) as session:
        assert session.exec(select(ImportFile)).first() is None  # nothing recorded
    files = [p.name for p in tiny_disk.rglob("*") if p.is_file()]
    assert files == ["plein"]  # no partial file left
