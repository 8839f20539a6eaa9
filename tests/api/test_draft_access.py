"""The draft panorama is DINUM's: served at /panorama/brouillon/ to a DINUM token only,
never from the public site's folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from importers.panorama import import_panorama_file
from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.config import Settings
from pilot.ministries import service as ministries
from scorecards.publish import publish_draft


def test_only_dinum_reads_the_draft(
    session: Session, panorama_dir: Path, settings: Settings, engine: object
) -> None:
    import_panorama_file(session, panorama_dir / "panorama-2017-06.csv")
    mi = ministries.get_by_code(session, "MI")
    tokens = {
        "dinum": auth.create_token(session, actor="test", name="dinum", role=Role.DINUM)[1],
        "admin": auth.create_token(session, actor="test", name="admin", role=Role.ADMIN)[1],
        "ministry": auth.create_token(
            session, actor="test", name="mi", role=Role.MINISTRY, ministry=mi
        )[1],
    }
    session.commit()
    publish_draft(session, settings.site_path, today=date(2026, 11, 3))
    assert (settings.draft_path / "index.html").exists()
    assert not (settings.site_path / "brouillon").exists()
    client = TestClient(create_app())
    for path in ("/panorama/brouillon/", "/panorama/brouillon/donnees/panorama.csv"):
        anonymous = client.get(path)
        assert anonymous.status_code == 401 and "réservé à la DINUM" in anonymous.json()["detail"]
        for role in ("admin", "ministry"):
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            assert client.get(path, headers=headers).status_code == 403
        dinum = client.get(path, headers={"Authorization": f"Bearer {tokens['dinum']}"})
        assert dinum.status_code == 200 and dinum.headers["cache-control"] == "private, no-store"
    home = client.get(
        "/panorama/brouillon/index.html", headers={"Authorization": f"Bearer {tokens['dinum']}"}
    )
    assert "Brouillon" in home.text
    escape = client.get(
        "/panorama/brouillon/..%2F..%2Fpilot.db",
        headers={"Authorization": f"Bearer {tokens['dinum']}"},
    )
    assert escape.status_code == 404
