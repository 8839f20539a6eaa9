"""The public site: static pages in French, with the State's design system (DSFR).

Layout of ``settings.site_path``::

    index.html                 the latest published edition's home
    archives.html              every edition, with its key figures
    dsfr/                      DSFR files copied from node_modules (never hot-linked)
    assets/                    panorama.css, panorama.js
    editions/<N>/              one folder per edition (see ``edition_folder``)
        index.html  projets/<PRJ-…>.html  graphiques/  fiches/  donnees/  panorama-<N>.pdf
    (the draft panorama, same layout, is written outside: PILOT_DRAFT_DIR, DINUM's only)
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from pilot.editions.service import NO_HEALTH_REASONS
from pilot.mail.service import french_date
from pilot.money import format_meur
from pilot.opinions.models import Sense
from pilot.opinions.service import SENSE_LABELS
from pilot.projects.confidentiality import WITHHELD_TEXT
from scorecards.charts import PHASE_ORDER, WEATHER_LABELS, Chart, fr, percent
from scorecards.trend import published_trend
from scorecards.view import PUBLICATION_DATE, EditionSummary, EditionView, ProjectView

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DSFR_DIST = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
DSFR_FILES = ["dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js"]
DSFR_FOLDERS = ["fonts", "icons", "favicon"]


class SiteError(RuntimeError):
    """The site cannot be built (French message)."""


SITE_NAME = "Panorama des grands projets numériques de l'État"
# Severity ranks, for sorting: the most severe first, unknown always last.
HEALTH_RANKS = {"rouge": 0, "orange": 1, "vert": 2}
WEATHER_RANKS = {"orage": 0, "nuageux": 1, "soleil": 2}


def date_fr(value: date) -> str:
    """``date(2027, 1, 15)`` → ``"15 janvier 2027"`` (no-break spaces: a date is never
    split across lines)."""
    return french_date(value).replace(" ", "\u00a0")


def short_date(value: date) -> str:
    """``date(2027, 1, 15)`` → ``"15/01/2027"``: for the columns of a dense table."""
    return value.strftime("%d/%m/%Y")


def paragraphs(text: str | None) -> Markup:
    """Text typed with line breaks, as HTML: a blank line starts a paragraph, a line break
    stays a line break (everything escaped)."""
    if not text:
        return Markup("")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    return Markup("\n").join(
        Markup("<p>")
        + Markup("<br>\n").join(escape(line) for line in b.split("\n"))
        + Markup("</p>")
        for b in blocks
    )


def breakable(text: str) -> Markup:
    """A long address that may break after its punctuation only (never inside a word)."""
    return Markup("").join(
        escape(part) + (Markup("<wbr>") if part and part[-1] in "/.-_?&=" else Markup(""))
        for part in re.split(r"(?<=[/.\-_?&=])", text)
    )


def ministry_slug(code: str) -> str:
    """The folder of a ministry's page: its code as published, made safe for an address."""
    return re.sub(r"[^A-Za-z0-9]+", "-", code).strip("-") or "sans-code"


_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.globals["date_fr"] = date_fr
_env.filters["paragraphs"] = paragraphs
_env.filters["breakable"] = breakable


def pdf_name(view: EditionView) -> str:
    return f"panorama-{view.slug}.pdf"


def copy_assets(site: Path) -> None:
    """DSFR (from the npm package installed by ``make install``) and PILOT's own assets."""
    if not (DSFR_DIST / "dsfr.min.css").exists():
        raise SiteError(
            "Le système de design de l'État (DSFR) est introuvable : lancez « make install » "
            "(npm ci) pour l'installer."
        )
    target = site / "dsfr"
    marker = target / ".version"
    version = (DSFR_DIST.parent / "package.json").read_text(encoding="utf-8")
    if not marker.exists() or marker.read_text(encoding="utf-8") != version:
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in DSFR_FILES:
            shutil.copy2(DSFR_DIST / name, target / name)
        for folder in DSFR_FOLDERS:
            shutil.copytree(DSFR_DIST / folder, target / folder)
        marker.write_text(version, encoding="utf-8")
    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for path in (HERE / "static").iterdir():
        write_if_changed(assets / path.name, path.read_bytes())


