"""Campaigns, early warning and the milestone trend in the web spaces, logged in through the
real OpenID Connect provider: a ministry's space shows the open campaign's deadline (as a
French date) and its own status, and nothing when no campaign is open; DINUM's campaign
page lists each concerned ministry's status; DINUM sorts the portfolio by early-warning
score; a project's page shows its milestone trend chart, its text alternative and its data,
in both spaces."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from pilot.alerts.models import Alert
from pilot.campaigns import service as campaigns
from pilot.db import session_scope
from pilot.mail.service import french_date
from pilot.projects import service as projects
from pilot.projects.forecasts import MilestoneForecast
from pilot.projects.models import Milestone, Project, Report, parse_pilot_id
from pilot.timeutil import today
from tests.web.conftest import MI_PROJECT, MJ_PROJECT, Web, csrf_of, login, needs_node

pytestmark = [needs_node, pytest.mark.slow]


def _text(page: str) -> str:
    """A page's visible words, tags removed and spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _campaign_block(page: str) -> str:
    found = re.search(r'<section class="fr-callout[^>]*id="campagne">(.*?)</section>', page, re.S)
    return _text(found.group(1)) if found else ""


def _status_row(page: str, code: str) -> str:
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        if f"({code})" in row:
            return _text(row)
    raise AssertionError(f"no row for {code}")


def test_the_campaigns_deadline_and_each_ministrys_status_in_both_spaces(web: Web) -> None:
    mi, space = login(web, "agent-mi")
    dinum, _ = login(web, "pilotage")
    assert space.url.path == "/espace/"
    assert _campaign_block(space.text) == ""
    assert "Aucune campagne n'est ouverte" in dinum.get(web.at("/pilotage/campagne")).text

    on = today()
    deadline = on + timedelta(days=40)
    with session_scope(web.engine, write=True) as s:
        campaigns.open_campaign(s, title="Campagne de test", deadline=deadline, on=on, actor="test")
    block = _campaign_block(mi.get(web.at("/espace/")).text)
    assert f"Date limite d'envoi du classeur : {french_date(deadline)} ." in block
    assert "État de votre envoi : Non commencé" in block

    # the ministry sends its own workbook (checked, then applied): "envoyé"
    workbook = mi.get(web.at("/espace/classeur")).content
    checked = mi.post(
        web.at("/espace/depot"),
        data={"csrf_token": csrf_of(mi, web.at("/espace/"))},
        files={"fichier": ("classeur.xlsx", workbook)},
    )
    assert "Non commencé" in _campaign_block(mi.get(web.at("/espace/")).text)  # a check is not sent
    applied = mi.post(
        f"{checked.url}/appliquer", data={"csrf_token": csrf_of(mi, str(checked.url))}
    )
    assert applied.status_code == 200, applied.text[:500]
    assert "État de votre envoi : Envoyé" in _campaign_block(mi.get(web.at("/espace/")).text)

    page = dinum.get(web.at("/pilotage/campagne"))
    assert page.status_code == 200
    assert 'href="/pilotage/campagne" aria-current="page"' in page.text  # in the navigation
    assert f"Date limite d'envoi : {french_date(deadline)}" in _text(page.text)
    assert _status_row(page.text, "MI").startswith("Ministère de l'Intérieur (MI) Envoyé 1 ")
    assert _status_row(page.text, "MJ").startswith("Ministère de la Justice (MJ) Non commencé 0")

    # past the deadline, the ministry that sent nothing is late
    with session_scope(web.engine, write=True) as s:
        campaign = campaigns.current_campaign(s)
        assert campaign is not None
        campaign.period_start, campaign.deadline = on - timedelta(days=10), on - timedelta(days=1)
        s.add(campaign)
    page = dinum.get(web.at("/pilotage/campagne"))
    assert " En retard " in _status_row(page.text, "MJ") + " "
    assert " Envoyé " in _status_row(page.text, "MI") + " "
    mj, _ = login(web, "agent-mj")
    assert "État de votre envoi : En retard" in _campaign_block(mj.get(web.at("/espace/")).text)

    with session_scope(web.engine, write=True) as s:
        campaigns.close_campaign(s, on=on)
    assert _campaign_block(mi.get(web.at("/espace/")).text) == ""
    assert "Aucune campagne n'est ouverte" in dinum.get(web.at("/pilotage/campagne")).text


