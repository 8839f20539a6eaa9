"""The ``pilot`` command, run as a person would (Typer's runner, real database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pilot.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["db"],
        ["token"],
        ["figures"],
        ["import-panorama"],
        ["serve"],
        ["demo"],
        ["token", "create"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_figures_print_the_published_key_figures(engine: Engine, panorama_dir: Path) -> None:
    for name in ("panorama-2016-11.csv", "panorama-2017-06.csv"):
        result = runner.invoke(app, ["import-panorama", str(panorama_dir / name)])
        assert result.exit_code == 0, result.output
    expected = {1: (57, 18, "2,29", "6,2"), 2: (61, 20, "2,56", "6,0")}
    for number, (projects, inter, bn, years) in expected.items():
        result = runner.invoke(app, ["figures", "--edition", str(number)])
        assert result.exit_code == 0, result.output
        key = json.loads(result.output)["key_figures"]
        assert (
            key["projets_suivis"],
            key["projets_interministeriels"],
            key["milliards_euros"],
            key["duree_moyenne_annees"],
        ) == (projects, inter, bn, years)
    latest = json.loads(runner.invoke(app, ["figures", "--edition", "latest"]).output)
    assert latest["edition"] == 2
    assert (len(latest["entrants"]), len(latest["exits"])) == (15, 11)
    assert {"id": "PRJ-00001", "ministry": "SPM", "name": "FRANCE CONNECT"} in latest["exits"]


def test_figures_of_a_missing_edition_fail_clearly(engine: Engine) -> None:
    result = runner.invoke(app, ["figures", "--edition", "7"])
    assert result.exit_code == 1
    assert "Aucune édition" in result.output


def test_loading_twice_says_nothing_new(engine: Engine, panorama_dir: Path) -> None:
    path = str(panorama_dir / "panorama-2016-11.csv")
    runner.invoke(app, ["import-panorama", path])
    result = runner.invoke(app, ["import-panorama", path])
    assert result.exit_code == 0
    assert "rien de nouveau" in result.output


def test_token_create_list_revoke(engine: Engine) -> None:
    runner.invoke(app, ["import-panorama", str(Path("data/panorama/panorama-2017-06.csv"))])
    created = runner.invoke(
        app, ["token", "create", "--name", "DNUM MI", "--role", "ministry", "--ministry", "MI"]
    )
    assert created.exit_code == 0, created.output
    plaintext = created.output.strip().splitlines()[-1]
    assert plaintext.startswith("pilot_")
    listed = runner.invoke(app, ["token", "list"])
    assert plaintext not in listed.output and "DNUM MI" in listed.output
    assert runner.invoke(app, ["token", "revoke", "1"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["token", "list"]).output)[0]["revoked_at"]


def test_ministry_token_needs_a_known_ministry(engine: Engine) -> None:
    result = runner.invoke(
        app, ["token", "create", "--name", "x", "--role", "ministry", "--ministry", "NOPE"]
    )
    assert result.exit_code == 1