def write_if_changed(path: Path, content: bytes) -> bool:
    if path.exists() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
    return True


def render(template: str, **context: Any) -> bytes:
    return _env.get_template(template).render(**context).encode("utf-8")


@dataclass(frozen=True)
class Place:
    """Where an edition's pages are: relative paths from a page to the site root and to
    the edition folder."""

    root: str
    ed: str


def _key_figures(figures: dict[str, Any]) -> list[tuple[str, str]]:
    mean = figures.get("mean_duration_years")
    return [
        (str(figures["projects"]), "projets suivis"),
        (str(figures["interministerial"]), "projets interministériels"),
        (fr(Decimal(figures["total_cost_bn"]), 2), "milliards d'euros"),
        ("—" if mean is None else fr(Decimal(mean), 1), "années de durée moyenne"),
    ]


def _drift_lines(figures: dict[str, Any]) -> list[str]:
    drift = figures.get("drift") or {}
    health = figures.get("health") or {}
    lines = []
    if drift.get("budget_initial_weighted") is not None:
        lines.append(
            "Dérive budgétaire moyenne depuis les références initiales : "
            f"{percent(Decimal(drift['budget_initial_weighted']))} (pondérée par le coût), "
            f"{percent(Decimal(drift['budget_initial']))} (moyenne simple)."
        )
    if drift.get("schedule_initial_weighted") is not None:
        lines.append(
            "Dérive calendaire moyenne : "
            f"{percent(Decimal(drift['schedule_initial_weighted']))} (pondérée par le coût), "
            f"{percent(Decimal(drift['schedule_initial']))} (moyenne simple)."
        )
    if health:
        lines.append(
            f"Santé calculée : {health.get('vert', 0)} projets en vert, "
            f"{health.get('orange', 0)} en orange, {health.get('rouge', 0)} en rouge."
        )
    if figures.get("withheld"):
        lines.append(f"Chiffres non communiqués pour {figures['withheld']} projet(s).")
    missing = {k: n for k, n in (figures.get("no_health") or {}).items() if n}
    if missing:
        reasons = ", ".join(f"{n} {NO_HEALTH_REASONS[k]}" for k, n in missing.items())
        lines.append(f"Santé non calculée pour {sum(missing.values())} projet(s) : {reasons}.")
    return lines


def ministry_name(row: ProjectView) -> str:
    """The ministry's full name as the edition published it (its code when it gave none)."""
    return str(row.get("ministry_name") or row.data.get("Ministère nom complet") or row.ministry)


def _rank(ranks: dict[str, int], value: Any) -> str:
    return "" if value not in ranks else str(ranks[value])


def _phase_rank(phase: str | None) -> str:
    return str(PHASE_ORDER.index(phase)) if phase in PHASE_ORDER else ""


def _table_row(row: ProjectView) -> dict[str, Any]:
    budget, schedule = row.decimal("budget_drift_initial"), row.decimal("schedule_drift_initial")
    cost = row.get("cost_eur")
    phase = row.get("phase") or "non renseignée"
    full_name = ministry_name(row)
    common = {
        "pilot_id": row.pilot_id,
        "name": row.name,
        "ministry": row.ministry,
        "ministry_name": full_name,
        "ministry_slug": ministry_slug(row.ministry),
        "phase": phase,
        "phase_rank": _phase_rank(row.get("phase")),
        # What the search field looks in, beside the row's text (accents and case ignored).
        "search": " ".join(
            str(x)
            for x in (
                row.name,
                row.pilot_id,
                row.ministry,
                full_name,
                phase,
                row.get("functional_zone"),
            )
            if x
        ),
    }
    if row.confidential:
        return common | {
            "confidential": True,
            "cost": WITHHELD_TEXT,
            "cost_value": "",
            "budget": WITHHELD_TEXT,
            "budget_value": "",
            "schedule": WITHHELD_TEXT,
            "schedule_value": "",
            "health": None,
            "health_rank": "",
            "weather": WITHHELD_TEXT,
            "weather_rank": "",
        }
    return common | {
        "confidential": False,
        "cost": "non communiqué" if cost is None else format_meur(cost),
        "cost_value": "" if cost is None else cost,
        "budget": percent(budget),
        "budget_value": "" if budget is None else budget,
        "schedule": percent(schedule),
        "schedule_value": "" if schedule is None else schedule,
        "health": row.get("health"),
        "health_rank": _rank(HEALTH_RANKS, row.get("health")),
        "weather": WEATHER_LABELS.get(row.get("weather"), row.get("weather")),
        "weather_rank": _rank(WEATHER_RANKS, row.get("weather")),
    }


