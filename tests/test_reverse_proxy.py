"""The shipped nginx configuration (deploy/nginx/pilot.conf) in front of two PILOT workers
and a scheduler on PostgreSQL: requests go through to both workers, the request id is
made by nginx, passed, logged by the worker and returned, the static panorama is served
by nginx itself, /metrics is not reachable through it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pilot import migrations
from pilot.db import make_engine, scratch_database
from tests.conftest import PG_URL
from tests.production import NGINX, nginx, pilot, pilot_env, serve, wait_for_text

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.nginx,
    pytest.mark.skipif(not PG_URL, reason="PILOT_TEST_DATABASE_URL is not set"),
    pytest.mark.skipif(not NGINX, reason="nginx is not installed (.ci/run installs it)"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("proxy")
    site = directory / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>Panorama</title>servi par nginx")
    with scratch_database(PG_URL, "pilot_proxy") as url:
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()
        settings: dict[str, Any] = {
            "trusted_proxies": "127.0.0.1",
            "log_json": "true",
            "site_dir": site,
        }
        with (
            serve(directory, url, name="w1", **settings) as first,
            serve(directory, url, name="w2", **settings) as second,
            pilot(["scheduler"], pilot_env(directory, url), directory / "sched.log") as sched,
        ):
            wait_for_text(sched, "planificateur actif")
            with nginx(directory, [first.port, second.port], site) as base:
                yield {"base": base, "workers": [first, second], "dir": directory}


def _worker_lines(stack: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for worker in stack["workers"]:
        for line in worker.output().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def test_requests_reach_both_workers_through_the_proxy(stack: dict[str, Any]) -> None:
    base = stack["base"]
    query = {"query": "{ editions { number } }"}  # what the public may read
    for _ in range(8):
        response = httpx.post(f"{base}/graphql", json=query)
        assert response.status_code == 200
        assert response.json() == {"data": {"editions": []}}
    time.sleep(0.5)
    served = [
        sum(1 for line in w.output().splitlines() if '"path": "/graphql"' in line)
        for w in stack["workers"]
    ]
    assert sum(served) == 8 and all(n > 0 for n in served), served


def test_the_request_id_is_made_by_nginx_passed_logged_and_returned(
    stack: dict[str, Any],
) -> None:
    response = httpx.get(f"{stack['base']}/readyz", headers={"X-Request-Id": "chosen-by-me"})
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's, not the client's
    time.sleep(0.5)
    logged = [line for line in _worker_lines(stack) if line.get("request_id") == request_id]
    assert [(line["logger"], line["path"], line["status"]) for line in logged] == [
        ("pilot.access", "/readyz", 200)
    ]
    assert logged[0]["client"] == "127.0.0.1"
    access = (stack["dir"] / "access.log").read_text()
    assert f'"request_id":"{request_id}"' in access


def test_the_static_panorama_is_served_by_nginx(stack: dict[str, Any]) -> None:
    response = httpx.get(f"{stack['base']}/panorama/")
    assert response.status_code == 200
    assert "servi par nginx" in response.text
    assert response.headers["server"].startswith("nginx")
    time.sleep(0.3)
    assert not any(line.get("path", "").startswith("/panorama") for line in _worker_lines(stack))
    missing = httpx.get(f"{stack['base']}/panorama/absente.html")
    assert missing.status_code == 404  # PILOT's answer, through the fallback
    assert missing.headers["x-request-id"]


def test_metrics_are_not_reachable_through_the_proxy(stack: dict[str, Any]) -> None:
    assert httpx.get(f"{stack['base']}/metrics").status_code == 404
    worker = stack["workers"][0]
    direct = httpx.get(worker.url("/metrics"))  # loopback: allowed by default
    assert direct.status_code == 200
    assert "pilot_graphql_request_seconds_bucket" in direct.text
