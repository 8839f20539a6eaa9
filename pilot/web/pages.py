"""Server-rendered pages: one Jinja2 environment (autoescaped), French formatting filters,
and ``render`` which gives every page who is logged in and the CSRF token of its forms."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pilot.mail.service import french_date
from pilot.money import format_decimal_fr, format_meur, format_percent
from pilot.opinions import service as opinions
from pilot.web.session import WebUser, csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"
PARIS = ZoneInfo("Europe/Paris")

WEATHER = {"soleil": "Soleil", "nuageux": "Nuageux", "orage": "Orage"}
HEALTH = {"vert": "Vert", "orange": "Orange", "rouge": "Rouge"}
STATUS = {
    "received": "En cours",
    "validated": "Vérifié, sans erreur",
    "rejected": "Refusé (erreurs à corriger)",
    "applied": "Importé",
    "failed": "Échec (rien d'appliqué)",
    "duplicate": "Déjà importé (rien de changé)",
}
ENTITIES = {
    "project": "projet",
    "report": "déclaration",
    "baseline": "référence",
    "milestone": "jalon",
    "risk": "risque",
    "budget_line": "ligne budgétaire",
}
ACTIONS = {"create": "création", "update": "modification", "delete": "suppression"}
# a ministry's status in a campaign (campaigns.service.MinistryState) → DSFR badge
CAMPAIGN_BADGES = {
    "non commencé": "fr-badge--info",
    "envoyé avec erreurs": "fr-badge--warning",
    "envoyé": "fr-badge--success",
    "en retard": "fr-badge--error",
}
ROLES = {"ministry": "Ministère", "dinum": "DINUM", "admin": "Administration"}
COUNTS = [
    ("projects_created", "projet créé", "projets créés"),
    ("projects_updated", "projet mis à jour", "projets mis à jour"),
    ("reports", "déclaration", "déclarations"),
    ("baselines", "référence", "références"),
    ("milestones_created", "jalon créé", "jalons créés"),
    ("milestones_updated", "jalon modifié", "jalons modifiés"),
    ("risks_created", "risque créé", "risques créés"),
    ("risks_updated", "risque modifié", "risques modifiés"),
    ("budget_lines_created", "ligne budgétaire créée", "lignes budgétaires créées"),
    ("budget_lines_updated", "ligne budgétaire modifiée", "lignes budgétaires modifiées"),
    ("recommendations_updated", "recommandation mise à jour", "recommandations mises à jour"),
]


def date_fr(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = format_percent(value)
    return ("+" + text) if value > 0 else text


def size_fr(size: int) -> str:
    """A file's size in French: "820 octets", "12,4 Ko", "3,2 Mo"."""
    if size < 1024:
        return f"{size} octet{'s' if size > 1 else ''}"
    for unit, power in (("Ko", 1), ("Mo", 2), ("Go", 3)):
        if size < 1024 ** (power + 1) or unit == "Go":
            return f"{format_decimal_fr(Decimal(size) / 1024**power, 1)}\u00a0{unit}"
    raise AssertionError(size)


def import_summary(counts: dict[str, Any]) -> str:
    """What an import changed (or would change), in French: "2 projets mis à jour, …"."""
    parts = []
    for key, one, many in COUNTS:
        n = int(counts.get(key) or 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    errors, warnings = int(counts.get("errors") or 0), int(counts.get("warnings") or 0)
    if errors:
        parts.append(f"{errors} erreur{'s' if errors > 1 else ''}")
    if warnings:
        parts.append(f"{warnings} avertissement{'s' if warnings > 1 else ''}")
    return ", ".join(parts) or "aucun changement"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(
    {
        "meur": format_meur,
        "percent": percent,
        "date_fr": date_fr,
        "long_date_fr": french_date,
        "datetime_fr": datetime_fr,
        "decimal_fr": format_decimal_fr,
        "import_summary": import_summary,
        "size_fr": size_fr,
    }
)
environment.globals.update(
    {
        "WEATHER": WEATHER,
        "HEALTH": HEALTH,
        "STATUS": STATUS,
        "ROLES": ROLES,
        "CAMPAIGN_BADGES": CAMPAIGN_BADGES,
        "ENTITIES": ENTITIES,
        "ACTIONS": ACTIONS,
        # DINUM's opinion: French labels of the domain's codes (docs/opinions.md)
        "OPINION_STATUS": opinions.STATUS_LABELS,
        "OPINION_EVENTS": opinions.EVENT_LABELS,
        "OBSERVERS": opinions.OBSERVER_LABELS,
        "SENSES": opinions.SENSE_LABELS,
        "AXES": opinions.AXIS_LABELS,
        "RATINGS": opinions.RATING_LABELS,
        "RECOMMENDATION_STATUS": opinions.RECOMMENDATION_LABELS,
    }
)


def render(
    request: Request,
    template: str,
    *,
    user: WebUser | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    page = environment.get_template(template).render(
        user=user, csrf_token=csrf_token(request), path=request.url.path, **context
    )
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})