def table_rows(rows: Sequence[ProjectView]) -> list[dict[str, Any]]:
    return [_table_row(r) for r in rows]


def edition_home(
    view: EditionView,
    charts: Sequence[Chart],
    place: Place,
    *,
    booklet: bool = True,
    data_files: Sequence[dict[str, str]] = (),
) -> bytes:
    """An edition's home page; ``data_files``: its open-data files (``opendata.listing``)."""
    label = "Brouillon" if view.draft else f"Édition n° {view.number}"
    return render(
        "edition.html.j2",
        view=view,
        page_title=f"{label} du {date_fr(view.published_on)}",
        stable=not view.draft,
        draft=view.draft,
        demo=view.demo,
        nav="home" if place.ed != "" or not view.draft else "",
        root=place.root,
        ed=place.ed,
        breadcrumb=None,
        key_figures=_key_figures(view.figures),
        drift_lines=_drift_lines(view.figures),
        movements=view.movements,
        # The key figures are printed as text above; their chart is for the PDF and downloads.
        charts=[c.table() | {"slug": c.slug} for c in charts if c.slug != "chiffres-cles"],
        table_rows=table_rows(view.rows),
        pdf_name=pdf_name(view) if booklet else None,
        data_files=data_files,
    )


def _fr_date_text(value: str | None) -> str:
    return "—" if not value else date_fr(date.fromisoformat(value))


def public_opinion(frozen: dict[str, Any] | None) -> dict[str, Any] | None:
    """DINUM's latest opinion as the edition froze it (date, sense, open recommendations);
    None without one, or for a confidential project (the edition froze nothing)."""
    if not frozen:
        return None
    return {
        "given_on": french_date(date.fromisoformat(frozen["given_on"])),
        "sense": SENSE_LABELS.get(Sense(frozen["sense"]), frozen["sense"]),
        "open_recommendations": int(frozen.get("open_recommendations") or 0),
    }


# Published columns already shown whole above the table of a project's page.
SHOWN_ABOVE = {"Description et objectifs du projet", PUBLICATION_DATE}
LINK_COLUMNS = {"En savoir plus sur le projet", "Lien vers les Projets Annuels de Performances"}


def _decimal_text(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip().replace(",", ".").replace(" ", ""))
    except ArithmeticError:
        return None


def published_cell(header: str, value: Any) -> Markup:
    """A historical column's value as a French reader reads it: "53,62 M€" for "53.62",
    "6,5 ans", "1er janvier 2017", links clickable, "NA" as "non communiqué"."""
    text = "" if value is None else str(value).strip()
    if text in ("", "NA"):
        return Markup("non communiqué") if text == "NA" else Markup("—")
    if header in LINK_COLUMNS:
        link = safe_link(text)
        return (
            Markup('<a href="{}" rel="noopener">{}</a>').format(link, breakable(link))
            if link
            else breakable(text)
        )
    if header in ("Coût estimé", "Durée prévisionnelle en année"):
        number = _decimal_text(text)
        if number is None:
            return escape(text)
        places = max(1, -int(number.as_tuple().exponent))
        unit = "M€" if header == "Coût estimé" else ("an" if number <= 1 else "ans")
        return escape(f"{fr(number, places)}\u00a0{unit}")
    if header == "Début":
        try:
            return escape(date_fr(date.fromisoformat(text[:10])))
        except ValueError:
            return escape(text)
    return paragraphs(text) if "\n" in text else escape(text)


