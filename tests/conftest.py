"""Shared fixtures. Every test that takes ``engine`` runs on SQLite, and also on
PostgreSQL when ``PILOT_TEST_DATABASE_URL`` is set (CI sets it).

On PostgreSQL each pytest run creates its own database (``pilot_test_<random>``) on
the given server and drops it at the end, so concurrent runs never collide; tables
are emptied between tests.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

import pilot.models  # noqa: F401
from pilot import config, db
from pilot.db import make_engine, metadata, scratch_database

ROOT = Path(__file__).resolve().parent.parent
PANORAMA_DIR = ROOT / "data" / "panorama"
PG_URL = os.environ.get("PILOT_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
_cached_get_engine = db.get_engine  # the engine fixture replaces db.get_engine


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this pytest run."""
    if not PG_URL:
        pytest.skip("PILOT_TEST_DATABASE_URL is not set")
    with scratch_database(PG_URL, "pilot_test") as url:
        yield url


@pytest.fixture(scope="session")
def pg_engine(pg_database_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[config.Settings]:
    """Settings pointing every folder at a temporary directory."""
    monkeypatch.setenv("PILOT_VAR_DIR", str(tmp_path / "var"))
    config.get_settings.cache_clear()
    _cached_get_engine.cache_clear()
    yield config.get_settings()
    config.get_settings.cache_clear()
    _cached_get_engine.cache_clear()


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """An empty database with every table, on each backend; ``get_engine()`` returns it."""
    if request.param == "postgresql":
        engine = request.getfixturevalue("pg_engine")
        _truncate(engine)
        monkeypatch.setenv("PILOT_DATABASE_URL", engine.url.render_as_string(False))
    else:
        url = f"sqlite:///{settings.var_dir / 'test.db'}"
        monkeypatch.setenv("PILOT_DATABASE_URL", url)
        engine = make_engine(url)
        metadata.create_all(engine)
    config.get_settings.cache_clear()
    _cached_get_engine.cache_clear()
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    yield engine
    if request.param == "sqlite":
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def panorama_dir() -> Path:
    return PANORAMA_DIR


@pytest.fixture
def apply_limits(
    settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, int]], config.Settings]]:
    """Set ``PILOT_*`` limits for code that reads ``get_settings()``; returns the settings."""

    def apply(limits: dict[str, int]) -> config.Settings:
        for name, value in limits.items():
            monkeypatch.setenv(f"PILOT_{name.upper()}", str(value))
        config.get_settings.cache_clear()
        return config.get_settings()

    yield apply
    config.get_settings.cache_clear()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs, a disk that fills up (needs root); skipped where mounting is not
    allowed."""
    mount = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
