"""GraphQL: the campaign's statuses, DINUM's alerts and the early-warning ranking."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from pilot.alerts.service import alert_recipients, detect_alerts
from pilot.campaigns import service as campaigns
from pilot.projects import service as projects
from pilot.projects.forecasts import MilestoneForecast
from pilot.projects.models import Milestone
from tests.api.graphql.conftest import TODAY, Demo

CAMPAIGN = "{ campaign { title deadline isOpen ministries { code status imports } } }"


def _code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def test_campaign_statuses_for_dinum_and_a_ministry(demo: Demo, engine: Engine) -> None:
    assert demo.gql(CAMPAIGN, role="dinum")["data"]["campaign"] is None
    with Session(engine) as s:
        campaigns.open_campaign(
            s,
            title="Remontée de test",
            deadline=TODAY + timedelta(days=10),
            ministry_codes=["MI", "MJ"],
            on=TODAY,
            actor="test",
        )
        s.commit()
    campaign = demo.gql(CAMPAIGN, role="dinum")["data"]["campaign"]
    assert campaign["title"] == "Remontée de test" and campaign["isOpen"]
    assert campaign["ministries"] == [
        {"code": "MI", "status": "envoyé avec erreurs", "imports": 1},  # a refused inbox file
        {"code": "MJ", "status": "envoyé avec erreurs", "imports": 1},
    ]
    own = demo.gql(CAMPAIGN, role="ministry")["data"]["campaign"]["ministries"]
    assert [m["code"] for m in own] == ["MI"]
    assert _code(demo.gql(CAMPAIGN)) == "UNAUTHENTICATED"


def test_alerts_are_for_dinum_filtered_and_paginated(demo: Demo, engine: Engine) -> None:
    with Session(engine) as s:
        recorded = detect_alerts(s)
        s.commit()
    assert len(recorded) >= 3
    query = "{ alerts { totalCount nodes { id kind projectId message } } }"
    found = demo.gql(query, role="dinum")["data"]["alerts"]
    assert found["totalCount"] == len(recorded)
    ids = [int(a["id"]) for a in found["nodes"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert {"health_red", "weather_rosier"} <= {a["kind"] for a in found["nodes"]}
    assert demo.drifting in {a["projectId"] for a in found["nodes"] if a["kind"] == "health_red"}

    page = """query($after: String, $kind: String, $project: String) {
      alerts(first: 1, after: $after, kind: $kind, project: $project) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id kind projectId }
      } }"""
    seen: list[str] = []
    after = None
    while True:
        body = demo.gql(page, {"after": after}, role="dinum")["data"]["alerts"]
        seen += [a["id"] for a in body["nodes"]]
        if not body["pageInfo"]["hasNextPage"]:
            break
        after = body["pageInfo"]["endCursor"]
    assert seen == [a["id"] for a in found["nodes"]]  # every alert once, in order

    red = demo.gql(page, {"kind": "health_red", "project": demo.drifting}, role="dinum")
    nodes = red["data"]["alerts"]["nodes"]
    assert [(a["kind"], a["projectId"]) for a in nodes] == [("health_red", demo.drifting)]
    bad = demo.gql(page, {"kind": "rouge"}, role="dinum")
    assert _code(bad) == "BAD_USER_INPUT" and "Type d'alerte inconnu" in str(bad["errors"])
    assert _code(demo.gql(page, {"project": "PRJ-99999"}, role="dinum")) == "BAD_USER_INPUT"
    assert _code(demo.gql(query, role="ministry")) == "FORBIDDEN"
    assert _code(demo.gql(query)) == "UNAUTHENTICATED"


def test_dinum_manages_the_alert_subscribers(demo: Demo, engine: Engine) -> None:
    add = "mutation($e: String!) { addAlertSubscriber(email: $e) { email addedBy } }"
    remove = "mutation($e: String!) { removeAlertSubscriber(email: $e) }"
    listed = "{ alertSubscribers { email addedBy } }"
    added = demo.gql(add, {"e": " Veille@Numerique.gouv.fr "}, role="dinum")["data"]
    assert added["addAlertSubscriber"]["email"] == "veille@numerique.gouv.fr"
    assert [s["email"] for s in demo.gql(listed, role="dinum")["data"]["alertSubscribers"]] == [
        "veille@numerique.gouv.fr"
    ]
    with Session(engine) as s:
        assert alert_recipients(s) == ["veille@numerique.gouv.fr"]
    bad = demo.gql(add, {"e": "pas une adresse"}, role="dinum")
    assert _code(bad) == "BAD_USER_INPUT" and "Adresse électronique invalide" in str(bad)
    assert _code(demo.gql(add, {"e": "x@y.fr"}, role="ministry")) == "FORBIDDEN"
    assert demo.gql(remove, {"e": "veille@numerique.gouv.fr"}, role="dinum")["data"] == {
        "removeAlertSubscriber": True
    }
    assert demo.gql(listed, role="dinum")["data"]["alertSubscribers"] == []


def test_projects_ranked_by_early_warning(demo: Demo, engine: Engine) -> None:
    with Session(engine) as s:
        project = projects.get_project(s, demo.drifting)
        milestone = s.get(Milestone, demo.milestone_id)
        assert project is not None and milestone is not None and milestone.id is not None
        for n, forecast in enumerate((date(2030, 1, 1), date(2030, 3, 2), date(2030, 5, 1))):
            report = projects.record_report(
                s, project, reported_on=TODAY - timedelta(days=3 - n), actor="test"
            )
            assert report.id is not None and project.id is not None
            s.add(
                MilestoneForecast(
                    report_id=report.id,
                    milestone_id=milestone.id,
                    project_id=project.id,
                    reported_on=report.reported_on,
                    forecast_date=forecast,
                )
            )
        s.commit()
    query = "{ earlyWarnings { projectId ministry score } }"
    assert demo.gql(query, role="dinum")["data"]["earlyWarnings"] == [
        {"projectId": demo.drifting, "ministry": "MI", "score": 7}  # 4 months + 3
    ]
    assert demo.gql(query, role="other")["data"]["earlyWarnings"] == []  # MJ sees its own
