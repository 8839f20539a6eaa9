"""What follows an import (``pilot.followup.after_import``: milestone forecasts kept,
alerts detected on the projects reported, findings summary queued) and the daily
``detect_alerts`` on the whole portfolio, for 1 000 and 10 000 projects (10 milestones
and 10 risks each). No target: the figures say what an import and the daily job pay.

    .venv/bin/python -m benchmarks.followup [--sizes 1000,10000]

Each size runs on a fresh SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def run(projects: int) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="pilot-bench-")
    os.environ["PILOT_VAR_DIR"] = folder
    from pilot import config, db

    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    from importers.generate import generate_workbook
    from importers.intake import submit
    from pilot.alerts.service import detect_alerts
    from pilot.followup import after_import
    from pilot.ministries import service as ministries

    engine = db.get_engine()
    db.create_all(engine)
    with db.session_scope(engine, write=True) as s:
        ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        from pilot.campaigns.service import add_contact

        add_contact(s, ministry_code="MI", email="dsi@interieur.gouv.fr", actor="bench")
    data = generate_workbook(projects, seed=1)
    outcome = submit(
        data=data, filename="bench.xlsx", ministry_code="MI", submitted_by="bench", channel="cli"
    )
    assert outcome.status == "applied", outcome
    started = time.perf_counter()
    after_import(outcome.import_id, engine)
    followup = time.perf_counter() - started
    started = time.perf_counter()
    with db.session_scope(engine, write=True) as s:
        again = detect_alerts(s)
    daily = time.perf_counter() - started
    assert again == []
    engine.dispose()
    return {"after_import": followup, "daily_detect": daily}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        result = run(size)
        print(
            f"{size:>6} projets : après l'import {result['after_import']:.2f} s, "
            f"détection quotidienne {result['daily_detect']:.2f} s"
        )


if __name__ == "__main__":
    main()
