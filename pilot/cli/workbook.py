"""Ministry workbook commands: template, import, imports, generate, scheduler.

Their ``--help`` texts are for ministry agents and DINUM: in French."""

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
    out: Annotated[Path, typer.Argument(dir_okay=False, help="Fichier .xlsx à écrire.")],
    ministry: Annotated[str, typer.Option(help="Code du ministère (MI, MJ…).")],
) -> None:
    """Écrire le classeur d'un ministère, prérempli avec ses projets."""
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
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="Le classeur (.xlsx, .xlsm, .ods)."
        ),
    ],
    ministry: Annotated[str, typer.Option(help="Code du ministère (MI, MJ…).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Vérifier seulement : ne rien enregistrer.")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(help="Écrire le rapport de l'import dans ce fichier (.xlsx ou .html)."),
    ] = None,
) -> None:
    """Importer le classeur d'un ministère (.xlsx, .xlsm, .ods) : tout ou rien.

    Tout est vérifié, puis tout est enregistré, ou rien s'il reste une erreur."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from importers.intake import submit
    from importers.workbook.report import summary

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
    typer.echo("  " + summary(outcome.counts, outcome.status))
    _print_findings(outcome.import_id)
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


def _print_import(import_id: int) -> None:
    """One import: a line saying what it is and how it went (even when it found nothing),
    then its findings in reading order."""
    from importers.workbook.report import status_label
    from pilot.db import session_scope
    from pilot.imports.models import ImportFile
    from pilot.ministries.models import Ministry

    with session_scope() as session:
        record = session.get(ImportFile, import_id)
        if record is None:
            raise _fail(f"Aucun import n° {import_id}.")
        found = session.get(Ministry, record.ministry_id)
        code = found.code if found is not None else "?"
        counts = dict(record.counts or {})
    errors, warnings = counts.get("errors", 0), counts.get("warnings", 0)
    verdict = (
        "aucune anomalie"
        if not errors and not warnings
        else f"{errors} erreur(s), {warnings} avertissement(s)"
    )
    typer.echo(
        f"Import n° {import_id} — {record.filename} ({code}), reçu le "
        f"{record.received_at:%d/%m/%Y à %H:%M} : {status_label(record.status)}, {verdict}."
    )
    _print_findings(import_id, limit=100_000)


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
    number: Annotated[
        int | None,
        typer.Argument(help="Le numéro d'un import : afficher son bilan et ses anomalies."),
    ] = None,
    ministry: Annotated[str | None, typer.Option(help="Ce ministère seulement.")] = None,
    limit: Annotated[
        int, typer.Option(help="Combien d'imports, du plus récent au plus ancien.")
    ] = 50,
    show: Annotated[
        int | None, typer.Option(help="Afficher le bilan et les anomalies de cet import.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Avec un numéro : écrire son rapport (.xlsx ou .html).")
    ] = None,
) -> None:
    """Lister les imports (statut, anomalies, changements), ou afficher l'un d'eux."""
    from sqlmodel import col, select

    from importers.workbook.report import status_label, summary
    from pilot.db import session_scope
    from pilot.imports.models import ImportFile
    from pilot.ministries import service as ministries
    from pilot.ministries.models import Ministry

    show = show if show is not None else number
    if show is not None:
        _print_import(show)
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
        typer.echo(
            f"{r.id:>5}  {r.received_at:%d/%m/%Y %H:%M}  {codes.get(r.ministry_id, '?'):6} "
            f"{r.channel:6} {status_label(r.status):10} {counts.get('errors', 0):>5} "
            f"{counts.get('warnings', 0):>6}  {r.filename} ({summary(counts, r.status)})"
        )


def generate(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="Fichier .xlsx à écrire.")],
    projects: Annotated[int, typer.Option(min=1, max=100_000, help="Nombre de projets.")] = 100,
    seed: Annotated[int, typer.Option(help="Graine du tirage aléatoire.")] = 0,
) -> None:
    """Écrire un classeur fictif de N projets × 10 jalons × 10 risques (mesures)."""
    from importers.generate import generate_workbook

    data = generate_workbook(projects, seed)
    out.write_bytes(data)
    typer.echo(f"Classeur écrit : {out} ({projects} projets, {len(data) / 1e6:.1f} Mo).")


def scheduler() -> None:
    """Lancer les tâches planifiées (dépôts, campagnes, envois, panorama provisoire)
    jusqu'à interruption. Sur PostgreSQL, une seconde instance attend que la première
    s'arrête."""
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
