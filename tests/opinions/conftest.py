"""A small portfolio for the opinions: two ministries, their projects, their principals;
the loopback SMTP server and webhook receiver of the campaigns' tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine

from pilot.auth.models import Role
from pilot.auth.service import PUBLIC, Principal
from pilot.db import session_scope
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from tests.campaigns.conftest import mail_settings, smtp_server, webhook_receiver

__all__ = ["mail_settings", "smtp_server", "webhook_receiver"]

PDF = b"%PDF-1.7\n% dossier de saisine\n"


@dataclass(frozen=True)
class Portfolio:
    mi: int  # ministry ids
    mj: int
    cadre: int  # MI, in cadrage, 12 M€, no baseline: the first request
    second: int  # MI, in cadrage, 10 M€: the request left unanswered
    contracted: int  # MI, under contract at 15 M€ without an opinion: irregular
    small: int  # MI, 3 M€: below the threshold
    justice: int  # MJ, 20 M€: another ministry's
    ministry: Principal  # an agent of MI
    other: Principal  # an agent of MJ
    dinum: Principal
    admin: Principal
    public: Principal


@pytest.fixture
def portfolio(engine: Engine) -> Portfolio:
    with session_scope(engine, write=True) as s:
        mi = ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        mj = ministries.create_ministry(s, "MJ", "Ministère de la Justice")

        def project(ministry: object, name: str, phase: str, cost: int) -> int:
            p = projects.create_project(
                s,
                ministry=ministry,  # type: ignore[arg-type]
                name=name,
                on=date(2026, 1, 1),
                actor="test",
                phase=phase,
                start_date=date(2026, 1, 1),
            )
            projects.record_report(
                s,
                p,
                reported_on=date(2026, 11, 1),
                actor="test",
                phase=phase,
                current_cost_eur=cost,
                forecast_end=date(2028, 12, 31),
            )
            assert p.id is not None
            return p.id

        ids = dict(
            cadre=project(mi, "Nouvelle plateforme des titres", "Cadrage", 12_000_000),
            second=project(mi, "Portail des polices municipales", "Cadrage", 10_000_000),
            contracted=project(mi, "Radio du futur", "Conception / Réalisation", 15_000_000),
            small=project(mi, "Petit outil", "Cadrage", 3_000_000),
            justice=project(mj, "Procédure pénale numérique", "Cadrage", 20_000_000),
        )
        assert mi.id is not None and mj.id is not None
        return Portfolio(
            mi=mi.id,
            mj=mj.id,
            **ids,
            ministry=Principal(role=Role.MINISTRY, ministry_id=mi.id, name="agent@interieur"),
            other=Principal(role=Role.MINISTRY, ministry_id=mj.id, name="agent@justice"),
            dinum=Principal(role=Role.DINUM, name="avis@numerique"),
            admin=Principal(role=Role.ADMIN, name="admin@numerique"),
            public=PUBLIC,
        )
