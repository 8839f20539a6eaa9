"""The PDF booklet of an edition, for readers and screen readers alike: a title page, the
contents (with page numbers), then one page per project (its ministry, description, key
figures in words and as a table), bookmarks, "Page X sur Y" on every page, tagged as
PDF/UA-1.

It is the HTML of ``templates/livret.html.j2`` laid out by WeasyPrint with its own small
print stylesheet (``templates/livret.css``): no DSFR, no pictures, one font (DejaVu Sans,
subset), so that a thousand projects take seconds, not minutes. Confidential projects
withhold what the site withholds: the rows it is given had the rule applied
(``scorecards.view.public_row``), and ``scorecard_text`` says "non communiqué
(confidentiel)" for every figure.
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from markupsafe import Markup

from scorecards.charts import fr, scorecard_text
from scorecards.pages import french_spacing
from scorecards.site import date_fr, ministry_name, render
from scorecards.view import EditionView, ProjectView

AUTHOR = "Direction interministérielle du numérique (DINUM)"
SITE_NAME = "Panorama des grands projets numériques de l'État"
PDF_VARIANT = "pdf/ua-1"


def _subtitle(view: EditionView) -> str:
    label = "Brouillon (non publié)" if view.draft else f"Édition n° {view.number}"
    return f"{label} du {date_fr(view.published_on)}"


def _css_string(text: str) -> Markup:
    """``text`` as a CSS string (for the ``content`` of a page's margin box)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return Markup(f'"{escaped}"')


def _cover_lines(view: EditionView) -> list[str]:
    f = view.figures
    mean = f.get("mean_duration_years")
    lines = [
        f"{f['projects']} projets suivis, dont {f['interministerial']} interministériels.",
        f"{fr(Decimal(str(f['total_cost_bn'])), 2)} milliards d'euros de coût total estimé.",
        "Durée moyenne : "
        + ("non calculable." if mean is None else f"{fr(Decimal(str(mean)), 1)} années."),
    ]
    health = f.get("health") or {}
    if health:
        lines.append(
            f"Santé calculée : {health.get('vert', 0)} en vert, {health.get('orange', 0)} "
            f"en orange, {health.get('rouge', 0)} en rouge."
        )
    if f.get("previous_edition"):
        lines.append(
            f"Par rapport à l'édition n° {f['previous_edition']} : "
            f"{len(f.get('entrants', []))} entrées, {len(f.get('exits', []))} sorties."
        )
    if f.get("withheld"):
        lines.append(f"Chiffres non communiqués pour {f['withheld']} projet(s) confidentiel(s).")
    return lines


def _summary(rows: dict[str, str], confidential: bool) -> str:
    """The key figures in words, as a reader says them."""
    phase = f"Phase : {rows['Phase']}."
    if confidential:
        return (
            f"{phase} Coûts, durées, dérives, santé calculée, météo déclarée, jalons et "
            "risques : non communiqués (confidentiel)."
        )
    return (
        f"{phase} Coût actuel : {rows['Coût, actuel']} (référence initiale : "
        f"{rows['Coût, référence initiale']} ; dérive : "
        f"{rows['Dérive budgétaire depuis la référence initiale']}). Durée actuelle : "
        f"{rows['Durée, actuel']} (référence initiale : {rows['Durée, référence initiale']} ; "
        f"dérive : {rows['Dérive calendaire depuis la référence initiale']}). Santé calculée : "
        f"{rows['Santé calculée']} ; météo déclarée : {rows['Météo déclarée']}. Jalons : "
        f"{rows['Jalons']} ; risques ouverts (dont de criticité 9 ou plus) : "
        f"{rows['Risques ouverts (dont criticité 9 ou plus)']}."
    )


# The table of a project's costs and durations: its columns, then its rows (the labels of
# ``scorecard_text``'s rows, one per column).
COLUMNS = [
    "Référence initiale",
    "Dernière référence",
    "Actuel",
    "Dérive depuis la référence initiale",
    "Dérive depuis la dernière référence",
]
TABLE_ROWS = [
    (
        "Coût",
        [
            "Coût, référence initiale",
            "Coût, dernière référence",
            "Coût, actuel",
            "Dérive budgétaire depuis la référence initiale",
            "Dérive budgétaire depuis la dernière référence",
        ],
    ),
    (
        "Durée",
        [
            "Durée, référence initiale",
            "Durée, dernière référence",
            "Durée, actuel",
            "Dérive calendaire depuis la référence initiale",
            "Dérive calendaire depuis la dernière référence",
        ],
    ),
]


def _project(row: ProjectView) -> dict[str, Any]:
    card = scorecard_text(row)
    figures = {str(label): str(value) for label, value in card.rows}
    return {
        "anchor": f"projet-{row.pilot_id}",
        "pilot_id": row.pilot_id,
        "name": row.name,
        "ministry": row.ministry,
        "ministry_name": ministry_name(row),
        "confidential": row.confidential,
        "description": row.get("description"),
        "summary": _summary(figures, row.confidential),
        # A confidential project's table would say "non communiqué" ten times: none.
        "rows": []
        if row.confidential
        else [(name, [figures[label] for label in labels]) for name, labels in TABLE_ROWS],
    }


def booklet_html(view: EditionView) -> str:
    """The booklet as one HTML document (what WeasyPrint lays out)."""
    subtitle = _subtitle(view)
    html = render(
        "livret.html.j2",
        title=f"{SITE_NAME} – {subtitle}",
        author=AUTHOR,
        subject=(
            "Coûts, calendriers et santé des grands projets numériques de l'État, projet par projet"
        ),
        subtitle=subtitle,
        columns=COLUMNS,
        running_footer=_css_string(f"{SITE_NAME} – {subtitle}"),
        demo=view.demo,
        cover_lines=_cover_lines(view),
        projects=[_project(row) for row in view.rows],
    )
    # French spacing in the text (not in the stylesheet: "@page :first" is no text).
    head, end_of_head, body = html.partition(b"</head>")
    return (head + end_of_head + french_spacing(body)).decode("utf-8")


def html_pdf(html: str) -> bytes:
    """The booklet's HTML (``booklet_html``) as a tagged PDF (PDF/UA-1)."""
    # Imported here: a second or so, which the draft's republishing (no booklet) spares.
    from weasyprint import HTML

    # WeasyPrint warns of every CSS property it ignores (none here): errors only.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    pdf = HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)
    assert pdf is not None
    return pdf


def booklet_pdf(view: EditionView) -> bytes:
    """The booklet as a tagged PDF (PDF/UA-1)."""
    return html_pdf(booklet_html(view))


def html_hash(html: str) -> str:
    """Names what the booklet would be: its HTML and the WeasyPrint that lays it out."""
    return hashlib.sha256(f"{version('weasyprint')}\n{html}".encode()).hexdigest()
