"""``pilot render --edition N``: any published edition written again from its frozen rows,
the same bytes (but for the XLSX's timestamp); editions loaded from DINUM's
open data get their pages too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from pilot.cli import app
from pilot.config import Settings


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_render_writes_a_published_edition_again_byte_for_byte(
    demo: Session, settings: Settings, engine: object
) -> None:
    runner = CliRunner()
    published = runner.invoke(app, ["publish", "--published-on", "2026-11-02"])
    assert published.exit_code == 0, published.output
    site = settings.site_path
    folder = site / "editions" / "3"
    before = _files(folder)
    assert "panorama-3.pdf" in before and "donnees/panorama.csv" in before
    shutil.rmtree(folder)
    shutil.rmtree(site / ".cache")
    rendered = runner.invoke(app, ["render", "--edition", "3"])
    assert rendered.exit_code == 0, rendered.output
    after = _files(folder)
    assert after.keys() == before.keys()
    # Byte for byte: the XLSX is dated by the edition's publication date, the booklet
    # embeds no time.
    assert after == before
    # The 2017 edition, loaded from DINUM's open data, becomes browsable.
    old = runner.invoke(app, ["render", "--edition", "2"])
    assert old.exit_code == 0, old.output
    assert (site / "editions" / "2" / "index.html").exists()
    assert len(list((site / "editions" / "2" / "projets").glob("*.html"))) == 61
    assert 'href="editions/2/"' in (site / "archives.html").read_text("utf-8")  # at editions/N/
    assert "editions/3/" in (site / "index.html").read_text("utf-8")  # still the latest
    missing = runner.invoke(app, ["render", "--edition", "9"])
    assert missing.exit_code == 1 and "Aucune édition" in missing.output
