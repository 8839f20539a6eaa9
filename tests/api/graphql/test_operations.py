"""Each documented operation of graphql/operations/, run against the demo database."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from pilot.opinions.clock import today_in_paris
from tests.api.graphql.conftest import OPERATIONS, Demo

FUTURE = (date.today() + timedelta(days=1)).isoformat()


def test_every_documented_operation_has_a_test() -> None:
    tested = {
        name[len("test_") :]
        for name in globals()
        if name.startswith("test_") and name != "test_every_documented_operation_has_a_test"
    }
    assert {p.stem for p in OPERATIONS.glob("*.graphql")} <= tested


def test_portfolio_overview(demo: Demo) -> None:
    body = demo.operation("portfolio_overview", {"asOf": FUTURE}, role="dinum")
    p = body["data"]["portfolio"]
    assert p["source"] == "live"
    assert p["figures"]["projects"] > 60
    assert {"label": "MI", "count": 9} in p["figures"]["byMinistry"] or any(
        c["label"] == "MI" for c in p["figures"]["byMinistry"]
    )
    by_ministry = p["figures"]["byMinistry"]
    assert sum(c["totalCostEur"] for c in by_ministry) == p["figures"]["totalCostEur"]
    assert all(c["totalCostEur"] > 0 for c in by_ministry if c["label"] == "MI")
    assert p["drift"]["budgetInitial"] > 0  # two projects drift upwards
    assert p["health"]["red"] >= 2
    assert p["health"]["weatherRosier"] >= 1  # the drifting project declares « soleil »


def test_projects_drifting(demo: Demo) -> None:
    body = demo.operation("projects_drifting", role="dinum")
    nodes = body["data"]["projects"]["nodes"]
    ids = [n["id"] for n in nodes]
    assert demo.drifting in ids and demo.confidential in ids
    drifts = [n["drift"]["budgetInitial"] for n in nodes]
    assert drifts == sorted(drifts, key=lambda d: -(d or -1))
    assert all(n["health"] == "RED" for n in nodes)
    drifting = next(n for n in nodes if n["id"] == demo.drifting)
    assert drifting["drift"]["budgetInitial"] == 0.4
    assert drifting["weather"] == "SOLEIL" and drifting["weatherRosier"] is True


def test_late_milestones(demo: Demo) -> None:
    body = demo.operation("late_milestones", role="dinum")
    nodes = body["data"]["projects"]["nodes"]
    assert [n["id"] for n in nodes] == [demo.drifting]
    assert [m["name"] for m in nodes[0]["milestones"]] == ["Mise en service nationale"]


def test_critical_risks_without_mitigation(demo: Demo) -> None:
    body = demo.operation("critical_risks_without_mitigation", role="dinum")
    nodes = body["data"]["projects"]["nodes"]
    assert [n["id"] for n in nodes] == [demo.drifting]
    assert nodes[0]["risks"] == [
        {
            "title": "Dépendance à un prestataire unique",
            "probability": 4,
            "impact": 4,
            "criticality": 16,
            "owner": None,
        }
    ]


def test_stale_submissions(demo: Demo) -> None:
    body = demo.operation("stale_submissions", role="dinum")
    projects = body["data"]["projects"]
    ids = {n["id"] for n in projects["nodes"]}
    # Only the panorama's 2016–2017 reports: stale, except the two projects reported lately.
    assert demo.rebaselined in ids
    assert demo.drifting not in ids and demo.confidential not in ids
    assert all(n["latestReport"]["reportedOn"] <= "2017-06-01" for n in projects["nodes"])
    assert projects["totalCount"] == len(ids)


def test_edition_comparison(demo: Demo) -> None:
    body = demo.operation("edition_comparison", {"base": 1, "target": 2})
    diff = body["data"]["editionDiff"]
    assert (diff["base"], diff["target"]) == (1, 2)
    # The real editions: 57 then 61 projects.
    assert diff["kept"] + len(diff["entrants"]) == 61
    assert diff["kept"] + len(diff["exits"]) == 57
    assert len(diff["entrants"]) > 0


def test_trends(demo: Demo) -> None:
    body = demo.operation("trends")
    points = body["data"]["trends"]
    assert [
        (p["editionNumber"], p["figures"]["projects"], p["figures"]["totalCostBn"]) for p in points
    ] == [
        (1, 57, "2.29"),
        (2, 61, "2.56"),
    ]
    assert [p["figures"]["meanDurationYears"] for p in points] == ["6.2", "6.0"]


def test_project_sheet(demo: Demo) -> None:
    body = demo.operation("project_sheet", {"id": demo.rebaselined}, role="dinum")
    p = body["data"]["project"]
    assert p["id"] == demo.rebaselined
    assert [b["kind"] for b in p["baselines"]] == ["initial", "rebaseline"]
    assert p["baselines"][1]["reason"] == "Extension du périmètre à l'outre-mer"
    assert [t["editionNumber"] for t in p["trajectory"]] == [1, 2] or p["trajectory"]
    assert any(e["action"] == "rebaseline" for e in p["auditTrail"])
    assert p["reports"] and p["ministry"]["code"] == "MI"


def test_ministry_projects(demo: Demo) -> None:
    body = demo.operation("ministry_projects", role="ministry")
    data = body["data"]
    assert data["me"] == {"role": "MINISTRY", "ministry": {"code": "MI"}}
    ids = {n["id"] for n in data["projects"]["nodes"]}
    assert demo.drifting in ids and demo.rebaselined in ids
    assert demo.confidential not in ids and demo.other_ministry not in ids
    names = [n["name"] for n in data["projects"]["nodes"]]
    assert len(names) == data["projects"]["totalCount"]


def test_imports_with_findings(demo: Demo) -> None:
    everyone = demo.operation("imports_with_findings", role="dinum")["data"]["imports"]
    assert everyone["totalCount"] == 2
    own = demo.operation("imports_with_findings", role="ministry")["data"]["imports"]
    assert [n["filename"] for n in own["nodes"]] == ["pilot-MI-2017.xlsx"]
    finding = own["nodes"][0]["findings"][0]
    assert (finding["sheet"], finding["row"], finding["column"]) == ("Projets", 7, "F")
    assert finding["message"].startswith("« douze » n'est pas un montant")


def test_published_edition(demo: Demo) -> None:
    body = demo.operation("published_edition", {"number": 2})
    edition = body["data"]["edition"]
    assert edition["figures"]["projects"] == 61 == len(edition["projects"])
    assert edition["figures"]["totalCostText"] == "2,56\u00a0Md€"
    assert any(p["name"] == "VITAM" for p in edition["projects"])


def test_opinions(demo: Demo) -> None:
    """A request for DINUM's opinion walked through every operation of opinions.graphql:
    the ministry opens it and sends its file, DINUM runs the procedure and gives its
    opinion, the ministry follows the recommendations; another ministry sees nothing."""
    today = today_in_paris()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    def run(name: str, variables: dict[str, object], role: str | None) -> dict[str, Any]:
        return demo.operation("opinions", variables, role=role, operation_name=name)

    def data(name: str, variables: dict[str, object], role: str) -> Any:
        body = run(name, variables, role)
        assert "errors" not in body, body
        return next(iter(body["data"].values()))

    flagged = data("OpinionThresholdFlags", {}, "dinum")
    assert flagged and {f["ministry"] for f in data("OpinionThresholdFlags", {}, "ministry")} == {
        "MI"
    }
    opened = data(
        "OpenOpinionRequest",
        {
            "input": {
                "projectId": demo.drifting,
                "subject": "Marché de réalisation",
                "openedOn": day(-25),
            }
        },
        "ministry",
    )
    assert (opened["status"], opened["clock"]["state"]) == ("DRAFT", "not_started")
    request_id = opened["id"]
    document = (OPERATIONS / "opinions.graphql").read_text(encoding="utf-8")
    operations = {
        "query": document,
        "operationName": "AddOpinionDocument",
        "variables": {"requestId": request_id, "file": None},
    }

    def upload(role: str | None) -> dict[str, Any]:
        body: dict[str, Any] = demo.client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": ("dossier.pdf", b"%PDF-1.7\n", "application/pdf")},
            headers={"Authorization": f"Bearer {demo.tokens[role]}"} if role else {},
        ).json()
        return body

    for role, code in ((None, "UNAUTHENTICATED"), ("admin", "FORBIDDEN"), ("other", "NOT_FOUND")):
        assert upload(role)["errors"][0]["extensions"]["code"] == code
    uploaded = upload("ministry")
    assert uploaded["data"]["addOpinionDocument"]["mediaType"] == "application/pdf"
    refused = run("ReceiveOpinionFile", {"requestId": request_id, "on": day(-20)}, "ministry")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    received = data("ReceiveOpinionFile", {"requestId": request_id, "on": day(-20)}, "dinum")
    deadline = received["clock"]["deadline"]
    suspended = data(
        "RequestOpinionInformation",
        {"requestId": request_id, "note": "Le plan de charge.", "on": day(-15)},
        "dinum",
    )
    assert (suspended["status"], suspended["clock"]["deadline"]) == ("INFORMATION_REQUESTED", None)
    resumed = data(
        "ReceiveOpinionInformation", {"requestId": request_id, "on": day(-10)}, "ministry"
    )
    assert resumed["clock"]["suspendedDays"] == 5
    assert (
        resumed["clock"]["deadline"]
        == (date.fromisoformat(deadline) + timedelta(days=5)).isoformat()
    )
    observed = data(
        "RecordOpinionObservations",
        {"requestId": request_id, "observer": "ANSSI", "on": day(-5)},
        "dinum",
    )
    assert observed["status"] == "OBSERVATIONS_RECEIVED"
    clocks = run("OpinionClocks", {}, "dinum")["data"]
    assert [r["id"] for r in clocks["runningOpinionClocks"]] == [request_id]
    assert {"what": "observations", "dueOn": day(5), "daysLeft": 5} in [
        {k: d[k] for k in ("what", "dueOn", "daysLeft")} for d in clocks["opinionsDueSoon"]
    ]
    assert run("OpinionClocks", {}, "other")["data"]["runningOpinionClocks"] == []
    axes = [
        {"axis": a, "rating": "SATISFACTORY", "comment": "Conforme."}
        for a in ("STRATEGY", "FINANCES", "GOVERNANCE", "DELIVERY", "PLANNING")
    ]
    opinion = data(
        "GiveOpinion",
        {
            "input": {
                "requestId": request_id,
                "sense": "FAVOURABLE_WITH_RESERVATIONS",
                "givenOn": day(-3),
                "axes": axes,
                "recommendations": [
                    {"text": "Sécuriser la réversibilité.", "owner": "DNUM MI", "dueOn": day(60)},
                    {"text": "Recaler le planning.", "owner": "DNUM MI", "dueOn": day(-1)},
                ],
            }
        },
        "dinum",
    )
    assert opinion["senseLabel"] == "favorable avec réserves"
    assert [a["axisLabel"] for a in opinion["axes"]] == [
        "stratégie",
        "finances",
        "gouvernance",
        "exécution",
        "planning",
    ]
    assert opinion["baselineId"] is not None  # the approved baseline (a re-baseline here)
    assert (opinion["driftSince"]["budget"], opinion["driftSince"]["schedule"]) == (0.0, 0.0)
    first, second = opinion["recommendations"]
    assert (first["overdue"], second["overdue"]) == (False, True)
    closed = data(
        "UpdateRecommendation",
        {"input": {"recommendationId": first["id"], "status": "CLOSED", "comment": "Fait."}},
        "ministry",
    )
    assert [h["status"] for h in closed["history"]] == ["OPEN", "CLOSED"]
    overdue = data("OverdueRecommendations", {}, "dinum")
    assert [(o["recommendation"]["id"], o["daysLate"]) for o in overdue] == [(second["id"], 1)]
    assert data("OverdueRecommendations", {}, "other") == []
    listed = data("OpinionRequests", {}, "ministry")
    assert [r["id"] for r in listed] == [request_id]
    assert [e["kind"] for e in listed[0]["events"]] == [
        "OPENED",
        "RECEIVED",
        "INFORMATION_REQUESTED",
        "INFORMATION_RECEIVED",
        "OBSERVATIONS_RECEIVED",
        "OPINION_GIVEN",
    ]
    assert listed[0]["opinion"]["id"] == opinion["id"]
    assert data("OpinionRequests", {}, "other") == []
    assert run("OpinionRequests", {}, None)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert run("OpinionRequests", {}, "admin")["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert demo.drifting not in {f["projectId"] for f in data("OpinionThresholdFlags", {}, "dinum")}
    other = demo.gql(f'{{ opinionRequest(id: "{request_id}") {{ id }} }}', role="other")
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    denied = run("PublishOpinion", {"opinionId": opinion["id"]}, "ministry")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert data("PublishOpinion", {"opinionId": opinion["id"]}, "dinum")["published"] is True
