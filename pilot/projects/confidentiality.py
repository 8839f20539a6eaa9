"""Confidentiality: what a confidential project shows the public, and what it withholds.

DINUM marks a project confidential (with a reason, and optionally an end date) while a
tender or a re-planning is under way. The public then sees its **identity** only: its
ministry, name, description, links, functional zone, financing and phase. Everything
else is **withheld**: costs, durations, dates (start date included), drift, computed
health, declared météo, re-baselines ("Rebasé"), milestones and risks.

This module is the one rule. It is applied to a project's published values when an
edition is frozen (``public_values``, ``public_columns``), and again whenever a frozen
row is read for a public channel (GraphQL, site pages and lists, charts and scorecards,
PDF, open data, trends, differences between editions): the rule keeps known keys only
(a list of what is shown, not of what is hidden), so a value added to the rows later is
withheld until someone decides it is part of a project's identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from pilot.projects import bulk
from pilot.projects.bulk import Stamp
from pilot.projects.models import Project

# The values (as an edition freezes them) a confidential project still shows.
IDENTITY_VALUES = frozenset(
    {
        "pilot_id",
        "ministry_code",
        "ministry_name",
        "name",
        "interministerial",
        "description",
        "link",
        "phase",
        "functional_zone",
        "programmes",
        "financing",
        "pap_link",
        "confidential",
        "entrant",
        "demo",
    }
)
# The historical open-data columns a confidential project still shows.
IDENTITY_COLUMNS = frozenset(
    {
        "Ministère porteur",
        "Ministère nom complet",
        "Nom du projet",
        "Projet interministériel",
        "Description et objectifs du projet",
        "En savoir plus sur le projet",
        "Phase du projet en cours",
        "Zone fonctionnelle",
        "Financement [programme(s)]",
        "Lien vers les Projets Annuels de Performances",
        "Date de publication",
    }
)
WITHHELD_CELL = "NA"  # what DINUM printed for a figure it did not publish
WITHHELD_CELLS = {"Début": ""}  # a date column: "NA" would not be a date
WITHHELD_BRACKET = "Non communiqué"
# What a reader is told in place of a withheld value.
WITHHELD_TEXT = "non communiqué (confidentiel)"


def in_force(confidential: bool, until: date | None, on: date) -> bool:
    """Whether a confidentiality decision holds on ``on`` (it ends after ``until``)."""
    return confidential and (until is None or on <= until)


def is_confidential(values: Mapping[str, Any]) -> bool:
    return bool(values.get("confidential"))


def _emptied(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, list | tuple):
        return []
    if isinstance(value, dict):
        return {}
    return None


def public_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as the public may read them: unchanged for a project that is not
    confidential; otherwise its identity only, every other value emptied."""
    if not is_confidential(values):
        return dict(values)
    shown = {k: (v if k in IDENTITY_VALUES else _emptied(v)) for k, v in values.items()}
    shown["cost_bracket"] = WITHHELD_BRACKET
    return shown


def public_columns(data: Mapping[str, Any], confidential: bool) -> dict[str, Any]:
    """The historical open-data columns as the public may read them (withheld: "NA")."""
    if not confidential:
        return dict(data)
    return {
        k: (v if k in IDENTITY_COLUMNS else WITHHELD_CELLS.get(k, WITHHELD_CELL))
        for k, v in data.items()
    }


# --- DINUM's decision ---------------------------------------------------------------------


class ConfidentialityError(ValueError):
    """A decision that cannot be recorded (French message)."""


def mark_confidential(
    session: Session,
    project: Project,
    *,
    reason: str,
    until: date | None,
    actor: str,
    today: date,
) -> int:
    """Mark ``project`` confidential (DINUM's decision): its figures are withheld from
    every edition published while the decision holds. Returns the audit events written
    (0 when the project already was, for the same reason and end)."""
    reason = reason.strip()
    if not reason:
        raise ConfidentialityError("Indiquez le motif de la confidentialité.")
    if until is not None and until < today:
        raise ConfidentialityError(
            f"La date de fin ({until.strftime('%d/%m/%Y')}) est déjà passée."
        )
    changes = {"confidential": True, "confidential_reason": reason, "confidential_until": until}
    return _decide(session, project, changes, actor)


def lift_confidentiality(session: Session, project: Project, *, actor: str) -> int:
    """Lift the decision: the next editions publish the project's figures again (the
    editions published meanwhile keep them withheld)."""
    changes = {"confidential": False, "confidential_reason": None, "confidential_until": None}
    return _decide(session, project, changes, actor)


def _decide(session: Session, project: Project, changes: dict[str, Any], actor: str) -> int:
    return bulk.update_one(session, project, changes, stamp=Stamp(actor))
