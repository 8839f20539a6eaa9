"""The ``publishEdition`` mutation goes through the one publication path: it freezes,
commits, then writes the edition's site, PDF and open data; a second edition too near the
last one is refused in French unless ``force: true``."""

from __future__ import annotations

from typing import Any

import pytest

from pilot.config import Settings
from tests.api.graphql.conftest import Demo

PUBLISH = (
    "mutation($on: Date!, $force: Boolean!) "
    "{ publishEdition(publishedOn: $on, force: $force) { number title } }"
)


def _publish(demo: Demo, on: str, *, force: bool = False) -> dict[str, Any]:
    return demo.gql(PUBLISH, {"on": on, "force": force}, role="dinum")


@pytest.mark.slow
def test_publish_edition_writes_the_site_and_refuses_a_too_near_edition_unless_forced(
    demo: Demo, settings: Settings
) -> None:
    body = _publish(demo, "2024-02-01")
    assert "errors" not in body, body
    number = body["data"]["publishEdition"]["number"]
    folder = settings.site_path / "editions" / str(number)
    assert (folder / "index.html").stat().st_size > 0
    assert (folder / f"panorama-{number}.pdf").stat().st_size > 0
    for name in ("panorama.csv", "panorama.xlsx", "panorama.json", "schema.json"):
        assert (folder / "donnees" / name).stat().st_size > 0
    assert f"editions/{number}/" in (settings.site_path / "index.html").read_text("utf-8")

    refused = _publish(demo, "2024-02-20")
    assert refused["data"] is None
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (
        f"L'édition n° {number} a été publiée le 01/02/2024, à 19 jours d'écart"
        in (error["message"])
    )
    assert "est déjà celui de l'édition" in error["message"]  # 02/2024 both
    assert "force: true" in error["message"]
    assert not (settings.site_path / "editions" / str(number + 1)).exists()

    forced = _publish(demo, "2024-02-20", force=True)
    assert "errors" not in forced, forced
    second = forced["data"]["publishEdition"]["number"]
    assert second == number + 1
    assert (settings.site_path / "editions" / str(second) / f"panorama-{second}.pdf").exists()
