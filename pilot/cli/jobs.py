"""``pilot jobs``: the job queue (the follow-up of each import), run on demand."""

from __future__ import annotations

import typer

app = typer.Typer(help="File des tâches (suites des imports).", no_args_is_help=True)


@app.command("run")
def run() -> None:
    """Exécuter les tâches dues (le planificateur le fait toutes les
    PILOT_JOBS_INTERVAL_SECONDS secondes)."""
    from pilot.jobs.service import run_due

    total_done = total_failed = 0
    while True:
        result = run_due()
        total_done += result.done
        total_failed += result.failed
        if result.done == 0:
            break  # nothing left, or only failures waiting for their next attempt
    typer.echo(
        f"Tâches : {total_done} exécutée(s), {total_failed} en échec (réessayées plus tard), "
        f"{result.waiting} en attente."
    )


@app.command("list")
def list_() -> None:
    """Lister les tâches en attente (tentatives, dernière erreur)."""
    from pilot.db import session_scope
    from pilot.jobs.service import pending

    with session_scope() as session:
        jobs = pending(session)
    if not jobs:
        typer.echo("Aucune tâche en attente.")
    for job in jobs:
        error = f" — {job.last_error}" if job.last_error else ""
        typer.echo(
            f"  {job.key} : {job.attempts} tentative(s), prochaine le "
            f"{job.next_attempt_at:%d/%m/%Y à %H:%M:%S} UTC{error}"
        )