def project_page(view: EditionView, row: ProjectView, card: Chart, place: Place) -> bytes:
    v = row.values
    p = {
        "pilot_id": row.pilot_id,
        "name": row.name,
        "ministry": row.ministry,
        "ministry_name": ministry_name(row),
        "ministry_slug": ministry_slug(row.ministry),
        "interministerial": v.get("interministerial"),
        "phase": v.get("phase"),
        "start": WITHHELD_TEXT if row.confidential else _fr_date_text(v.get("start")),
        "zone": v.get("functional_zone"),
        "financing": v.get("financing"),
        "description": v.get("description"),
        "link": safe_link(v.get("link")),
        "pap_link": safe_link(v.get("pap_link")),
        "health": v.get("health"),
        "weather": WITHHELD_TEXT
        if row.confidential
        else WEATHER_LABELS.get(v.get("weather"), v.get("weather")),
        "weather_rosier": v.get("weather_rosier"),
        "confidential": row.confidential,
        "milestones": [
            {
                "name": m["name"],
                "baseline": _fr_date_text(m.get("baseline")),
                "forecast": _fr_date_text(m.get("forecast")),
                "actual": _fr_date_text(m.get("actual")),
            }
            for m in v.get("milestones") or []
        ],
        "risks": v.get("risks") or [],
        "opinion": public_opinion(v.get("opinion")),
        "data": [
            (k, published_cell(k, value)) for k, value in row.data.items() if k not in SHOWN_ABOVE
        ],
    }
    edition_label = "Brouillon" if view.draft else f"Édition n° {view.number}"
    return render(
        "project.html.j2",
        p=p,
        card=card.table(),
        trend=None if row.confidential else _trend(v),
        page_title=f"{row.name} – {edition_label}",
        stable=not view.draft,
        edition_label=edition_label,
        draft=view.draft,
        demo=view.demo,
        nav="",
        root=place.root,
        ed=place.ed,
        breadcrumb=[
            ("Accueil", f"{place.root}index.html"),
            (edition_label, f"{place.ed}index.html"),
            (row.name, None),
        ],
    )


def _trend(values: dict[str, Any]) -> dict[str, Any] | None:
    """The milestone trend chart as the edition froze it (``trend.html.j2``)."""
    chart = published_trend(values)
    if chart is None:
        return None
    return {
        "svg": chart.svg.replace("<svg ", '<svg class="fr-responsive-img" ', 1),
        "alt": chart.alt,
        "dates": [short_date(d) for d in chart.report_dates],
        "rows": [
            (
                line.milestone,
                [short_date(f) if f else "—" for f in chart.row(line)],
                short_date(line.actual) if line.actual else "—",
            )
            for line in chart.lines
        ],
    }


def safe_link(value: Any) -> str | None:
    """Only web links are made clickable (never ``javascript:`` or the like)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value.lower().startswith(("http://", "https://")) else None


def archives_page(history: Sequence[EditionSummary], site: Path) -> bytes:
    editions = []
    for h in sorted(history, key=lambda e: (e.published_on, e.number), reverse=True):
        folder = site / "editions" / str(h.number)
        mean = h.figures.get("mean_duration_years")
        editions.append(
            {
                "number": h.number,
                "date": date_fr(h.published_on),
                "href": f"editions/{h.number}/" if (folder / "index.html").exists() else None,
                "projects": h.figures["projects"],
                "interministerial": h.figures["interministerial"],
                "total": fr(Decimal(h.figures["total_cost_bn"]), 2),
                "mean": "—" if mean is None else fr(Decimal(mean), 1),
                "demo": h.demo,
            }
        )
    return render(
        "archives.html.j2",
        editions=editions,
        page_title="Archives des éditions",
        draft=False,
        demo=any(h.demo for h in history),
        nav="archives",
        root="",
        ed="",
        breadcrumb=[("Accueil", "index.html"), ("Archives des éditions", None)],
    )
