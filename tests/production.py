"""Support for the production tests: real ``pilot serve`` and ``pilot scheduler``
processes on a scratch PostgreSQL database, on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def pilot_env(directory: Path, database_url: str, **settings: object) -> dict[str, str]:
    env = {
        **os.environ,
        "PILOT_VAR_DIR": str(directory / "var"),
        "PILOT_DATABASE_URL": database_url,
        "PILOT_SCHEDULER_IN_SERVE": "false",
        **{f"PILOT_{name.upper()}": str(value) for name, value in settings.items()},
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@contextmanager
def pilot(args: list[str], env: dict[str, str], log: Path, *, port: int = 0) -> Iterator[Process]:
    """``pilot ARGS`` in its own session, stopped (SIGTERM, then SIGKILL) at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from pilot.cli import app; app()", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Process(process, log, port)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # it and its workers
                process.wait(timeout=10)


def wait_until_ready(served: Process, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert served.process.poll() is None, f"pilot serve stopped: {served.output()}"
        assert time.monotonic() < deadline, f"pilot serve did not start: {served.output()}"
        try:
            if httpx.get(served.url("/readyz"), timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)


@contextmanager
def serve(
    directory: Path,
    database_url: str,
    *,
    workers: int = 1,
    name: str = "server",
    **settings: object,
) -> Iterator[Process]:
    """``pilot serve`` on a free loopback port, ready (``/readyz``) when yielded."""
    port = free_port()
    args = ["serve", "--port", str(port), "--workers", str(workers)]
    env = pilot_env(directory, database_url, **settings)
    with pilot(args, env, directory / f"{name}-{port}.log", port=port) as served:
        wait_until_ready(served)
        yield served


def wait_for_text(process: Process, text: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while text not in process.output():
        assert process.process.poll() is None or text in process.output(), process.output()
        assert time.monotonic() < deadline, f"« {text} » not seen in: {process.output()}"
        time.sleep(0.1)
