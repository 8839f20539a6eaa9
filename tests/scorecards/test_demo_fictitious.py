"""An edition holding ``pilot demo``'s invented follow-up says it is fictitious on every
page, in the open data and on the PDF's title page, and is never drawn in DINUM's real
series of key figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from importers.panorama import import_panorama_file
from pilot.db import get_engine
from pilot.demo import add_demo_follow_up
from pilot.editions import service as editions
from scorecards import charts
from scorecards.publish import publish_edition, render_edition
from scorecards.view import edition_view

ON = date(2026, 11, 2)
BANNER = "Données fictives de démonstration : ce panorama n'est pas publié par la DINUM."


@pytest.mark.slow
def test_a_demo_edition_says_it_is_fictitious_everywhere_and_leaves_the_real_series(
    session: Session, panorama_dir: Path, tmp_path: Path
) -> None:
    for path in sorted(panorama_dir.glob("*.csv")):
        import_panorama_file(session, path)
    add_demo_follow_up(session, today=ON)
    session.commit()
    number = publish_edition(get_engine(), tmp_path, published_on=ON).number
    folder = tmp_path / "editions" / str(number)

    pages = [tmp_path / "index.html", tmp_path / "archives.html", folder / "index.html"]
    pages += sorted((folder / "projets").glob("*.html"))
    assert len(pages) > 50
    for page in pages:
        assert BANNER in page.read_text("utf-8"), page
    # A real edition's pages never say it.
    real = render_edition(session, 2, tmp_path).folder
    assert BANNER not in (real / "index.html").read_text("utf-8")

    rows = list(
        csv.DictReader(io.StringIO((folder / "donnees" / "panorama.csv").read_text("utf-8")))
    )
    assert rows and all(r["Données fictives"] == "fictif" for r in rows)
    records = json.loads((folder / "donnees" / "panorama.json").read_text("utf-8"))
    assert "fictif" in json.dumps(records, ensure_ascii=False)
    schema = json.loads((folder / "donnees" / "schema.json").read_text("utf-8"))
    assert "Données fictives" in [f["name"] for f in schema["fields"]]
    title_page = PdfReader(folder / f"panorama-{number}.pdf").pages[0].extract_text()
    assert "Données fictives de démonstration" in title_page

    view = edition_view(session, editions.get_edition(session, number))
    trend = charts.trends(view.history)
    assert [r[0] for r in trend.rows] == ["n° 1", "n° 2"]  # the demo edition is not drawn
    assert "démonstration" in trend.alt
