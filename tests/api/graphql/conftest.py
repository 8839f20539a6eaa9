"""A demo database: the two real panorama editions, plus baselines, reports, milestones,
risks and tokens for every role, served by the real app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from importers.panorama import import_panorama_file
from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.imports.models import Finding, ImportFile
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.projects import steering
from pilot.projects.models import Project, Risk

TODAY = date.today()
ROOT = Path(__file__).resolve().parents[3]
OPERATIONS = ROOT / "graphql" / "operations"


@dataclass
class Demo:
    client: TestClient
    tokens: dict[str, str]  # role name → bearer token ("ministry" is MI, "other" is MJ)
    drifting: str  # PILOT id of an MI project drifting 40 %, météo soleil, late milestone
    confidential: str  # an MJ project, confidential, drifting 50 %
    rebaselined: str  # an MI project re-baselined
    other_ministry: str  # an MJ project (for a ministry token on MI: another ministry)
    milestone_id: int
    risk_id: int
    mi_id: int

    def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        role: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def operation(
        self,
        name: str,
        variables: dict[str, Any] | None = None,
        role: str | None = None,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        """Run the documented operation ``name`` (``operation_name``: which one, in a file
        that holds several)."""
        query = (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")
        if operation_name is None:
            return self.gql(query, variables, role)
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}, "operationName": operation_name},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def first_project(session: Session, code: str, skip: int = 0) -> Project:
    ministry = ministries.get_by_code(session, code)
    assert ministry is not None
    rows = session.exec(
        select(Project)
        .where(Project.ministry_id == ministry.id, col(Project.in_panorama).is_(True))
        .order_by(col(Project.id))
    ).all()
    return rows[skip]


def build_demo(session: Session, panorama_dir: Path) -> dict[str, Any]:
    for name in ("panorama-2016-11.csv", "panorama-2017-06.csv"):
        import_panorama_file(session, panorama_dir / name)
    actor = "test"
    drifting = first_project(session, "MI")
    initial, _ = projects.baselines_by_project(session, [drifting.id or 0])[drifting.id or 0]
    assert initial is not None and initial.cost_eur
    projects.record_report(
        session,
        drifting,
        reported_on=TODAY - timedelta(days=10),
        actor=actor,
        current_cost_eur=initial.cost_eur * 14 // 10,
        forecast_end=initial.end_date,
        weather="soleil",
        phase="Déploiement",
        comment="Surcoût lié au changement de prestataire.",
    )
    late = steering.add_milestone(
        session,
        drifting,
        name="Mise en service nationale",
        actor=actor,
        baseline_date=TODAY - timedelta(days=60),
        forecast_date=TODAY + timedelta(days=90),
    )
    steering.add_milestone(
        session,
        drifting,
        name="Pilote",
        actor=actor,
        baseline_date=TODAY - timedelta(days=400),
        actual_date=TODAY - timedelta(days=390),
    )
    # A legacy critical risk without mitigation (as imported before the rule existed).
    critical = Risk(
        project_id=drifting.id or 0,
        title="Dépendance à un prestataire unique",
        probability=4,
        impact=4,
        status="ouvert",
    )
    session.add(critical)
    steering.add_risk(
        session,
        drifting,
        title="Retard de la recette",
        probability=2,
        impact=2,
        actor=actor,
    )
    confidential = first_project(session, "MJ")
    confidential.confidential = True
    base, _ = projects.baselines_by_project(session, [confidential.id or 0])[confidential.id or 0]
    assert base is not None and base.cost_eur
    projects.record_report(
        session,
        confidential,
        reported_on=TODAY - timedelta(days=5),
        actor=actor,
        current_cost_eur=base.cost_eur * 15 // 10,
        weather="orage",
    )
    rebased = first_project(session, "MI", skip=1)
    projects.rebaseline(
        session,
        rebased,
        reason="Extension du périmètre à l'outre-mer",
        approved_on=TODAY - timedelta(days=30),
        cost_eur=200_000_000,
        start_date=rebased.start_date,
        end_date=TODAY + timedelta(days=700),
        actor=actor,
    )
    mi = ministries.get_by_code(session, "MI")
    mj = ministries.get_by_code(session, "MJ")
    tokens = {
        "dinum": auth.create_token(session, actor="test", name="dinum", role=Role.DINUM)[1],
        "admin": auth.create_token(session, actor="test", name="admin", role=Role.ADMIN)[1],
        "ministry": auth.create_token(
            session, actor="test", name="dnum MI", role=Role.MINISTRY, ministry=mi
        )[1],
        "other": auth.create_token(
            session, actor="test", name="dnum MJ", role=Role.MINISTRY, ministry=mj
        )[1],
    }
    assert mi is not None and mi.id is not None and mj is not None
    for ministry, name in ((mi, "pilot-MI-2017.xlsx"), (mj, "pilot-MJ-2017.xlsx")):
        record = ImportFile(
            ministry_id=ministry.id,
            filename=name,
            sha256=f"{ministry.id or 0:064d}",
            size_bytes=1234,
            stored_path=f"var/uploads/{name}",
            submitted_by="inbox",
            channel="inbox",
            status="rejected",
        )
        session.add(record)
        session.flush()
        session.add(
            Finding(
                import_id=record.id or 0,
                sheet="Projets",
                row=7,
                column="F",
                field="cost",
                value="douze",
                code="invalid_amount",
                message="« douze » n'est pas un montant : écrivez-le en chiffres (12 M€).",
                severity="error",
            )
        )
    session.flush()
    return {
        "tokens": tokens,
        "drifting": drifting.pilot_id,
        "confidential": confidential.pilot_id,
        "rebaselined": rebased.pilot_id,
        "other_ministry": first_project(session, "MJ", skip=1).pilot_id,
        "milestone_id": late.id,
        "risk_id": critical.id,
        "mi_id": mi.id,
    }


@pytest.fixture
def demo(engine: Engine, panorama_dir: Path) -> Demo:
    with Session(engine) as session:
        built = build_demo(session, panorama_dir)
        session.commit()
    return Demo(client=TestClient(create_app()), **built)
