"""The ministry workbook, defined once: sheets, columns, French headers, enumerations.

The template (``template.py``), the reader (``reader.py``) and the validation
(``validate.py``) all read these definitions, so a header or a list of allowed values
is changed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pilot.opinions.models import RECOMMENDATION_LABELS, RecommendationStatus
from pilot.projects.models import BudgetKind, Phase, RiskStatus, RiskTrend, Weather
from pilot.text import normalize_key


class Kind(StrEnum):
    TEXT = "text"
    PILOT_ID = "pilot_id"  # PRJ-00042
    MONEY = "money"  # integer euros
    DATE = "date"
    BOOL = "bool"  # Oui / Non
    CHOICE = "choice"  # one of ``choices``
    SCORE = "score"  # 1 to 4
    YEAR = "year"


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: Kind
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    width: int = 18
    example: str = ""  # shown in the Lisez-moi sheet, as an agent would type it
    locked: bool = False  # owned by PILOT: protected in the template, grey
    # the template's drop-down list when narrower than ``choices`` (values read but
    # not offered: a status only DINUM sets)
    offered: tuple[str, ...] = ()
    free_text: bool = False  # stored as typed (line breaks, non-breaking spaces, "…")

    @property
    def key(self) -> str:
        return normalize_key(self.header)


@dataclass(frozen=True)
class Sheet:
    name: str
    help: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...]  # fields that identify a row (duplicates are refused)

    def column(self, field: str) -> Column:
        for column in self.columns:
            if column.field == field:
                return column
        raise KeyError(field)

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]


YES, NO = "Oui", "Non"
PHASES = tuple(p.value for p in Phase)
WEATHERS = tuple(w.value for w in Weather)
RISK_STATUSES = tuple(s.value for s in RiskStatus)
RISK_TRENDS = tuple(t.value for t in RiskTrend)
BUDGET_KINDS = tuple(k.value for k in BudgetKind)
SCORES = ("1", "2", "3", "4")

PILOT_ID = Column(
    "pilot_id",
    "Identifiant PILOT",
    Kind.PILOT_ID,
    "Attribué par PILOT (PRJ-00042). Ne le modifiez pas ; laissez-le vide pour un nouveau projet.",
    width=16,
    example="PRJ-00042",
    locked=True,
)


def _project_ref(sheet: str) -> tuple[Column, Column]:
    return (
        Column(
            "pilot_id",
            "Identifiant PILOT",
            Kind.PILOT_ID,
            f"Le projet auquel se rattache la ligne de l'onglet {sheet} (PRJ-00042). Pour un "
            "nouveau projet, qui n'a pas encore d'identifiant, laissez-le vide et "
            "indiquez le nom du projet.",
            width=16,
            example="PRJ-00042",
        ),
        Column(
            "project_name",
            "Nom du projet",
            Kind.TEXT,
            "Le nom du projet, tel qu'il figure dans l'onglet Projets. Obligatoire si "
            "l'identifiant PILOT est vide.",
            max_length=300,
            width=36,
            example="Réseau Radio du Futur",
        ),
    )


PROJECTS = Sheet(
    "Projets",
    "Une ligne par projet du ministère.",
    (
        PILOT_ID,
        Column(
            "name",
            "Nom du projet",
            Kind.TEXT,
            "Le nom usuel du projet.",
            True,
            max_length=300,
            width=36,
            example="Réseau Radio du Futur",
        ),
        Column(
            "description",
            "Description",
            Kind.TEXT,
            "Objectifs du projet.",
            width=40,
            example="Doter les forces de sécurité d'un réseau radio à haut débit.",
            free_text=True,
        ),
        Column(
            "link",
            "Lien",
            Kind.TEXT,
            "Adresse d'une page présentant le projet.",
            max_length=1000,
            width=30,
            example="https://www.interieur.gouv.fr/rrf",
        ),
        Column(
            "interministerial",
            "Projet interministériel",
            Kind.BOOL,
            "« Oui » si le projet concerne plusieurs ministères, sinon « Non ».",
            choices=(YES, NO),
            width=20,
            example=YES,
        ),
        Column(
            "functional_zone",
            "Zone fonctionnelle",
            Kind.TEXT,
            "Le domaine fonctionnel du projet (par exemple « Ressources humaines »).",
            max_length=300,
            width=22,
            example="Ressources humaines",
        ),
        Column(
            "programmes",
            "Programmes LOLF",
            Kind.TEXT,
            "Le ou les numéros de programme qui financent le projet (« 129 » ou « 156, 218 »).",
            max_length=200,
            width=16,
            example="156, 218",
        ),
        Column(
            "phase",
            "Phase",
            Kind.CHOICE,
            "La phase actuelle du projet (liste).",
            True,
            PHASES,
            width=24,
            example=Phase.CONCEPTION.value,
        ),
        Column(
            "start_date",
            "Date de début",
            Kind.DATE,
            "Date de lancement du projet (JJ/MM/AAAA).",
            example="01/03/2021",
        ),
        Column(
            "baseline_cost",
            "Coût de référence (€)",
            Kind.MONEY,
            "Coût complet approuvé, en euros (construction, personnel interne et deux ans de "
            "fonctionnement). Fixé une fois : le modifier est un rebasage, qui exige un motif.",
            example="12 500 000",
        ),
        Column(
            "baseline_start",
            "Début de référence",
            Kind.DATE,
            "Date de début approuvée. Fixée une fois (voir le motif du rebasage).",
            example="01/03/2021",
        ),
        Column(
            "baseline_end",
            "Fin de référence",
            Kind.DATE,
            "Date de fin approuvée. Fixée une fois (voir le motif du rebasage).",
            example="31/12/2025",
        ),
        Column(
            "rebaseline_reason",
            "Motif du rebasage",
            Kind.TEXT,
            "À remplir uniquement pour changer la référence (coût, début ou fin de "
            "référence) : la raison du rebasage. La référence initiale reste conservée.",
            width=30,
            example="Extension du projet aux services déconcentrés, décidée en comité.",
            free_text=True,
        ),
        Column(
            "current_cost",
            "Coût actualisé (€)",
            Kind.MONEY,
            "Votre estimation actuelle du coût complet, en euros.",
            example="13 200 000",
        ),
        Column(
            "forecast_end",
            "Fin prévisionnelle",
            Kind.DATE,
            "Date de fin que vous prévoyez aujourd'hui (JJ/MM/AAAA).",
            example="30/06/2026",
        ),
        Column(
            "weather",
            "Météo",
            Kind.CHOICE,
            "Votre appréciation de la situation : soleil, nuageux ou orage.",
            choices=WEATHERS,
            width=12,
            example=Weather.NUAGEUX.value,
        ),
        Column(
            "comment",
            "Commentaire",
            Kind.TEXT,
            "Tout commentaire utile ; obligatoire pour expliquer une baisse du coût actualisé.",
            width=40,
            example="Coût revu à la baisse après la renégociation du marché.",
            free_text=True,
        ),
    ),
    unique=("pilot_id",),
)

MILESTONES = Sheet(
    "Jalons",
    "Une ligne par jalon d'un projet. Une ligne absente du classeur n'est pas supprimée.",
    (
        *_project_ref("Jalons"),
        Column(
            "name",
            "Jalon",
            Kind.TEXT,
            "Le nom du jalon.",
            True,
            max_length=300,
            width=36,
            example="Mise en service pilote",
        ),
        Column(
            "baseline_date",
            "Date de référence",
            Kind.DATE,
            "Date prévue à l'origine.",
            example="01/09/2023",
        ),
        Column(
            "forecast_date",
            "Date prévisionnelle",
            Kind.DATE,
            "Date prévue aujourd'hui.",
            example="15/01/2024",
        ),
        Column(
            "actual_date",
            "Date réelle",
            Kind.DATE,
            "Date à laquelle le jalon a été atteint (pas dans le futur).",
            example="22/01/2024",
        ),
    ),
    unique=("project", "name"),
)

RISKS = Sheet(
    "Risques",
    "Une ligne par risque d'un projet. Pour clore un risque, passez son statut à « clos ».",
    (
        *_project_ref("Risques"),
        Column(
            "title",
            "Risque",
            Kind.TEXT,
            "L'intitulé du risque.",
            True,
            max_length=300,
            width=36,
            example="Retard du titulaire du marché",
        ),
        Column(
            "category",
            "Catégorie",
            Kind.TEXT,
            "Par exemple : technique, achats, RH.",
            max_length=100,
            example="achats",
        ),
        Column(
            "probability",
            "Probabilité (1 à 4)",
            Kind.SCORE,
            "1 : peu probable … 4 : quasi certain.",
            True,
            SCORES,
            width=14,
            example="3",
        ),
        Column(
            "impact",
            "Impact (1 à 4)",
            Kind.SCORE,
            "1 : faible … 4 : majeur. La criticité est probabilité × impact.",
            True,
            SCORES,
            width=14,
            example="4",
        ),
        Column(
            "owner",
            "Responsable",
            Kind.TEXT,
            "Qui suit ce risque.",
            max_length=200,
            example="Directrice de projet",
        ),
        Column(
            "mitigation",
            "Mesures de réduction",
            Kind.TEXT,
            "Obligatoire pour un risque ouvert dont la criticité atteint 9 ou plus.",
            width=40,
            example="Pénalités de retard ; point hebdomadaire avec le titulaire.",
            free_text=True,
        ),
        Column(
            "status",
            "Statut",
            Kind.CHOICE,
            "ouvert ou clos (vide : ouvert).",
            choices=RISK_STATUSES,
            width=12,
            example=RiskStatus.OUVERT.value,
        ),
        Column(
            "trend",
            "Tendance",
            Kind.CHOICE,
            "hausse, stable ou baisse.",
            choices=RISK_TRENDS,
            width=12,
            example=RiskTrend.HAUSSE.value,
        ),
        Column(
            "opened_on",
            "Date d'ouverture",
            Kind.DATE,
            "Date à laquelle le risque a été identifié.",
            example="15/02/2023",
        ),
        Column(
            "closed_on",
            "Date de clôture",
            Kind.DATE,
            "Date de clôture d'un risque clos (vide : la date de l'import).",
            example="30/06/2024",
        ),
    ),
    unique=("project", "title"),
)

BUDGET = Sheet(
    "Budget",
    "Une ligne par projet, année et nature de dépense.",
    (
        *_project_ref("Budget"),
        Column(
            "year",
            "Année",
            Kind.YEAR,
            "L'exercice budgétaire (par exemple 2024).",
            True,
            width=10,
            example="2024",
        ),
        Column(
            "kind",
            "Nature",
            Kind.CHOICE,
            "build : construction du projet ; run : fonctionnement.",
            True,
            BUDGET_KINDS,
            width=10,
            example=BudgetKind.BUILD.value,
        ),
        Column(
            "planned",
            "Montant prévu (€)",
            Kind.MONEY,
            "Crédits prévus pour l'année, en euros.",
            example="2 000 000",
        ),
        Column(
            "consumed",
            "Montant consommé (€)",
            Kind.MONEY,
            "Crédits consommés, en euros.",
            example="1 750 000",
        ),
    ),
    unique=("project", "year", "kind"),
)

# A recommendation's status as the workbook writes it, and the ones a ministry may choose
# (« abandonnée » is DINUM's: read, never offered).
RECOMMENDATION_STATUSES = tuple(RECOMMENDATION_LABELS[s] for s in RecommendationStatus)
MINISTRY_RECOMMENDATION_STATUSES = tuple(
    RECOMMENDATION_LABELS[s] for s in RecommendationStatus if s != RecommendationStatus.DROPPED
)
STATUS_OF_LABEL = {label: status.value for status, label in RECOMMENDATION_LABELS.items()}

RECOMMENDATIONS = Sheet(
    "Recommandations",
    "Une ligne par recommandation d'un avis de la DINUM sur un projet du ministère, "
    "préremplie par PILOT : mettez à jour son statut, avec un commentaire.",
    (
        Column(
            "recommendation_id",
            "Référence",
            Kind.TEXT,
            "Attribuée par PILOT (REC-00012). Ne la modifiez pas.",
            True,
            max_length=20,
            width=12,
            example="REC-00012",
            locked=True,
        ),
        Column(
            "pilot_id",
            "Identifiant PILOT",
            Kind.PILOT_ID,
            "Le projet sur lequel porte l'avis (PRJ-00042).",
            width=16,
            example="PRJ-00042",
            locked=True,
        ),
        Column(
            "project_name",
            "Nom du projet",
            Kind.TEXT,
            "Le nom du projet.",
            width=30,
            example="Réseau Radio du Futur",
            locked=True,
        ),
        Column(
            "opinion_date",
            "Date de l'avis",
            Kind.DATE,
            "Le jour où la DINUM a rendu son avis.",
            example="05/01/2027",
            locked=True,
        ),
        Column(
            "text",
            "Recommandation",
            Kind.TEXT,
            "Le texte de la recommandation, tel que la DINUM l'a rédigé.",
            width=50,
            example="Désigner un directeur de projet à temps plein.",
            locked=True,
            free_text=True,
        ),
        Column(
            "owner",
            "Responsable",
            Kind.TEXT,
            "Qui doit mettre en œuvre la recommandation.",
            width=20,
            example="Secrétariat général",
            locked=True,
        ),
        Column(
            "due_on",
            "Échéance",
            Kind.DATE,
            "La date à laquelle la recommandation doit être close.",
            example="30/06/2027",
            locked=True,
        ),
        Column(
            "status",
            "Statut",
            Kind.CHOICE,
            "ouverte, en cours ou close ; seule la DINUM peut abandonner une "
            "recommandation (« abandonnée »).",
            True,
            RECOMMENDATION_STATUSES,
            width=14,
            example=RECOMMENDATION_LABELS[RecommendationStatus.IN_PROGRESS],
            offered=MINISTRY_RECOMMENDATION_STATUSES,
        ),
        Column(
            "comment",
            "Commentaire",
            Kind.TEXT,
            "Ce qui a été fait, enregistré avec le changement de statut (un commentaire "
            "sans changement de statut n'est pas enregistré).",
            width=40,
            example="Directeur de projet nommé le 1er mars.",
            free_text=True,
        ),
    ),
    unique=("recommendation_id",),
)

SHEETS: tuple[Sheet, ...] = (PROJECTS, MILESTONES, RISKS, BUDGET)
# Sheets a workbook may leave out without a warning (older workbooks have none of them).
OPTIONAL_SHEETS: tuple[Sheet, ...] = (RECOMMENDATIONS,)
ALL_SHEETS: tuple[Sheet, ...] = (*SHEETS, *OPTIONAL_SHEETS)
README_SHEET = "Lisez-moi"
SHEET_BY_KEY = {normalize_key(s.name): s for s in ALL_SHEETS}


def column_letter(index: int) -> str:
    """0 → ``A``, 25 → ``Z``, 26 → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
