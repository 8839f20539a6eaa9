"""Backup and restore (docs/production.md, "Backup and restore"): a ``pg_dump`` of the database
and an archive of the uploads folder restore to an identical PILOT — the same figures for
every edition, the same frozen rows, the same archived files (SHA-256)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pilot import migrations
from pilot.db import make_engine, scratch_database
from tests.conftest import PANORAMA_DIR, PG_URL
from tests.production import ROOT, pilot_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="PILOT_TEST_DATABASE_URL is not set"),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not installed"),
]


def _pilot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from pilot.cli import app; app()", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore read it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _state(url: str, env: dict[str, str]) -> dict[str, Any]:
    """What must be identical after a restore."""
    engine = make_url(url)
    db = make_engine(engine.render_as_string(hide_password=False))
    with db.connect() as conn:
        numbers = conn.execute(text("SELECT number FROM edition ORDER BY number")).scalars()
        figures = {n: json.loads(_pilot(env, "figures", "--edition", str(n))) for n in numbers}
        rows = conn.execute(
            text(
                'SELECT edition_id, position, project_id, data, "values" FROM edition_row '
                "ORDER BY edition_id, position"
            )
        ).all()
        archived = conn.execute(
            text("SELECT id, status, sha256, stored_path FROM import_file ORDER BY id")
        ).all()
        counts = {
            table: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            for table in ("project", "report", "milestone", "risk", "audit_event", "token")
        }
    db.dispose()
    files = {
        row.id: hashlib.sha256(Path(row.stored_path).read_bytes()).hexdigest() for row in archived
    }
    return {
        "figures": figures,
        "rows": [tuple(map(str, r)) for r in rows],
        "imports": [(r.id, r.status, r.sha256) for r in archived],
        "files": files,
        "counts": counts,
    }


def test_a_dump_and_the_uploads_restore_an_identical_pilot(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with scratch_database(PG_URL, "pilot_backup") as source:
        engine = make_engine(source)
        migrations.upgrade(engine)
        engine.dispose()
        env = pilot_env(tmp_path, source)
        for csv in sorted(PANORAMA_DIR.glob("*.csv")):
            _pilot(env, "import-panorama", str(csv))
        _pilot(env, "generate", str(tmp_path / "mi.xlsx"), "--projects", "5")
        _pilot(env, "import", str(tmp_path / "mi.xlsx"), "--ministry", "MI")
        _pilot(env, "template", str(tmp_path / "mj.xlsx"), "--ministry", "MJ")
        _pilot(env, "import", str(tmp_path / "mj.xlsx"), "--ministry", "MJ")
        _pilot(env, "token", "create", "--name", "dinum", "--role", "dinum")
        _pilot(env, "publish", "--published-on", "2027-03-01")
        before = _state(source, env)
        assert len(before["figures"]) == 3 and len(before["files"]) == 2
        assert all(sha == before["files"][i] for i, _, sha in before["imports"])

        # Backup: the database, then the uploads folder.
        dump = tmp_path / "pilot.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", _libpq(source)], check=True)
        uploads = tmp_path / "uploads.tar.gz"
        subprocess.run(["tar", "-C", str(var), "-czf", str(uploads), "uploads"], check=True)

    # The source is gone (database dropped); the files too.
    shutil.rmtree(var / "uploads")
    with scratch_database(PG_URL, "pilot_restored") as restored:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={_libpq(restored)}",
                str(dump),
            ],
            check=True,
        )
        subprocess.run(["tar", "-C", str(var), "-xzf", str(uploads)], check=True)
        env = pilot_env(tmp_path, restored)
        assert "à jour" in _pilot(env, "db", "upgrade")  # already at head: nothing to do
        after = _state(restored, env)
    assert after == before
