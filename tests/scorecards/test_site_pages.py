"""The public site's pages across editions: every edition in the archive, every project at a
stable address with its trajectory, one page per ministry, entrants and exits by name, the
fixed pages (method, FAQ, legal), Atom feeds, French formatting on project pages; all read
from published editions only."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from markupsafe import escape
from sqlmodel import Session, select

from pilot.db import get_engine
from pilot.editions import service as editions
from pilot.money import format_meur
from pilot.projects.models import Project
from scorecards import pages, site
from scorecards.publish import publish_edition
from scorecards.view import EditionView, ProjectView, edition_view
from tests.scorecards.conftest import PUBLISHED_ON

ATOM = "{http://www.w3.org/2005/Atom}"
SITE_NAME = "Panorama des grands projets numériques de l'État"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_edition_and_project_has_its_page_with_feeds_and_french_text(
    demo: Session, tmp_path: Path
) -> None:
    number = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON).number
    pnr = demo.exec(select(Project).where(Project.name == "PNR")).one()
    vitam = demo.exec(select(Project).where(Project.name == "VITAM")).one()
    segur = demo.exec(select(Project).where(Project.name == "SÉGUR-FONTENOY")).one()

    # The archive lists every edition, links those written (at editions/N/), and says
    # which are not written yet (loaded from the open data, written by the scheduler).
    archives = _text(tmp_path / "archives.html")
    assert f'href="editions/{number}/"' in archives
    assert "Édition n° 1 (pages en cours d'écriture)" in archives
    assert "Édition n° 2 (pages en cours d'écriture)" in archives

    # Every project of every published edition has one stable address, its trajectory
    # across all of them.
    views = pages.published_views(demo)
    ids = {r.pilot_id for v in views for r in v.rows}
    assert len(ids) > 61
    for pilot_id in ids:
        assert (tmp_path / "projets" / pilot_id / "index.html").exists(), pilot_id
    stable = _text(tmp_path / "projets" / pnr.pilot_id / "index.html")
    assert f"<title>PNR – {SITE_NAME}</title>" in stable
    for n in (1, 2, number):
        assert f"Édition n° {n}" in stable
    assert (tmp_path / "projets" / pnr.pilot_id / "trajectoire.svg").exists()
    assert f'href="../../editions/{number}/projets/{pnr.pilot_id}.html"' in stable
    assert 'href="../../editions/1/' not in stable  # not written: not linked
    # Confidential in the latest edition: its figures there are withheld, exactly as the
    # edition's own pages withhold them; the editions before published them.
    confidential = _text(tmp_path / "projets" / vitam.pilot_id / "index.html")
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", confidential, re.S)
    last = next(r for r in rows if f"Édition n° {number}" in r)
    assert last.count("non communiqué (confidentiel)") >= 3 and "M€" not in last
    assert all("M€" in r for r in rows if f"Édition n° {number}" not in r)
    assert "Chiffres non communiqués (confidentiel) dans 1 édition" in confidential

    # One page per ministry: its projects, totals, overruns in euros.
    latest = views[-1]
    spm = [r for r in latest.rows if r.ministry == "SPM"]
    overrun = sum(
        int(r.get("cost_eur")) - int(r.get("initial_cost_eur"))
        for r in spm
        if not r.confidential and r.get("cost_eur") and r.get("initial_cost_eur")
    )
    ministry = _text(tmp_path / "ministeres" / "SPM" / "index.html")
    assert f"<title>Premier ministre – {SITE_NAME}</title>" in ministry
    assert f"{len(spm)} projets" in ministry
    assert format_meur(abs(overrun)) in ministry
    assert all(f"projets/{r.pilot_id}" in ministry for r in spm)
    mj = _text(tmp_path / "ministeres" / "MJ" / "index.html")
    assert '<abbr title="Ministère de la Justice">MJ</abbr>' in mj
    assert (tmp_path / "ministeres" / "MINDEF" / "index.html").exists()  # 2016's code
    assert 'href="../MAr/"' in _text(tmp_path / "ministeres" / "MINDEF" / "index.html")

    # Fixed pages, titles without repetition, feeds announced on every page.
    for name in ("methode", "faq", "mentions-legales", "accessibilite", "donnees-personnelles"):
        assert (tmp_path / f"{name}.html").exists()
    method = _text(tmp_path / "methode.html")
    for rule in ("10&nbsp;%", "30&nbsp;%", "pondérée par le coût", "9&nbsp;millions", "Mareva"):
        assert rule in method
    assert len(re.findall(r"fr-accordion__btn", _text(tmp_path / "faq.html"))) >= 14
    assert "partiellement conforme" in _text(tmp_path / "accessibilite.html")
    for page in tmp_path.rglob("*.html"):
        html = _text(page)
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        assert title and title.group(1).count(SITE_NAME) == 1, page
        assert html.count('type="application/atom+xml"') == 2, page

    # Feeds: valid Atom, with ids and dates.
    feed = ET.parse(tmp_path / "flux" / "editions.atom").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") and feed.findtext(f"{ATOM}updated")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}title")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", entry.findtext(f"{ATOM}updated") or "")
        assert entry.find(f"{ATOM}link") is not None
    assert entries[0].find(f"{ATOM}link").get("href") == f"../editions/{number}/"  # type: ignore[union-attr]
    health = ET.parse(tmp_path / "flux" / "sante.atom").getroot()
    assert health.findtext(f"{ATOM}id") and health.findtext(f"{ATOM}updated")

    # A project's page: line breaks kept, the description once, French numbers.
    html = _text(tmp_path / "editions" / str(number) / "projets" / f"{segur.pilot_id}.html")
    description = segur.description or ""
    assert "\n" in description
    assert html.count(description.split("\n")[0].strip()) == 1
    assert "<br>" in html
    published = next(r for r in latest.rows if r.pilot_id == segur.pilot_id)
    raw = published.data["Coût estimé"]
    assert "." in raw and f">{raw}<" not in html
    assert f"{raw.replace('.', ',')}\u00a0M€" in html
    assert published.data["Début"] not in html  # an ISO date: written in French


def test_exits_are_listed_by_name_with_their_reason(demo: Session) -> None:
    second = editions.get_edition(demo, 2)
    view = edition_view(demo, second)
    assert view.movements is not None and view.movements.previous == 1
    exits = view.movements.exits
    assert len(exits) == 11 and len(view.movements.entrants) == 15
    assert all(m.name and m.reason for m in exits)
    html = site.edition_home(view, [], site.Place(root="../../", ed=""), booklet=False).decode()
    for moved in exits:
        assert f'projets/{moved.pilot_id}/">{escape(moved.name)}</a>' in html
    assert "raison non publiée" in html


def _view(number: int, day: date, health: dict[str, str | None]) -> EditionView:
    rows = [
        ProjectView(pid, {}, {"pilot_id": pid, "name": pid, "health": h, "confidential": False})
        for pid, h in health.items()
    ]
    return EditionView(str(number), number, day, f"n° {number}", False, {}, rows)


def test_the_health_feed_lists_projects_whose_computed_health_changed() -> None:
    first = _view(1, date(2026, 1, 1), {"PRJ-00001": "vert", "PRJ-00002": None})
    second = _view(2, date(2026, 7, 1), {"PRJ-00001": "rouge", "PRJ-00002": "vert"})
    third = _view(3, date(2027, 1, 1), {"PRJ-00001": "rouge", "PRJ-00002": "orange"})
    changes = pages.health_changes([first, second, third])
    assert [(v.number, r.pilot_id, old) for v, r, old in changes] == [
        (3, "PRJ-00002", "vert"),
        (2, "PRJ-00001", "vert"),
    ]