def _slipping_history(web: Web, pilot_id: str) -> None:
    """Three reports of the project, its milestone's forecast slipping at each."""
    key = parse_pilot_id(pilot_id)
    with session_scope(web.engine, write=True) as s:
        project = s.get(Project, key)
        assert project is not None and project.id is not None
        milestone = s.exec(select(Milestone).where(Milestone.project_id == project.id)).one()
        assert milestone.id is not None
        for reported_on, forecast in (
            (date(2025, 6, 1), date(2026, 1, 15)),
            (date(2025, 12, 1), date(2026, 6, 15)),
            (date(2026, 6, 1), date(2026, 12, 15)),
        ):
            report = s.exec(
                select(Report).where(
                    Report.project_id == project.id, Report.reported_on == reported_on
                )
            ).first() or projects.record_report(
                s, project, reported_on=reported_on, actor="test", weather="soleil"
            )
            assert report.id is not None
            s.add(
                MilestoneForecast(
                    report_id=report.id,
                    milestone_id=milestone.id,
                    project_id=project.id,
                    reported_on=reported_on,
                    baseline_date=milestone.baseline_date,
                    forecast_date=forecast,
                )
            )


def _projects_table(page: str) -> str:
    """The portfolio's table of projects (the alerts above it name projects too)."""
    return page[page.index("<caption>Projets au panorama") :]


def test_dinum_sorts_the_portfolio_by_early_warning_and_both_spaces_show_the_trend(
    web: Web,
) -> None:
    _slipping_history(web, web.mj_project)
    dinum, _ = login(web, "pilotage")
    usual = _projects_table(dinum.get(web.at("/pilotage/")).text)
    assert usual.index(MI_PROJECT) < usual.index(MJ_PROJECT)  # by ministry, then name
    assert 'href="/pilotage/?tri=alerte-precoce"' in dinum.get(web.at("/pilotage/")).text
    by_score = _projects_table(dinum.get(web.at("/pilotage/?tri=alerte-precoce")).text)
    assert by_score.index(MJ_PROJECT) < by_score.index(MI_PROJECT)  # the slipping one first
    assert "par score d'alerte précoce" in by_score
    # 151 + 183 = 334 days (11 months) of slip over the last three reports, and a slip at
    # each of the last two: 11 + 3
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", by_score, re.S) if MJ_PROJECT in r)
    assert _text(row).endswith(" 14")

    mj, _ = login(web, "agent-mj")
    for client, url in (
        (dinum, f"/pilotage/projets/{web.mj_project}"),
        (mj, f"/espace/projets/{web.mj_project}"),
    ):
        page = client.get(web.at(url))
        assert page.status_code == 200
        assert re.search(
            r'<div role="img" aria-labelledby="tendance-texte"[^>]*>\s*<svg', page.text
        )
        words = _text(page.text)
        assert (
            "« Mise en service » : prévu le 15 janvier 2026 à la première déclaration, "
            "le 15 décembre 2026 à la dernière ; la prévision a glissé de 334 jours." in words
        )
        assert "Mise en service 15/01/2026 15/06/2026 15/12/2026 —" in words  # the data table
    other = mj.get(web.at(f"/espace/projets/{web.mi_project}"))
    assert other.status_code == 404


def test_dinum_lists_the_recorded_alerts_by_kind_and_project_page_by_page(web: Web) -> None:
    mi_id, mj_id = parse_pilot_id(web.mi_project), parse_pilot_id(web.mj_project)
    assert mi_id is not None and mj_id is not None
    with session_scope(web.engine, write=True) as s:
        for n in range(55):
            s.add(
                Alert(
                    key=f"milestone_slip:{n}",
                    kind="milestone_slip",
                    project_id=mi_id,
                    message=f"Le jalon n° {n} a glissé à deux remontées de suite.",
                )
            )
        s.add(
            Alert(
                key="health_red:mj",
                kind="health_red",
                project_id=mj_id,
                message="Le projet est passé au rouge.",
            )
        )
    dinum, _ = login(web, "pilotage")
    page = dinum.get(web.at("/pilotage/alertes"))
    assert page.status_code == 200
    assert 'href="/pilotage/alertes" aria-current="page"' in page.text
    words = _text(page.text)
    assert "56 alertes, page 1 sur 2" in words
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)[1:]
    assert len(rows) == 50
    assert "Santé passée au rouge" in _text(rows[0]) and MJ_PROJECT in rows[0]  # newest first
    assert "Le jalon n° 54 a glissé" in _text(rows[1])
    older = dinum.get(web.at("/pilotage/alertes?page=2"))
    assert len(re.findall(r"<tr>(.*?)</tr>", older.text, re.S)[1:]) == 6
    assert "Le jalon n° 0 a glissé" in _text(older.text)

    red = _text(dinum.get(web.at("/pilotage/alertes?type=health_red")).text)
    assert "1 alerte " in red and "Le projet est passé au rouge." in red
    assert "jalon" not in red.split("Message", 1)[1]
    mine = _text(dinum.get(web.at(f"/pilotage/alertes?projet={web.mj_project}")).text)
    assert "1 alerte " in mine and MJ_PROJECT in mine
    unknown = _text(dinum.get(web.at("/pilotage/alertes?projet=PRJ-99999")).text)
    assert "Aucun projet n'a l'identifiant « PRJ-99999 »" in unknown

    mi, _ = login(web, "agent-mi")
    assert mi.get(web.at("/pilotage/alertes")).status_code == 403
