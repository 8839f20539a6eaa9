"""``pilot import-panorama`` reports and ``pilot projects``, run as a person would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pilot.cli import app

runner = CliRunner()
FIRST, SECOND = "panorama-2016-11.csv", "panorama-2017-06.csv"


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def project_id(ministry: str, name: str) -> str:
    listed = json.loads(invoke("projects", "list", "--ministry", ministry))
    return next(p["id"] for p in listed if p["name"] == name)


@pytest.mark.parametrize(
    "command",
    [["projects"], ["projects", "list"], ["projects", "alias"], ["projects", "trajectory"]],
)
def test_projects_commands_have_help(command: list[str]) -> None:
    assert "Usage" in invoke(*command, "--help")


def test_a_dry_run_lists_the_unmatched_projects_and_stores_nothing(
    engine: Engine, panorama_dir: Path
) -> None:
    invoke("import-panorama", str(panorama_dir / FIRST))
    output = invoke("import-panorama", "--dry-run", str(panorama_dir / SECOND))
    assert "Simulation" in output and "Non rapprochés (15)" in output
    cassiopee = project_id("MJ", "CASSIOPEE")
    assert f"non rapproché : MJ — CASSIOPEE V2 (ligne 38) ; à vérifier : {cassiopee}" in output
    figures = json.loads(invoke("figures"))
    assert figures["edition"] == 1  # nothing was stored


def test_an_alias_declared_before_loading_keeps_one_identity(
    engine: Engine, panorama_dir: Path
) -> None:
    invoke("import-panorama", str(panorama_dir / FIRST))
    cassiopee = project_id("MJ", "CASSIOPEE")
    output = invoke("projects", "alias", cassiopee, "CASSIOPEE V2")
    assert "Alias enregistré" in output and "prochains chargements" in output

    output = invoke("import-panorama", str(panorama_dir / SECOND))

    assert "Non rapprochés (14)" in output and "CASSIOPEE V2" not in output
    assert project_id("MJ", "CASSIOPEE V2") == cassiopee
    trajectory = json.loads(invoke("projects", "trajectory", cassiopee))
    assert [(p["edition"], p["cost"]) for p in trajectory["trajectory"]] == [
        (1, "9,9\u00a0M€"),
        (2, "9,9\u00a0M€"),
    ]
    assert [n["name"] for n in trajectory["names"]] == ["CASSIOPEE", "CASSIOPEE V2"]
    figures = json.loads(invoke("figures", "--edition", "2"))
    assert (len(figures["entrants"]), len(figures["exits"])) == (14, 10)
    assert figures["key_figures"]["milliards_euros"] == "2,56"


def test_an_alias_after_the_renamed_edition_was_loaded_is_refused_clearly(
    engine: Engine, panorama_dir: Path
) -> None:
    invoke("import-panorama", str(panorama_dir / FIRST))
    invoke("import-panorama", str(panorama_dir / SECOND))
    result = runner.invoke(
        app, ["projects", "alias", project_id("MJ", "CASSIOPEE"), "CASSIOPEE V2"]
    )
    assert result.exit_code == 1
    assert "désigne déjà le projet" in result.output
    assert "ne fusionne jamais" in result.output


def test_alias_of_an_unknown_project_fails_clearly(engine: Engine) -> None:
    result = runner.invoke(app, ["projects", "alias", "PRJ-09999", "X"])
    assert result.exit_code == 1 and "Aucun projet" in result.output


def test_list_filters_by_ministry_and_panorama(engine: Engine, panorama_dir: Path) -> None:
    invoke("import-panorama", str(panorama_dir / FIRST))
    invoke("import-panorama", str(panorama_dir / SECOND))
    justice = json.loads(invoke("projects", "list", "--ministry", "MJ"))
    assert {p["ministry"] for p in justice} == {"MJ"} and len(justice) == 9
    out = json.loads(invoke("projects", "list", "--out-of-panorama"))
    assert len(out) == 11 and "FRANCE CONNECT" in {p["name"] for p in out}
    assert len(json.loads(invoke("projects", "list", "--in-panorama"))) == 61


def test_the_import_says_who_left_the_panorama(engine: Engine, panorama_dir: Path) -> None:
    invoke("import-panorama", str(panorama_dir / FIRST))
    output = invoke("import-panorama", str(panorama_dir / SECOND))
    assert "11 projet(s) absent(s) de cette édition" in output


def test_trajectory_of_a_project_in_both_editions(engine: Engine, panorama_dir: Path) -> None:
    invoke("import-panorama", str(panorama_dir / FIRST))
    invoke("import-panorama", str(panorama_dir / SECOND))
    data = json.loads(invoke("projects", "trajectory", project_id("MJ", "PORTALIS")))
    assert [p["published_on"] for p in data["trajectory"]] == ["2016-11-03", "2017-06-01"]
    assert data["in_panorama"] is True


@pytest.mark.slow
def test_the_installed_command_loads_an_edition_in_a_fresh_process(
    tmp_path: Path, panorama_dir: Path
) -> None:
    """Not through the test process (where every model is already imported)."""
    env = {**os.environ, "PILOT_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}

    def pilot(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", "from pilot.cli import app; app()", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    pilot("db", "upgrade")
    assert "57 projets" in pilot("import-panorama", str(panorama_dir / FIRST))
    assert json.loads(pilot("figures"))["key_figures"]["duree_moyenne_annees"] == "6,2"
