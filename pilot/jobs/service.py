"""The job queue: what must happen after a transaction commits, without making its caller
wait, and never lost.

``enqueue(session, kind, key, payload)`` adds a job in the caller's transaction: committed
with it (a crash afterwards loses nothing), rolled back with it. ``run_due`` (the
scheduler's ``jobs`` job, ``pilot jobs run``, tests) runs the jobs due: each is claimed
first with an expiry (``CLAIM_SECONDS``), in a conditional ``UPDATE`` that only one
process can win, so two runners (two schedulers, a scheduler and ``pilot jobs run``) never
run it both; a runner that dies leaves its claim to expire, then the job is run again.
Its handler runs outside any transaction of the runner (it opens its own, short ones) and
must be idempotent: running a job twice after a crash changes nothing more. A failed
attempt is logged on the job (``attempts``, ``last_error``) and retried with a doubling
backoff, up to 6 h, never dropped.

The kinds are the keys of ``HANDLERS``; a handler takes the engine and the payload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pilot import db
from pilot.config import get_settings
from pilot.jobs.models import Job
from pilot.timeutil import utcnow

log = logging.getLogger(__name__)

CLAIM_SECONDS = 15 * 60  # longer than any job; a job whose runner died is retried after it
MAX_BACKOFF = timedelta(hours=6)

Handler = Callable[[Engine, dict[str, Any]], None]

IMPORT_FOLLOWUP = "import_followup"


def _import_followup(engine: Engine, payload: dict[str, Any]) -> None:
    from pilot.followup import after_import

    after_import(int(payload["import_id"]), engine)


HANDLERS: dict[str, Handler] = {
    IMPORT_FOLLOWUP: _import_followup,
}


def enqueue(session: Session, kind: str, key: str, payload: dict[str, Any]) -> bool:
    """Add a job of ``kind`` in the caller's transaction, once per ``key``; True when
    added now (False: a job with that key exists already)."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind: {kind}")
    key = key[:300]
    if session.exec(select(Job.id).where(Job.key == key)).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Job(kind=kind, key=key, payload=payload))
            session.flush()
    except IntegrityError:  # another process added it meanwhile
        return False
    return True


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: the base, doubled each time, up to 6 h."""
    seconds = get_settings().jobs_backoff_seconds * 2 ** min(attempts - 1, 20)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


@dataclass(frozen=True)
class JobRun:
    done: int
    failed: int
    waiting: int  # still to run after this run (failed ones included)


def run_due(
    engine: Engine | None = None,
    *,
    now: datetime | None = None,
    limit: int = 100,
    handlers: dict[str, Handler] | None = None,
) -> JobRun:
    """Run the jobs due at ``now`` (oldest first), each once: claimed, run, then marked
    done, or its failure logged and its next attempt set. ``handlers`` replaces
    ``HANDLERS`` (tests)."""
    engine = engine or db.get_engine()
    handlers = HANDLERS if handlers is None else handlers
    now = now or utcnow()
    with db.session_scope(engine) as session:
        due = session.exec(
            select(Job)
            .where(col(Job.done_at).is_(None), col(Job.next_attempt_at) <= now)
            .order_by(col(Job.next_attempt_at), col(Job.id))
            .limit(limit)
        ).all()
    done = failed = 0
    for job in due:
        if not _claim(engine, job, now):
            continue  # another runner took it
        error: str | None = None
        try:
            handler = handlers.get(job.kind)
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(engine, dict(job.payload))
        except Exception as problem:  # logged on the job and retried: never lost
            error = f"{type(problem).__name__}: {problem}"[:2000]
            log.exception("job %s (%s) failed, attempt %d", job.key, job.kind, job.attempts + 1)
        values: dict[str, Any]
        if error is None:
            values = {"done_at": utcnow(), "last_error": None}
            done += 1
        else:
            values = {"last_error": error, "next_attempt_at": now + backoff(job.attempts + 1)}
            failed += 1
        with db.session_scope(engine, write=True) as session:
            session.execute(update(Job).where(col(Job.id) == job.id).values(values))
    with db.session_scope(engine) as session:
        waiting = session.exec(
            select(func.count()).select_from(Job).where(col(Job.done_at).is_(None))
        ).one()
    return JobRun(done=done, failed=failed, waiting=int(waiting))


def _claim(engine: Engine, job: Job, now: datetime) -> bool:
    """Take ``job`` for ``CLAIM_SECONDS`` and count the attempt, if it is still due (not
    done, not claimed by another runner); True when taken. Of two runners, one updates
    the row: the other's ``UPDATE`` waits for it, then finds it no longer due."""
    with db.session_scope(engine, write=True) as session:
        result = session.execute(
            update(Job)
            .where(
                col(Job.id) == job.id,
                col(Job.done_at).is_(None),
                col(Job.next_attempt_at) <= now,
            )
            .values(
                next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=col(Job.attempts) + 1,
            )
        )
        return cast(CursorResult[Any], result).rowcount == 1


def pending(session: Session, limit: int = 100) -> list[Job]:
    """The jobs not done yet, oldest first (``pilot jobs list``)."""
    return list(
        session.exec(
            select(Job)
            .where(col(Job.done_at).is_(None))
            .order_by(col(Job.created_at), col(Job.id))
            .limit(limit)
        )
    )
