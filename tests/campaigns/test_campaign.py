"""A whole campaign on a clock the test controls: opened, two ministries send (one with
errors, one valid), a third sends nothing; reminders arrive in a real SMTP server on the
right days, the late ministries are shown late, and the campaign closes into an edition
preview. Imports go through ``importers.intake.submit`` then the job queue runs their
follow-up (``pilot.jobs.service.run_due``), as every channel does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from importers.intake import submit
from pilot.campaigns import service as campaigns
from pilot.campaigns.service import MinistryState
from pilot.config import Settings
from pilot.db import session_scope
from pilot.indicators.service import is_stale
from pilot.jobs.service import run_due
from pilot.mail.service import deliver, french_date
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.timeutil import today
from tests.campaigns.conftest import SmtpServer, html_of, set_cells, template_for, text_of, to_bytes
from tests.importers.workbook.conftest import Seed

MI_AGENT = "agent@interieur.gouv.fr"
MJ_AGENT = "agent@justice.gouv.fr"


def _send(engine: Engine, code: str, data: bytes) -> str:
    outcome = submit(
        data=data, filename=f"{code}.xlsx", ministry_code=code, submitted_by="test", channel="web"
    )
    run_due(engine)  # the jobs job's work (every few seconds in production)
    deliver(engine)  # the outbox job's work (every minute in production)
    return outcome.status


def _states(engine: Engine, on: object) -> dict[str, MinistryState]:
    with session_scope(engine) as s:
        campaign = campaigns.latest_campaign(s)
        assert campaign is not None
        return {r.code: r.state for r in campaigns.ministry_statuses(s, campaign, on=on)}  # type: ignore[arg-type]


def _remind(engine: Engine, on: object) -> list[tuple[str, str, int]]:
    with session_scope(engine, write=True) as s:
        done = campaigns.remind(s, on=on)  # type: ignore[arg-type]
    deliver(engine)
    return [(r.ministry, r.kind, r.queued) for r in done]


def test_a_whole_campaign(
    engine: Engine, seed: Seed, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    start = today()  # imports are stamped with the real clock; reminders use ``on``
    deadline = start + timedelta(days=10)
    with session_scope(engine, write=True) as s:
        ministries.create_ministry(s, "MEF", "Ministère de l'Économie")
        campaigns.add_contact(s, ministry_code="MI", email=MI_AGENT, actor="test")
        campaigns.add_contact(s, ministry_code="MJ", email=MJ_AGENT, actor="test")
        campaign = campaigns.open_campaign(
            s, title="Remontée de test", deadline=deadline, on=start, actor="test"
        )
        assert len(campaigns.concerned_ministries(s, campaign)) == 3
        # stale now means: nothing sent since the campaign opened
        assert campaigns.stale_before(s, today=start) == start
        project = projects.get_project(s, f"PRJ-{seed.project_id:05d}")
        assert project is not None and project.id is not None
        assert is_stale(projects.latest_report(s, project.id), since=start)

    assert _states(engine, start) == dict.fromkeys(("MEF", "MI", "MJ"), MinistryState.NOT_STARTED)
    assert _remind(engine, start) == []  # ten days left: no reminder yet
    assert _remind(engine, start + timedelta(days=3)) == [
        ("MEF", "before", 0),  # no contact
        ("MI", "before", 1),
        ("MJ", "before", 1),
    ]
    assert [m["To"] for m in smtp_server.messages] == [MI_AGENT, MJ_AGENT]
    reminder = smtp_server.messages[0]
    assert french_date(deadline) in reminder["Subject"]
    assert f"au plus tard le {french_date(deadline)}. Il reste 7 jours." in text_of(reminder)
    assert french_date(deadline) in html_of(reminder)
    assert [q for *_, q in _remind(engine, start + timedelta(days=4))] == [0, 0, 0]  # once
    assert len(smtp_server.messages) == 2

    # MI sends its workbook; MJ sends one with an error
    assert _send(engine, "MI", to_bytes(template_for(engine, "MI"))) == "applied"
    book = template_for(engine, "MJ")
    set_cells(book["Projets"], 2, {"Météo": "grêle"})
    assert _send(engine, "MJ", to_bytes(book)) == "rejected"
    summaries = smtp_server.messages[2:]
    assert [m["To"] for m in summaries] == [MI_AGENT, MJ_AGENT]
    assert "a été importé" in text_of(summaries[0])
    assert "refusé" in summaries[1]["Subject"]
    assert "feuille « Projets », ligne 2, colonne" in text_of(summaries[1])
    assert _states(engine, start + timedelta(days=5)) == {
        "MEF": MinistryState.NOT_STARTED,
        "MI": MinistryState.SENT,
        "MJ": MinistryState.SENT_WITH_ERRORS,
    }
    with session_scope(engine) as s:
        assert not is_stale(projects.latest_report(s, seed.project_id), since=start)

    # two days before: only the ministries that have not sent are reminded
    assert _remind(engine, start + timedelta(days=8)) == [("MEF", "before", 0), ("MJ", "before", 1)]
    last = smtp_server.messages[-1]
    assert last["To"] == MJ_AGENT
    assert "Il reste 2 jours." in text_of(last)
    assert "a été refusé" in text_of(last)

    # the deadline passes: MJ and MEF are late, and MJ is told so the day after
    assert _remind(engine, deadline) == [("MEF", "before", 0), ("MJ", "before", 0)]
    late_day = deadline + timedelta(days=1)
    assert _states(engine, late_day) == {
        "MEF": MinistryState.LATE,
        "MI": MinistryState.SENT,
        "MJ": MinistryState.LATE,
    }
    assert _remind(engine, late_day) == [("MEF", "late", 0), ("MJ", "late", 1)]
    late = smtp_server.messages[-1]
    assert "retard" in late["Subject"]
    assert f"était le {french_date(deadline)}" in text_of(late)
    assert [q for *_, q in _remind(engine, late_day + timedelta(days=3))] == [0, 0]
    assert [q for *_, q in _remind(engine, late_day + timedelta(days=7))] == [0, 1]  # weekly

    # closing proposes the edition built from the data
    with session_scope(engine, write=True) as s:
        closed = campaigns.close_campaign(s, on=late_day)
        assert closed.period_end == late_day and not closed.is_open
        assert campaigns.current_campaign(s) is None
    with session_scope(engine) as s:
        edition = campaigns.edition_preview(s, on=late_day)
        assert edition.id is None  # a preview: nothing published
        assert edition.figures["projects"] >= 1
    assert _remind(engine, late_day + timedelta(days=14)) == []  # closed: no more reminders


def test_opening_refuses_a_second_campaign_and_a_past_deadline(engine: Engine, seed: Seed) -> None:
    start = today()
    with session_scope(engine, write=True) as s:
        with pytest.raises(campaigns.CampaignError, match="passée"):
            campaigns.open_campaign(
                s, title="T", deadline=start - timedelta(days=1), on=start, actor="t"
            )
        campaigns.open_campaign(
            s, title="T", deadline=start, ministry_codes=["MI"], on=start, actor="t"
        )
        with pytest.raises(campaigns.CampaignError, match="encore ouverte"):
            campaigns.open_campaign(s, title="U", deadline=start, on=start, actor="t")
        with pytest.raises(campaigns.CampaignError, match="inconnu"):
            campaigns.add_contact(s, ministry_code="XX", email="a@b.fr", actor="t")
        with pytest.raises(campaigns.CampaignError, match="invalide"):
            campaigns.add_contact(s, ministry_code="MI", email="pas une adresse", actor="t")
