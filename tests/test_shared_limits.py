"""Production on PostgreSQL: the limits hold across workers and processes, not per process —
failed logins, imports at once, publications, the scheduler, the GraphQL answer cache.

Each test runs real ``pilot serve`` / ``pilot scheduler`` processes, or several
processes or connections, on a scratch database of its own."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from pilot import migrations
from pilot.api.ratelimit import SharedFailureLimiter
from pilot.api.tokens import CHECK_SECONDS
from pilot.api.turns import ImportsBusy, SharedImportTurns
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.db import make_engine, scratch_database, session_scope
from pilot.editions import service as editions
from tests.conftest import PANORAMA_DIR, PG_URL
from tests.production import pilot, pilot_env, serve, wait_for_text

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="PILOT_TEST_DATABASE_URL is not set"),
]
QUERY = {"query": "{ ministries { code } }"}


@pytest.fixture
def database() -> Iterator[str]:
    """A migrated scratch database (its URL), dropped at the end."""
    with scratch_database(PG_URL, "pilot_shared") as url:
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()
        yield url


def _load_one_edition(url: str) -> None:
    from importers.panorama import import_panorama_file

    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        import_panorama_file(session, PANORAMA_DIR / "panorama-2016-11.csv")
    engine.dispose()


def _token(url: str, role: Role = Role.DINUM) -> str:
    engine = make_engine(url)
    with Session(engine) as session:
        _, plaintext = auth.create_token(session, actor="test", name="t", role=role)
        session.commit()
    engine.dispose()
    return plaintext


def _ask(base: str, bearer: str) -> int:
    headers = {"Authorization": f"Bearer {bearer}"}
    return httpx.post(f"{base}/graphql", json=QUERY, headers=headers, timeout=30).status_code


def test_failed_logins_across_two_workers_are_limited_exactly(
    database: str, tmp_path: Path
) -> None:
    valid = _token(database)
    with (
        serve(tmp_path, database, name="a", auth_max_failures=5) as a,
        serve(tmp_path, database, name="b", auth_max_failures=5) as b,
    ):
        bases = [a.url(""), b.url("")]
        # One valid token used 40 times at once through both: never limited.
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda i: _ask(bases[i % 2], valid), range(40)))
        assert codes == [200] * 40
        # Twenty different wrong guesses at once, half to each worker: exactly 5 are
        # checked (401), the others refused before any look-up (429).
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda i: _ask(bases[i % 2], f"pilot_guess{i}"), range(20)))
        assert sorted(codes) == [401] * 5 + [429] * 15
        # Now blocked on both workers, even with the right token (within the second a
        # worker trusts what it last found: SharedFailureLimiter.blocked); public reads go on.
        time.sleep(CHECK_SECONDS)
        assert [_ask(base, valid) for base in bases] == [429, 429]
        assert httpx.post(f"{bases[1]}/graphql", json=QUERY).status_code == 200


def test_a_client_blocked_by_another_worker_is_refused_a_vouched_token_within_a_second(
    database: str,
) -> None:
    engine = make_engine(database)
    now = [100.0]
    here = SharedFailureLimiter(engine, 2, 60, clock=lambda: now[0])
    there = SharedFailureLimiter(engine, 2, 60, clock=lambda: now[0])

    async def scenario() -> list[int | None]:
        seen = [await here.blocked("192.0.2.1")]  # not blocked: trusted for a second
        for guess in ("Bearer pilot_a", "Bearer pilot_b"):
            admission = await there.admit("192.0.2.1", guess)
            await there.settle("192.0.2.1", admission, failed=True)
        seen.append(await there.blocked("192.0.2.1"))  # blocked where it was counted
        seen.append(await here.blocked("192.0.2.1"))  # not asked again within the second
        now[0] += CHECK_SECONDS
        seen.append(await here.blocked("192.0.2.1"))  # asked again: blocked
        admission = await here.admit("192.0.2.2", "Bearer pilot_c")
        await here.settle("192.0.2.2", admission, failed=True)
        seen.append(await here.blocked("192.0.2.2"))  # one failure of two: not blocked
        return seen

    try:
        seen = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert seen[0] is None and seen[2] is None and seen[4] is None
    assert seen[1] is not None and seen[3] is not None and 1 <= seen[3] <= 60


def test_a_failure_counted_by_this_worker_blocks_a_vouched_token_at_once(database: str) -> None:
    engine = make_engine(database)
    limiter = SharedFailureLimiter(engine, 1, 60, clock=lambda: 100.0)  # a frozen clock

    async def scenario() -> tuple[int | None, int | None]:
        before = await limiter.blocked("192.0.2.3")
        admission = await limiter.admit("192.0.2.3", "Bearer pilot_wrong")
        await limiter.settle("192.0.2.3", admission, failed=True)
        return before, await limiter.blocked("192.0.2.3")

    try:
        before, after = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert before is None and after is not None


def test_serve_with_two_workers_serves_on_postgresql(database: str, tmp_path: Path) -> None:
    with serve(tmp_path, database, workers=2) as served:
        with ThreadPoolExecutor(8) as pool:
            codes = list(
                pool.map(lambda _: httpx.get(served.url("/healthz")).status_code, range(16))
            )
        assert codes == [200] * 16


def test_serve_with_two_workers_is_refused_on_sqlite(tmp_path: Path) -> None:
    env = pilot_env(tmp_path, f"sqlite:///{tmp_path / 'pilot.db'}")
    with pilot(["serve", "--workers", "2"], env, tmp_path / "serve.log") as refused:
        assert refused.process.wait(timeout=60) == 1
    assert "Plusieurs workers demandent PostgreSQL" in refused.output()


def _hold_a_turn(
    url: str, size: int, wait: float, hold: float, queue: object, ready: object
) -> None:
    """In a process of its own: take an import turn (when every process is ready), hold
    it, report when (or None when refused)."""
    engine = make_engine(url)
    turns = SharedImportTurns(engine, size, wait)
    with engine.connect():
        pass  # connected before the start
    ready.wait()  # type: ignore[attr-defined]

    async def run() -> tuple[float, float] | None:
        try:
            async with turns.turn():
                started = time.time()
                await asyncio.sleep(hold)
                return started, time.time()
        except ImportsBusy:
            return None

    queue.put(asyncio.run(run()))  # type: ignore[attr-defined]
    engine.dispose()


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    inside = most = 0
    for _, step in events:
        inside += step
        most = max(most, inside)
    return most


def _turns_in_processes(
    url: str, count: int, wait: float, hold: float
) -> list[tuple[float, float] | None]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    ready = context.Barrier(count)
    processes = [
        context.Process(target=_hold_a_turn, args=(url, 2, wait, hold, queue, ready))
        for _ in range(count)
    ]
    for p in processes:
        p.start()
    results = [queue.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    return results


def test_imports_at_once_are_bounded_exactly_across_processes(database: str) -> None:
    results = _turns_in_processes(database, 6, wait=60, hold=0.6)
    spans = [r for r in results if r is not None]
    assert len(spans) == 6  # everyone got a turn in the end…
    assert _most_at_once(spans) == 2  # …never more than two at once, over six processes


def test_imports_past_the_wait_are_refused_across_processes(database: str) -> None:
    results = _turns_in_processes(database, 5, wait=0.5, hold=3)
    spans = [r for r in results if r is not None]
    assert len(spans) == 2  # two held their turn for 3 s; the three others gave up
    assert _most_at_once(spans) == 2


def test_a_killed_holder_gives_its_import_turn_back(database: str, tmp_path: Path) -> None:
    script = (
        "import asyncio, sys, time\n"
        "from pilot.db import make_engine\n"
        "from pilot.api.turns import SharedImportTurns\n"
        "async def main():\n"
        f"    turns = SharedImportTurns(make_engine({database!r}), 1, 5)\n"
        "    async with turns.turn():\n"
        "        print('holding', flush=True)\n"
        "        await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    log = tmp_path / "holder.log"
    with log.open("wb") as out:
        holder = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while "holding" not in log.read_text():
            assert holder.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        engine = make_engine(database)
        turns = SharedImportTurns(engine, 1, 0.5)

        async def take() -> bool:
            try:
                async with turns.turn():
                    return True
            except ImportsBusy:
                return False

        assert asyncio.run(take()) is False  # held by the other process
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        turns.wait_seconds = 10
        assert asyncio.run(take()) is True  # its connection closed: the turn came back
        engine.dispose()
    finally:
        if holder.poll() is None:
            holder.kill()


def test_publications_from_two_connections_take_turns(database: str) -> None:
    _load_one_edition(database)  # edition 1, and projects to publish
    engine = make_engine(database)
    first_inside = threading.Event()
    release = threading.Event()
    numbers: list[int] = []
    errors: list[BaseException] = []

    def publish(day: date, hold: bool) -> None:
        try:
            with session_scope(engine, write=True) as session:
                edition = editions.publish_current(session, published_on=day, force=True)
                numbers.append(edition.number)
                if hold:
                    first_inside.set()
                    release.wait(30)
        except BaseException as error:
            errors.append(error)

    first = threading.Thread(target=publish, args=(date(2027, 1, 10), True))
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=publish, args=(date(2027, 1, 11), False))
    second.start()
    time.sleep(1)
    assert numbers == [2]  # the second waits for the publication lock
    with engine.connect() as conn:
        waiting = conn.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar_one()
    assert waiting == 1
    release.set()
    first.join(30)
    second.join(30)
    assert not errors, errors
    assert numbers == [2, 3]
    engine.dispose()


def test_the_graphql_cache_of_one_worker_sees_an_edition_published_elsewhere(
    database: str, tmp_path: Path
) -> None:
    _load_one_edition(database)
    query = {"query": "{ editions { number } }"}
    one = {"data": {"editions": [{"number": 1}]}}
    with serve(tmp_path, database) as a:
        assert httpx.post(a.url("/graphql"), json=query).json() == one
        assert httpx.post(a.url("/graphql"), json=query).json() == one  # now from the cache
        engine = make_engine(database)
        with session_scope(engine, write=True) as session:  # another process publishes
            editions.publish_current(session, published_on=date(2027, 2, 1))
        engine.dispose()
        answer = httpx.post(a.url("/graphql"), json=query).json()
        assert answer == {"data": {"editions": [{"number": 1}, {"number": 2}]}}


def test_a_second_scheduler_waits_and_takes_over_when_the_first_dies(
    database: str, tmp_path: Path
) -> None:
    env = pilot_env(tmp_path, database)
    with pilot(["scheduler"], env, tmp_path / "first.log") as first:
        wait_for_text(first, "planificateur actif")
        with pilot(["scheduler"], env, tmp_path / "second.log") as second:
            wait_for_text(second, "planificateur en attente")
            time.sleep(3)  # past a few polls: still waiting
            assert "planificateur actif" not in second.output()
            os.killpg(first.process.pid, signal.SIGKILL)
            wait_for_text(second, "planificateur actif", seconds=20)
