"""The job queue (``pilot.jobs``): an import's follow-up is enqueued with its outcome and
run later by the job runner, once, retried when it fails, never lost — even when the
process that claimed it died. On a clock the test controls (``run_due(now=…)``)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import col, select

from importers.intake import ImportOutcome, submit
from pilot.alerts.models import Alert
from pilot.api.app import create_app
from pilot.auth.models import Role
from pilot.auth.service import create_token
from pilot.campaigns.service import add_contact
from pilot.config import Settings
from pilot.db import make_engine, session_scope
from pilot.jobs import service as jobs
from pilot.jobs.models import Job
from pilot.mail.models import OutboxMessage
from pilot.mail.service import deliver
from pilot.ministries import service as ministries
from pilot.timeutil import utcnow
from tests.campaigns.conftest import SmtpServer, set_cells, template_for, text_of, to_bytes
from tests.campaigns.test_alerts import _workbook
from tests.importers.workbook.conftest import Seed

AGENT = "dsi@interieur.gouv.fr"


def _jobs(engine: Engine) -> list[Job]:
    with session_scope(engine) as s:
        return list(s.exec(select(Job).order_by(col(Job.id))))


def _submit(data: bytes, *, dry_run: bool = False) -> ImportOutcome:
    return submit(
        data=data,
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="test",
        channel="web",
        dry_run=dry_run,
    )


def _count(engine: Engine, model: Any) -> int:
    with session_scope(engine) as s:
        return len(s.exec(select(model)).all())


def test_the_upload_answers_before_its_follow_up_runs(
    engine: Engine, seed: Seed, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    with session_scope(engine, write=True) as s:
        add_contact(s, ministry_code="MI", email=AGENT, actor="test")
        mi = ministries.get_by_code(s, "MI")
        _, token = create_token(s, actor="test", name="mi", role=Role.MINISTRY, ministry=mi)
    client = TestClient(create_app())
    response = client.post(
        "/workbook/upload",
        files={"file": ("mi.xlsx", _workbook(engine, date(2024, 9, 1)))},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and response.json()["status"] == "applied"
    # answered: the follow-up waits in the queue, nothing of it done yet
    [job] = _jobs(engine)
    assert (job.kind, job.done_at, job.attempts) == ("import_followup", None, 0)
    assert _count(engine, Alert) == 0 and _count(engine, OutboxMessage) == 0

    result = jobs.run_due(engine)
    assert (result.done, result.failed, result.waiting) == (1, 0, 0)
    assert _count(engine, Alert) == 2  # red, and a météo rosier than its health
    deliver(engine)
    [summary] = smtp_server.to(AGENT)
    assert "a été importé" in text_of(summary)
    assert jobs.run_due(engine).done == 0  # done once


def test_a_dry_run_enqueues_nothing_and_a_refused_import_only_its_summary(
    engine: Engine, seed: Seed, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    with session_scope(engine, write=True) as s:
        add_contact(s, ministry_code="MI", email=AGENT, actor="test")
    red = _workbook(engine, date(2024, 9, 1))
    dry = _submit(red, dry_run=True)
    assert dry.status == "validated" and _jobs(engine) == []
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": "beaucoup"})
    refused = _submit(to_bytes(book))
    assert refused.status == "rejected"
    assert [j.key for j in _jobs(engine)] == [f"import_followup:{refused.import_id}"]
    assert jobs.run_due(engine).done == 1
    deliver(engine)
    assert _count(engine, Alert) == 0
    [summary] = smtp_server.to(AGENT)
    assert "refusé" in summary["Subject"]


def test_a_job_runs_once_under_two_concurrent_runners(engine: Engine, settings: Settings) -> None:
    with session_scope(engine, write=True) as s:
        for n in range(30):
            jobs.enqueue(s, jobs.IMPORT_FOLLOWUP, f"job:{n}", {"n": n})
    ran: list[int] = []
    lock = threading.Lock()

    def handler(_engine: Engine, payload: dict[str, Any]) -> None:
        with lock:
            ran.append(int(payload["n"]))

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def runner() -> None:
        own = make_engine(engine.url.render_as_string(hide_password=False))  # another process
        try:
            start.wait()
            jobs.run_due(own, handlers={jobs.IMPORT_FOLLOWUP: handler})
        except BaseException as error:
            errors.append(error)
        finally:
            own.dispose()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(ran) == list(range(30))  # each job once, none skipped
    assert all(j.done_at is not None and j.attempts == 1 for j in _jobs(engine))


def test_a_failing_job_is_retried_with_backoff_until_it_succeeds(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine, write=True) as s:
        assert jobs.enqueue(s, jobs.IMPORT_FOLLOWUP, "flaky", {"import_id": 1})
        assert not jobs.enqueue(s, jobs.IMPORT_FOLLOWUP, "flaky", {"import_id": 1})  # once
    calls: list[int] = []

    def flaky(_engine: Engine, _payload: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("base de l'annuaire injoignable")

    handlers: dict[str, jobs.Handler] = {jobs.IMPORT_FOLLOWUP: flaky}
    now = utcnow()
    assert jobs.run_due(engine, now=now, handlers=handlers).failed == 1
    [job] = _jobs(engine)
    assert job.attempts == 1 and job.last_error == "ConnectionError: base de l'annuaire injoignable"
    assert jobs.run_due(engine, now=now + timedelta(seconds=30), handlers=handlers).failed == 0
    assert jobs.run_due(engine, now=now + timedelta(seconds=61), handlers=handlers).failed == 1
    # the backoff doubles: 60 s, then 120 s
    assert jobs.run_due(engine, now=now + timedelta(seconds=150), handlers=handlers).done == 0
    result = jobs.run_due(engine, now=now + timedelta(seconds=190), handlers=handlers)
    assert (result.done, result.waiting) == (1, 0)
    [job] = _jobs(engine)
    assert (job.attempts, job.last_error, len(calls)) == (3, None, 3)
    assert job.done_at is not None


def test_nothing_is_lost_when_the_runner_dies_after_claiming_a_job(
    engine: Engine, seed: Seed, mail_settings: Settings
) -> None:
    outcome = submit(
        data=_workbook(engine, date(2024, 9, 1)),
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="t",
        channel="web",
    )
    now = utcnow()
    # a runner claimed the job, then its process died before finishing it
    with session_scope(engine, write=True) as s:
        s.execute(
            update(Job).values(
                attempts=1, next_attempt_at=now + timedelta(seconds=jobs.CLAIM_SECONDS)
            )
        )
    restarted = make_engine(engine.url.render_as_string(hide_password=False))  # a new process
    try:
        assert jobs.run_due(restarted, now=now).done == 0  # still claimed: not run twice
        assert _count(engine, Alert) == 0
        later = now + timedelta(seconds=jobs.CLAIM_SECONDS + 1)
        assert jobs.run_due(restarted, now=later).done == 1  # the claim expired: run
    finally:
        restarted.dispose()
    assert _count(engine, Alert) == 2
    [job] = _jobs(engine)
    assert job.payload == {"import_id": outcome.import_id} and job.attempts == 2
