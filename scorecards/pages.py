"""The public site's pages that span every published edition, written after each edition:

    archives.html                     every edition, each linked at editions/N/
    projets/index.html                every project ever published
    projets/PRJ-…/index.html          one project at a stable address: its trajectory
    ministeres/index.html             every ministry
    ministeres/<code>/index.html      one ministry: its projects, totals, overruns in euros
    flux/editions.atom                Atom feed of the editions
    flux/sante.atom                   Atom feed of the projects whose computed health changed
    methode.html, faq.html, mentions-legales.html, accessibilite.html,
    donnees-personnelles.html         the site's fixed pages

Everything is read from the published editions' frozen rows as the public may read them
(``scorecards.view``, the confidentiality rule applied), never from live tables.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session

from pilot.editions import service as editions
from pilot.ministries.service import REFERENCE_ALIASES
from pilot.money import format_meur
from pilot.projects.confidentiality import WITHHELD_TEXT
from scorecards import opendata, site, trajectory
from scorecards.charts import fr, percent
from scorecards.view import EditionView, ProjectView, edition_view

# The fixed pages: (file, template, title, nav).
FIXED_PAGES = [
    ("methode.html", "methode.html.j2", "Méthode", "method"),
    ("faq.html", "faq.html.j2", "Questions fréquentes", "faq"),
    ("mentions-legales.html", "mentions.html.j2", "Mentions légales", ""),
    ("accessibilite.html", "accessibilite.html.j2", "Déclaration d'accessibilité", ""),
    ("donnees-personnelles.html", "donnees.html.j2", "Données personnelles", ""),
]
FEED_ID = "tag:numerique.gouv.fr,2016:panorama"
ATOM = "http://www.w3.org/2005/Atom"
HEALTH_WORDS = {"vert": "vert", "orange": "orange", "rouge": "rouge"}


def french_spacing(html: bytes) -> bytes:
    """French typography in a page's text: a no-break space before « : ; ? ! » and inside
    guillemets, so that no line starts with a colon or a question mark."""
    text = html.decode("utf-8")
    text = re.sub(r" ([:;?!»])", "\u00a0\\1", text)
    return text.replace("« ", "«\u00a0").encode("utf-8")


def published_views(session: Session) -> list[EditionView]:
    """Every published edition as the public reads it, oldest first."""
    found = sorted(editions.published_editions(session), key=lambda e: (e.published_on, e.number))
    return [edition_view(session, e) for e in found]


def write_site_pages(
    session: Session, site_root: Path, views: list[EditionView] | None = None
) -> int:
    """Write every page that spans the published editions (``views``, oldest first: read
    when not given); returns the files rewritten."""
    return write_views_pages(published_views(session) if views is None else views, site_root)


def write_views_pages(views: list[EditionView], site_root: Path) -> int:
    """``write_site_pages`` from the published editions ``views``, already read (no
    database access: written outside any transaction)."""
    written = 0
    demo = any(v.demo for v in views)
    for name, template, title, nav in FIXED_PAGES:
        html = site.render(
            template,
            page_title=title,
            draft=False,
            demo=False,
            nav=nav,
            root="",
            ed="",
            breadcrumb=[("Accueil", "index.html"), (title, None)],
            latest=views[-1] if views else None,
        )
        written += site.write_if_changed(site_root / name, french_spacing(html))
    if not views:
        return written
    written += site.write_if_changed(
        site_root / "archives.html", site.archives_page([v.summary() for v in views], site_root)
    )
    # Editions whose pages are written (an edition loaded from the open data is written by
    # the scheduler or `pilot render`): only those are linked.
    browsable = {v.slug for v in views if (site_root / "editions" / v.slug / "index.html").exists()}
    written += _write_opendata_page(views, site_root, demo)
    written += _write_projects(views, site_root, demo, browsable)
    written += _write_ministries(views, site_root, demo, browsable)
    written += _write_feeds(views, site_root)
    return written


def _write_opendata_page(views: Sequence[EditionView], site_root: Path, demo: bool) -> int:
    """``donnees-ouvertes.html``: the history's files and each edition's, with their size."""
    editions_files = [
        {
            "number": v.number,
            "date": site.date_fr(v.published_on),
            "files": opendata.listing(
                site_root / "editions" / v.slug / "donnees", opendata.EDITION_BASE
            ),
        }
        for v in reversed(views)
    ]
    html = site.render(
        "opendata.html.j2",
        page_title="Données ouvertes",
        draft=False,
        demo=demo,
        nav="opendata",
        root="",
        ed="",
        breadcrumb=[("Accueil", "index.html"), ("Données ouvertes", None)],
        history=opendata.listing(site_root / "donnees", opendata.HISTORY_BASE),
        editions=[e for e in editions_files if e["files"]],
    )
    return int(site.write_if_changed(site_root / "donnees-ouvertes.html", french_spacing(html)))


# --- Projects at a stable address ------------------------------------------------------


@dataclass(frozen=True)
class Appearance:
    """A project in one published edition."""

    view: EditionView
    row: ProjectView

    def point(self) -> trajectory.Point:
        r = self.row
        duration = r.get("duration_years")
        return trajectory.Point(
            edition=self.view.number or 0,
            published_on=self.view.published_on,
            cost_eur=r.get("cost_eur"),
            duration_years=None if duration is None else Decimal(str(duration)),
            phase=r.get("phase"),
            health=r.get("health"),
            confidential=r.confidential,
        )


def appearances(views: Sequence[EditionView]) -> dict[str, list[Appearance]]:
    """Each project (by PILOT identifier) in each published edition it appears in."""
    found: dict[str, list[Appearance]] = {}
    for view in views:
        for row in view.rows:
            found.setdefault(row.pilot_id, []).append(Appearance(view, row))
    return found


def _point_row(
    point: trajectory.Point, view: EditionView, pilot_id: str, browsable: set[str]
) -> dict[str, Any]:
    withheld = WITHHELD_TEXT if point.confidential else "non communiqué"
    return {
        "edition": point.edition,
        "href": f"../../editions/{view.slug}/projets/{pilot_id}.html"
        if view.slug in browsable
        else None,
        "date": site.date_fr(point.published_on),
        "phase": point.phase or "non renseignée",
        "cost": withheld if point.cost_eur is None else format_meur(point.cost_eur, 2),
        "duration": withheld
        if point.duration_years is None
        else f"{fr(point.duration_years, 1)}\u00a0ans",
        "health": WITHHELD_TEXT if point.confidential else point.health,
    }


def _trajectory_key(name: str, points: list[trajectory.Point]) -> str:
    payload = json.dumps([name, [p.__dict__ for p in points]], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _write_projects(
    views: list[EditionView], site_root: Path, demo: bool, browsable: set[str]
) -> int:
    folder = site_root / "projets"
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = site_root / ".cache" / "trajectoires.json"  # what each chart shows
    try:
        drawn: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        drawn = {}
    latest = views[-1]
    written = 0
    listing = []
    for pilot_id, seen in appearances(views).items():
        if not pilot_id.startswith("PRJ-"):
            continue  # a row without a PILOT identity has no stable address
        last = seen[-1]
        points = [a.point() for a in seen]
        chart_path = folder / pilot_id / "trajectoire.svg"
        key = _trajectory_key(last.row.name, points)
        if drawn.get(pilot_id) != key or not chart_path.exists():
            svg = trajectory.draw(points)
            if svg is None:
                chart_path.unlink(missing_ok=True)
            else:
                site.write_if_changed(chart_path, svg)
            drawn[pilot_id] = key
        names = []
        for a in seen:
            if a.row.name not in names:
                names.append(a.row.name)
        in_latest = last.view is latest
        exit_reason = None
        if not in_latest:
            after = views[next(i for i, v in enumerate(views) if v is last.view) + 1]
            moved = after.movements
            exit_reason = next(
                (m.reason for m in (moved.exits if moved else []) if m.pilot_id == pilot_id),
                None,
            )
            exit_reason = f"sorti à l'édition n° {after.number} ({exit_reason})"
        project = {
            "pilot_id": pilot_id,
            "name": last.row.name,
            "former_names": [n for n in names if n != last.row.name],
            "ministry": last.row.ministry,
            "ministry_name": site.ministry_name(last.row),
            "ministry_slug": site.ministry_slug(last.row.ministry),
            "description": last.row.get("description"),
            "financing": last.row.get("financing"),
            "zone": last.row.get("functional_zone"),
            "phase": last.row.get("phase"),
            "link": site.safe_link(last.row.get("link")),
            "last_edition": last.view.number,
            "last_slug": last.view.slug if last.view.slug in browsable else None,
            "in_latest": in_latest,
            "exit": exit_reason,
            "confidential": last.row.confidential,
        }
        chart = {"alt": trajectory.describe(last.row.name, points)} if chart_path.exists() else None
        html = site.render(
            "stable_project.html.j2",
            p=project,
            points=[
                _point_row(pt, a.view, pilot_id, browsable)
                for pt, a in zip(points, seen, strict=True)
            ],
            chart=chart,
            page_title=last.row.name,
            draft=False,
            demo=any(a.view.demo for a in seen),
            nav="projects",
            root="../../",
            ed="",
            breadcrumb=[
                ("Accueil", "../../index.html"),
                ("Projets", "../"),
                (last.row.name, None),
            ],
        )
        written += site.write_if_changed(folder / pilot_id / "index.html", html)
        listing.append(project | {"editions": len(seen)})
    listing.sort(key=lambda p: (not p["in_latest"], p["ministry_name"], p["name"].lower()))
    html = site.render(
        "projects.html.j2",
        projects=listing,
        latest=latest,
        page_title="Tous les projets",
        draft=False,
        demo=demo,
        nav="projects",
        root="../",
        ed="",
        breadcrumb=[("Accueil", "../index.html"), ("Projets", None)],
    )
    written += site.write_if_changed(folder / "index.html", html)
    site.write_if_changed(manifest_path, json.dumps(drawn, sort_keys=True).encode("utf-8"))
    return written


# --- Ministries --------------------------------------------------------------------------


def _overrun(row: ProjectView) -> int | None:
    """Current cost minus initial cost, in euros (None when either is unknown)."""
    cost, initial = row.get("cost_eur"), row.get("initial_cost_eur")
    if row.confidential or cost is None or initial is None:
        return None
    return int(cost) - int(initial)


def _signed_meur(eur: int) -> str:
    text = format_meur(abs(eur))
    return ("+" if eur > 0 else "−" if eur < 0 else "") + text


def _write_ministries(
    views: list[EditionView], site_root: Path, demo: bool, browsable: set[str]
) -> int:
    folder = site_root / "ministeres"
    latest = views[-1]
    codes: dict[str, EditionView] = {}  # each code, with the latest edition that printed it
    for view in views:
        for row in view.rows:
            codes[row.ministry] = view
    written = 0
    listing = []
    for code, view in codes.items():
        rows = [r for r in view.rows if r.ministry == code]
        full_name = site.ministry_name(rows[-1])
        overruns = [(r, o) for r in rows if (o := _overrun(r)) is not None]
        costs = [int(r.get("cost_eur")) for r in rows if r.get("cost_eur") is not None]
        history = []
        for v in views:
            mine = [r for r in v.rows if r.ministry == code]
            if mine:
                known = [int(r.get("cost_eur")) for r in mine if r.get("cost_eur") is not None]
                history.append(
                    {
                        "number": v.number,
                        "slug": v.slug if v.slug in browsable else None,
                        "date": site.date_fr(v.published_on),
                        "projects": len(mine),
                        "total": format_meur(sum(known)) if known else "non communiqué",
                    }
                )
        ministry: dict[str, Any] = {
            "code": code,
            "slug": site.ministry_slug(code),
            "name": full_name,
            "current": view is latest,
            "successor": successor
            if (successor := REFERENCE_ALIASES.get(code)) in codes and successor != code
            else None,
            "edition": view.number,
            "edition_slug": view.slug,
            "projects": len(rows),
            "interministerial": sum(1 for r in rows if r.get("interministerial")),
            "total": format_meur(sum(costs)) if costs else "non communiqué",
            "costed": len(costs),
            "withheld": sum(1 for r in rows if r.confidential),
            "overrun": _signed_meur(sum(o for _, o in overruns)) if overruns else None,
            "overrun_projects": len(overruns),
            "overrun_rows": [
                {
                    "pilot_id": r.pilot_id,
                    "name": r.name,
                    "initial": format_meur(r.get("initial_cost_eur")),
                    "cost": format_meur(r.get("cost_eur")),
                    "overrun": _signed_meur(o),
                    "drift": percent(r.decimal("budget_drift_initial")),
                }
                for r, o in sorted(overruns, key=lambda item: -item[1])
            ],
            "history": history,
        }
        html = site.render(
            "ministry.html.j2",
            m=ministry,
            table_rows=site.table_rows(rows),
            page_title=full_name,
            draft=False,
            demo=view.demo,
            nav="ministries",
            root="../../",
            ed=f"../../editions/{view.slug}/" if view.slug in browsable else None,
            stable=True,
            breadcrumb=[
                ("Accueil", "../../index.html"),
                ("Ministères", "../"),
                (full_name, None),
            ],
        )
        written += site.write_if_changed(folder / site.ministry_slug(code) / "index.html", html)
        listing.append(ministry)
    listing.sort(key=lambda m: (not m["current"], m["name"]))
    html = site.render(
        "ministries.html.j2",
        ministries=listing,
        latest=latest,
        page_title="Ministères",
        draft=False,
        demo=demo,
        nav="ministries",
        root="../",
        ed="",
        breadcrumb=[("Accueil", "../index.html"), ("Ministères", None)],
    )
    written += site.write_if_changed(folder / "index.html", html)
    return written


# --- Atom feeds --------------------------------------------------------------------------


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _feed(title: str, slug: str, updated: date) -> ET.Element:
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": "fr"})
    ET.SubElement(feed, "id").text = f"{FEED_ID}/{slug}"
    ET.SubElement(feed, "title").text = title
    ET.SubElement(feed, "updated").text = _stamp(updated)
    author = ET.SubElement(feed, "author")
    ET.SubElement(author, "name").text = "Direction interministérielle du numérique (DINUM)"
    ET.SubElement(feed, "link", {"rel": "self", "href": f"{slug}.atom"})
    ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": "../"})
    ET.SubElement(feed, "rights").text = "Licence Ouverte 2.0"
    return feed


def _entry(feed: ET.Element, entry_id: str, title: str, day: date, href: str, summary: str) -> None:
    entry = ET.SubElement(feed, "entry")
    ET.SubElement(entry, "id").text = f"{FEED_ID}/{entry_id}"
    ET.SubElement(entry, "title").text = title
    ET.SubElement(entry, "updated").text = _stamp(day)
    ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": href})
    ET.SubElement(entry, "summary").text = summary


def health_changes(views: Sequence[EditionView]) -> list[tuple[EditionView, ProjectView, str]]:
    """``(edition, row, former health)`` for each project whose computed health differs from
    the previous edition's (both known, neither withheld), newest edition first."""
    changes = []
    for before, after in itertools.pairwise(views):
        was = {r.pilot_id: r.get("health") for r in before.rows if not r.confidential}
        for row in after.rows:
            old, new = was.get(row.pilot_id), row.get("health")
            if old and new and old != new and not row.confidential:
                changes.append((after, row, str(old)))
    return sorted(changes, key=lambda c: (c[0].published_on, c[0].number), reverse=True)


