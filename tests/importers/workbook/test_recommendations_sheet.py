"""The Recommandations sheet of the ministry workbook: DINUM's recommendations on the
ministry's projects, prefilled and locked but for their status and a comment; a changed
status is checked with the rules of the ministry's space and applied through the same
domain write as its page (history and audit kept), in the import's transaction; an
unchanged row changes nothing, a dry run nothing at all; a workbook without the sheet
still imports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select
from sqlmodel import col

from importers.intake import submit
from importers.workbook.columns import MINISTRY_RECOMMENDATION_STATUSES, RECOMMENDATIONS
from importers.workbook.report import issues_of
from pilot.audit.models import AuditEvent
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.db import session_scope
from pilot.imports.models import ImportStatus
from pilot.opinions import service as opinions
from pilot.opinions.clock import today_in_paris
from pilot.opinions.models import Recommendation, RecommendationEvent, format_recommendation_id
from pilot.opinions.service import AxisInput, RecommendationInput
from pilot.projects.models import Project, format_pilot_id
from tests.importers.workbook.conftest import Seed, dump, set_cells, template_for, to_bytes

DINUM = Principal(role=Role.DINUM, name="avis@numerique")
GIVEN_ON = date(2025, 1, 6)
PDF = b"%PDF-1.7\n% dossier de saisine\n"
TEXTS = (
    "Désigner un directeur de projet à temps plein.",
    "Présenter un plan de reprise des données.",
    "Réviser le calendrier de déploiement.",
)


def give_recommendations(engine: Engine, project_id: int, texts: tuple[str, ...]) -> list[int]:
    """DINUM's opinion on the project, given on ``GIVEN_ON``, with these recommendations
    (all open): their ids, in order."""
    axes = [AxisInput(a, "to_improve", "À suivre.") for a in opinions.AXIS_LABELS]
    with session_scope(engine, write=True) as s:
        project = s.get(Project, project_id)
        assert project is not None
        request = opinions.open_request(s, DINUM, project, subject="Saisine", on=GIVEN_ON)
        opinions.add_document(s, DINUM, request, filename="dossier.pdf", data=PDF)
        opinions.receive_file(s, DINUM, request, on=GIVEN_ON)
        opinion = opinions.give_opinion(
            s,
            DINUM,
            request,
            sense="favourable_with_reservations",
            on=GIVEN_ON,
            axes=axes,
            recommendations=[
                RecommendationInput(t, "Secrétariat général", date(2027, 6, 30)) for t in texts
            ],
        )
        found = opinions.recommendations(s, DINUM, opinion_id=opinion.id)
        return sorted(r.id for r, _, _ in found if r.id is not None)


def _history(engine: Engine, rid: int) -> list[tuple[str, str, str | None, date]]:
    with session_scope(engine) as s:
        return [
            (e.status, e.actor, e.comment, e.changed_on)
            for e in s.scalars(
                select(RecommendationEvent)
                .where(col(RecommendationEvent.recommendation_id) == rid)
                .order_by(col(RecommendationEvent.id))
            )
        ]


def test_the_sheet_is_prefilled_with_the_ministrys_recommendations_locked_but_status_and_comment(
    engine: Engine, seed: Seed
) -> None:
    ids = give_recommendations(engine, seed.project_id, TEXTS)
    give_recommendations(engine, seed.other_project_id, ("Recommandation de la Justice.",))
    ws = template_for(engine, "MI")[RECOMMENDATIONS.name]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]
    assert [(r[0], r[1], r[3].date(), r[4], r[5], r[7], r[8]) for r in rows] == [
        (
            format_recommendation_id(rid),
            format_pilot_id(seed.project_id),
            GIVEN_ON,
            text,
            "Secrétariat général",
            "ouverte",
            None,
        )
        for rid, text in zip(ids, TEXTS, strict=True)
    ]
    assert ws.protection.sheet
    for index, column in enumerate(RECOMMENDATIONS.columns, start=1):
        for row in range(2, 2 + len(rows)):
            assert ws.cell(row=row, column=index).protection.locked == column.locked
    assert [c.header for c in RECOMMENDATIONS.columns if not c.locked] == [
        "Statut",
        "Commentaire",
    ]
    lists = {
        str(ref): v.formula1 for v in ws.data_validations.dataValidation for ref in v.sqref.ranges
    }
    assert lists == {f"H2:H{1 + len(rows)}": '"' + ",".join(MINISTRY_RECOMMENDATION_STATUSES) + '"'}
    assert MINISTRY_RECOMMENDATION_STATUSES == ("ouverte", "en cours", "close")


def test_changed_statuses_are_applied_with_history_and_audit_and_a_dry_run_applies_nothing(
    engine: Engine, seed: Seed
) -> None:
    ids = give_recommendations(engine, seed.project_id, TEXTS)
    untouched = template_for(engine, "MI")
    book = template_for(engine, "MI")
    ws = book[RECOMMENDATIONS.name]
    set_cells(ws, 2, {"Statut": "en cours", "Commentaire": "Recrutement lancé."})
    set_cells(ws, 3, {"Statut": "Close"})  # case and accents are forgiven
    data = to_bytes(book)

    before = dump(engine)
    dry = submit(
        data=data,
        filename="c.xlsx",
        ministry_code="MI",
        submitted_by="agent@mi",
        channel="cli",
        dry_run=True,
    )
    assert dry.status == ImportStatus.VALIDATED.value, dry
    assert dry.counts["recommendations_updated"] == 2
    assert dump(engine) == before

    done = submit(
        data=data, filename="c.xlsx", ministry_code="MI", submitted_by="agent@mi", channel="cli"
    )
    assert done.status == ImportStatus.APPLIED.value, done
    assert done.counts["recommendations_updated"] == 2
    assert _history(engine, ids[0]) == [
        ("open", "avis@numerique", None, GIVEN_ON),
        ("in_progress", "agent@mi", "Recrutement lancé.", today_in_paris()),
    ]
    assert _history(engine, ids[1])[-1] == ("closed", "agent@mi", None, today_in_paris())
    assert _history(engine, ids[2]) == [("open", "avis@numerique", None, GIVEN_ON)]
    with session_scope(engine) as s:
        statuses = {r.id: r.status for r in s.scalars(select(Recommendation))}
        assert statuses == {ids[0]: "in_progress", ids[1]: "closed", ids[2]: "open"}
        audited = s.scalars(
            select(AuditEvent).where(
                col(AuditEvent.entity) == "recommendation", col(AuditEvent.field) == "status"
            )
        ).all()
        assert sorted((a.entity_id, a.old_value, a.new_value, a.actor) for a in audited) == [
            (ids[0], "open", "in_progress", "agent@mi"),
            (ids[1], "open", "closed", "agent@mi"),
        ]

    # The workbook downloaded before: its rows now differ from PILOT's only by what
    # others changed since; a fresh one, sent back as it is, changes nothing.
    fresh = template_for(engine, "MI")
    assert [c.value for c in fresh[RECOMMENDATIONS.name]["H"][1:4]] == [
        "en cours",
        "close",
        "ouverte",
    ]
    before = dump(engine)
    again = submit(
        data=to_bytes(fresh),
        filename="d.xlsx",
        ministry_code="MI",
        submitted_by="agent@mi",
        channel="cli",
    )
    assert again.status == ImportStatus.APPLIED.value and again.errors == 0, again
    assert again.counts["recommendations_updated"] == 0
    after = dump(engine)
    assert after["recommendation_event"] == before["recommendation_event"]
    assert after["recommendation"] == before["recommendation"]
    # The stale workbook, sent back: it would reopen them, a change like any other.
    stale = submit(
        data=to_bytes(untouched),
        filename="e.xlsx",
        ministry_code="MI",
        submitted_by="agent@mi",
        channel="cli",
        dry_run=True,
    )
    assert stale.counts["recommendations_updated"] == 2


def test_bad_rows_get_french_findings_at_their_cells_and_nothing_is_applied(
    engine: Engine, seed: Seed
) -> None:
    ids = give_recommendations(engine, seed.project_id, TEXTS)
    [foreign] = give_recommendations(engine, seed.other_project_id, ("De la Justice.",))
    book = template_for(engine, "MI")
    ws = book[RECOMMENDATIONS.name]
    set_cells(ws, 2, {"Statut": "abandonnée", "Commentaire": "Plus utile."})
    set_cells(ws, 3, {"Statut": "terminée"})
    set_cells(ws, 4, {"Commentaire": "Sans changement de statut."})
    set_cells(ws, 5, {"Référence": format_recommendation_id(foreign), "Statut": "close"})
    set_cells(ws, 6, {"Référence": "REC-99999", "Statut": "close"})
    set_cells(ws, 7, {"Référence": format_recommendation_id(ids[0]), "Statut": "close"})
    set_cells(ws, 8, {"Référence": format_recommendation_id(ids[1]), "Statut": None})
    before = dump(engine)
    outcome = submit(
        data=to_bytes(book),
        filename="c.xlsx",
        ministry_code="MI",
        submitted_by="agent@mi",
        channel="cli",
    )
    assert outcome.status == ImportStatus.REJECTED.value
    assert dump(engine) == before
    with session_scope(engine) as s:
        found = {
            (i.row, i.column): (i.severity.value, i.message)
            for i in issues_of(s, outcome.import_id)
            if i.sheet == RECOMMENDATIONS.name
        }
    assert found[(2, "H")] == (
        "error",
        "Seule la DINUM peut abandonner une recommandation. Statut enregistré : « ouverte ».",
    )
    assert found[(3, "H")][0] == "error"
    assert "Valeur non permise : choisissez parmi ouverte, en cours, close" in found[(3, "H")][1]
    assert found[(4, "I")] == (
        "warning",
        "Le statut n'a pas changé (« ouverte ») : le commentaire n'a pas été enregistré, car "
        "un commentaire n'est enregistré qu'avec un changement de statut.",
    )
    unknown = (
        "ne correspond à aucune recommandation d'un avis de la DINUM sur un projet de votre "
        "ministère"
    )
    assert found[(5, "A")][0] == "error" and unknown in found[(5, "A")][1]
    assert found[(6, "A")][0] == "error" and unknown in found[(6, "A")][1]
    assert found[(7, "A")] == (
        "error",
        f"La recommandation {format_recommendation_id(ids[0])} figure déjà ligne 2 : gardez "
        "une seule ligne par recommandation.",
    )
    assert found[(8, "H")] == ("error", "La colonne « Statut » est obligatoire : remplissez-la.")


def test_a_workbook_without_the_recommendations_sheet_still_imports(
    engine: Engine, seed: Seed
) -> None:
    give_recommendations(engine, seed.project_id, TEXTS)
    book = template_for(engine, "MI")
    del book[RECOMMENDATIONS.name]
    outcome = submit(
        data=to_bytes(book),
        filename="old.xlsx",
        ministry_code="MI",
        submitted_by="agent@mi",
        channel="cli",
    )
    assert outcome.status == ImportStatus.APPLIED.value, outcome
    assert (outcome.errors, outcome.warnings) == (0, 0)
    assert outcome.counts["recommendations_updated"] == 0
