"""A request FastAPI cannot read is answered in French (422, FastAPI's shape kept)."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, File, Form, Query, UploadFile
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pilot.api import errors_fr
from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.db import session_scope
from pilot.ministries import service as ministries

ENGLISH = ("Field required", "Input should", "valid integer", "greater than")


def _small_app() -> FastAPI:
    app = FastAPI()

    @app.post("/send")
    def send(
        file: Annotated[UploadFile, File()],
        page: Annotated[int, Query(ge=1)] = 1,
        dry_run: Annotated[bool, Form()] = False,
    ) -> dict[str, int]:
        return {"page": page}

    errors_fr.install(app)
    return app


def test_missing_and_wrong_parameters_are_explained_in_french() -> None:
    client = TestClient(_small_app())
    response = client.post("/send?page=zéro", data={"dry_run": "peut-être"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    by_type = {d["type"]: d for d in detail}
    assert by_type["missing"] == {
        "loc": ["body", "file"],
        "msg": "« file » (dans le corps de la requête) : Ce paramètre est obligatoire.",
        "type": "missing",
    }
    assert by_type["int_parsing"]["msg"] == (
        "« page » (dans l'adresse) : Indiquez un nombre entier."
    )
    assert by_type["bool_parsing"]["loc"] == ["body", "dry_run"]
    assert not any(english in response.text for english in ENGLISH)
    low = client.post("/send?page=0", files={"file": ("a.xlsx", b"x")})
    assert low.status_code == 422
    assert low.json()["detail"][0]["msg"].endswith("Indiquez une valeur supérieure ou égale à 1.")


def test_unknown_error_types_get_a_french_fallback() -> None:
    assert errors_fr.french_message({"type": "something_new", "loc": ["query", "x"]}) == (
        "« x » (dans l'adresse) : Valeur non valide."
    )
    assert errors_fr.french_message({"type": "string_too_long", "ctx": {}}) == "Valeur non valide."


def test_the_upload_without_a_file_is_refused_in_french(engine: Engine) -> None:
    with session_scope(engine, write=True) as s:
        mi = ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        _, token = auth.create_token(s, actor="test", name="dnum", role=Role.MINISTRY, ministry=mi)
    app = create_app()
    errors_fr.install(app)
    client = TestClient(app)
    response = client.post(
        "/workbook/upload", headers={"Authorization": f"Bearer {token}"}, data={"x": "1"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["msg"].startswith("« file »")
    assert not any(english in response.text for english in ENGLISH)