def _write_feeds(views: list[EditionView], site_root: Path) -> int:
    latest = views[-1]
    feed = _feed(
        "Éditions du panorama des grands projets numériques de l'État",
        "editions",
        latest.published_on,
    )
    for view in reversed(views):
        f = view.figures
        summary = (
            f"{f['projects']} projets suivis, dont {f['interministerial']} interministériels ; "
            f"coût total {fr(Decimal(f['total_cost_bn']), 2)} Md€."
            + (" Données fictives de démonstration." if view.demo else "")
        )
        _entry(
            feed,
            f"editions/{view.slug}",
            f"Édition n° {view.number} du panorama, publiée le {site.date_fr(view.published_on)}",
            view.published_on,
            f"../editions/{view.slug}/",
            summary,
        )
    written = _write_xml(site_root / "flux" / "editions.atom", feed)
    feed = _feed("Projets dont la santé calculée a changé", "sante", latest.published_on)
    for view, row, old in health_changes(views):
        new = str(row.get("health"))
        _entry(
            feed,
            f"sante/{view.slug}/{row.pilot_id}",
            f"{row.name} : santé calculée passée de {HEALTH_WORDS.get(old, old)} à "
            f"{HEALTH_WORDS.get(new, new)} (édition n° {view.number})",
            view.published_on,
            f"../projets/{row.pilot_id}/",
            f"{site.ministry_name(row)}. Dérive budgétaire "
            f"{percent(row.decimal('budget_drift_initial'))}, dérive calendaire "
            f"{percent(row.decimal('schedule_drift_initial'))} depuis la référence initiale.",
        )
    return written + _write_xml(site_root / "flux" / "sante.atom", feed)


def _write_xml(path: Path, root: ET.Element) -> int:
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return int(site.write_if_changed(path, data))
