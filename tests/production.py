"""Support for the production tests: real ``pilot serve`` and ``pilot scheduler``
processes on a scratch PostgreSQL database, on free loopback ports."""

from __future__ import annotations

import os
import re
import shutil
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
SHIPPED = ROOT / "deploy" / "nginx" / "pilot.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")


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


def wait_until_ready(served: Process, seconds: float = 90, path: str = "/readyz") -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert served.process.poll() is None, f"pilot serve stopped: {served.output()}"
        assert time.monotonic() < deadline, f"pilot serve did not start: {served.output()}"
        try:
            if httpx.get(served.url(path), timeout=2).status_code == 200:
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
    ready: str = "/readyz",
    **settings: object,
) -> Iterator[Process]:
    """``pilot serve`` on a free loopback port, ready (``/readyz``) when yielded."""
    port = free_port()
    args = ["serve", "--port", str(port), "--workers", str(workers)]
    env = pilot_env(directory, database_url, **settings)
    with pilot(args, env, directory / f"{name}-{port}.log", port=port) as served:
        wait_until_ready(served, path=ready)
        yield served


def wait_for_text(process: Process, text: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while text not in process.output():
        assert process.process.poll() is None or text in process.output(), process.output()
        assert time.monotonic() < deadline, f"« {text} » not seen in: {process.output()}"
        time.sleep(0.1)


def derived_config(directory: Path, port: int, workers: list[int], site: Path) -> Path:
    """The shipped file with its ADJUST lines pointed at this test, inside a minimal main
    configuration (foreground, files in ``directory``)."""
    site_conf = SHIPPED.read_text()
    upstream = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in workers)
    site_conf, count = re.subn(r"(?m)^    server 127\.0\.0\.1:80\d\d .*\n", "", site_conf)
    assert count == 2
    site_conf = site_conf.replace("    keepalive 32;\n", upstream + "    keepalive 32;\n")
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{port};",
        "/var/lib/pilot/var/site/": f"{site}/",
        "/var/log/nginx/pilot.access.log": str(directory / "access.log"),
        "/var/log/nginx/pilot.error.log": str(directory / "error.log"),
    }
    for old, new in replacements.items():
        assert old in site_conf, old
        site_conf = site_conf.replace(old, new)
    (directory / "pilot.conf").write_text(site_conf)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = directory / "nginx.conf"
    main.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/main-error.log warn;\nevents {{}}\n"
        "http {\n    include /etc/nginx/mime.types;\n"
        + "".join(
            f"    {kind}_temp_path {directory}/{kind}-temp;\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    include {directory}/pilot.conf;\n}}\n"
    )
    return main


@contextmanager
def nginx(directory: Path, workers: list[int], site: Path) -> Iterator[str]:
    """nginx in the foreground with the shipped configuration in front of ``workers``
    (ports), on a free loopback port; yields its base URL once it answers."""
    port = free_port()
    main = derived_config(directory, port, workers, site)
    check = subprocess.run([NGINX, "-t", "-c", str(main)], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    with (directory / "nginx.out").open("wb") as out:
        process = subprocess.Popen([NGINX, "-c", str(main)], stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (directory / "main-error.log").read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
