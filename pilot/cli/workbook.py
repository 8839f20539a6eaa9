"""Ministry workbook commands: template, import, imports, generate, scheduler."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from pilot.config import get_settings
from pilot.storage import StorageError


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def template(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the .xlsx")],
    ministry: Annotated[str, typer.Option(help="Ministry code (MI, MJ…)")],
) -> None:
    """Write a ministry's workbook, prefilled with its projects."""
    from importers.workbook.template import build_template
    from pilot.db import session_scope
    from pilot.ministries import service as ministries

    with session_scope() as session:
        found = ministries.get_by_code(session, ministry)
        if found is None:
            raise _fail(f"Ministère inconnu : {ministry}.")
        data = build_template(session, found)
    out.write_bytes(data)
    typer.echo(f"Modèle écrit : {out} ({len(data) // 1024} Ko).")


def import_workbook(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    ministry: Annotated[str, typer.Option(help="Ministry code (MI, MJ…)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only")] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write the import report (.xlsx or .html) there")
    ] = None,
) -> None:
    """Import a ministry workbook (.xlsx, .xlsm, .ods): validate, then apply all or nothing."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from importers.intake import submit

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
        task = bar.add_task("archivage", total=None)
        try:
            outcome = submit(
                data=file.read_bytes(),
                filename=file.name,
                ministry_code=ministry,
                submitted_by="cli",
                channel="cli",
                dry_run=dry_run,
                progress=lambda label: bar.update(task, description=label),
            )
        except StorageError as error:
            typer.secho(str(error.strerror), err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from error
    _print_findings(outcome.import_id)
    labels = {
        "applied": "importé",
        "validated": "valide (essai à blanc : rien n'a été enregistré)",
        "rejected": "refusé : rien n'a été enregistré",
        "duplicate": "déjà importé : rien n'a changé",
        "failed": "échec : rien n'a été enregistré",
    }
    typer.echo(
        f"{file.name} : import n° {outcome.import_id} {labels.get(outcome.status, outcome.status)}"
        f" — {outcome.errors} erreur(s), {outcome.warnings} avertissement(s)."
    )
    changes = {k: v for k, v in outcome.counts.items() if v and not k.endswith("_ms")}
    if changes:
        typer.echo("  " + ", ".join(f"{k} = {v}" for k, v in sorted(changes.items())))
    if report is not None:
        _write_report(outcome.import_id, report)
    if outcome.status in ("rejected", "failed"):
        raise typer.Exit(1)


def _print_findings(import_id: int, limit: int = 200) -> None:
    from importers.workbook.report import issues_of
    from pilot.db import session_scope

    with session_scope() as session:
        issues = issues_of(session, import_id)
    for issue in issues[:limit]:
        color = typer.colors.RED if issue.is_error else typer.colors.YELLOW
        typer.secho(f"  {issue.describe()}", fg=color)
    if len(issues) > limit:
        typer.echo(f"  … et {len(issues) - limit} autres (voir le rapport : --report).")


def _write_report(import_id: int, out: Path) -> None:
    from importers.workbook.report import issues_of, report_html, report_workbook
    from pilot.db import session_scope
    from pilot.imports.models import ImportFile

    with session_scope() as session:
        record = session.get(ImportFile, import_id)
        if record is None:
            raise _fail(f"Aucun import n° {import_id}.")
        issues = issues_of(session, import_id)
    if out.suffix.lower() in (".html", ".htm"):
        out.write_text(report_html(record, issues), encoding="utf-8")
    else:
        stored = Path(record.stored_path)
        out.write_bytes(report_workbook(stored.read_bytes() if stored.exists() else None, issues))
    typer.echo(f"Rapport écrit : {out}")


def imports(
    ministry: Annotated[str | None, typer.Option(help="Only this ministry")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 50,
    show: Annotated[int | None, typer.Option(help="Print the findings of this import")] = None,
    report: Annotated[Path | None, typer.Option(help="With --show: write its report")] = None,
) -> None:
    """List imports with their status and counts (or show one import's findings)."""
    from sqlmodel import col, select

    from pilot.db import session_scope
    from pilot.imports.models import ImportFile
    from pilot.ministries import service as ministries
    from pilot.ministries.models import Ministry

    if show is not None:
        _print_findings(show, limit=100_000)
        if report is not None:
            _write_report(show, report)
        return
    with session_scope() as session:
        query = select(ImportFile).order_by(col(ImportFile.id).desc()).limit(limit)
        if ministry:
            found = ministries.get_by_code(session, ministry)
            if found is None:
                raise _fail(f"Ministère inconnu : {ministry}.")
            query = query.where(col(ImportFile.ministry_id) == found.id)
        codes = {m.id: m.code for m in session.exec(select(Ministry))}
        rows = session.exec(query).all()
    typer.echo(
        f"{'n°':>5}  {'reçu le':16}  {'min.':6} {'canal':6} {'statut':10} "
        f"{'err.':>5} {'avert.':>6}  fichier / changements"
    )
    for r in rows:
        counts = r.counts or {}
        changed = sum(
            v for k, v in counts.items() if k.endswith(("_created", "_updated")) or k == "reports"
        )
        typer.echo(
            f"{r.id:>5}  {r.received_at:%d/%m/%Y %H:%M}  {codes.get(r.ministry_id, '?'):6} "
            f"{r.channel:6} {r.status:10} {counts.get('errors', 0):>5} "
            f"{counts.get('warnings', 0):>6}  {r.filename} ({changed} changements)"
        )


def generate(
    out: Annotated[Path, typer.Argument(dir_okay=False)],
    projects: Annotated[int, typer.Option(min=1, max=100_000, help="Number of projects")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
) -> None:
    """Write a synthetic workbook: N new projects × 10 milestones × 10 risks (benchmarks)."""
    from importers.generate import generate_workbook

    data = generate_workbook(projects, seed)
    out.write_bytes(data)
    typer.echo(f"Classeur écrit : {out} ({projects} projets, {len(data) / 1e6:.1f} Mo).")


def scheduler() -> None:
    """Run the scheduled jobs (inbox scan) in this process, until interrupted. On
    PostgreSQL a second instance waits until the first stops (the scheduler lock)."""
    from pilot.api.observability import configure_logging
    from pilot.db import get_engine
    from pilot.scheduler import run_alone

    settings = get_settings()
    configure_logging(settings.log_json)
    typer.echo(
        f"Planificateur : dossier de dépôt {settings.inbox_path}, "
        f"toutes les {settings.inbox_interval_seconds} s (Ctrl+C pour arrêter)."
    )
    held = True
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        held = run_alone(settings, get_engine())
    if not held:
        typer.secho(
            "Verrou du planificateur perdu (base de données injoignable) : arrêt.",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("template")(template)
    app.command("import")(import_workbook)
    app.command("imports")(imports)
    app.command("generate")(generate)
    app.command("scheduler")(scheduler)
