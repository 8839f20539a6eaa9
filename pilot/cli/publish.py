"""``pilot publish``: freeze the current portfolio as the next edition, commit, then write the
panorama; ``pilot render``: write (again) any published edition from its frozen rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from pilot.config import get_settings

Workers = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Processus qui dessinent les fiches projets et mettent en page le livret PDF "
        "(par défaut PILOT_DRAWING_WORKERS : un par processeur, 8 au plus).",
    ),
]


def publish(
    number: Annotated[
        int | None, typer.Option(help="Numéro de l'édition (par défaut : la suivante).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Montrer ce qui serait publié ; ne rien écrire.")
    ] = False,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft", help="Écrire seulement le panorama provisoire (pas de nouvelle édition)."
        ),
    ] = False,
    workers: Workers = None,
    published_on: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Date de publication (aujourd'hui par défaut)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Publier même si une autre édition est trop proche ou porte le même titre.",
        ),
    ] = False,
) -> None:
    """Publier le panorama : l'édition, le site, le livret PDF et les données ouvertes."""
    from pilot.db import session_scope
    from pilot.editions import service as editions
    from scorecards import publish as publisher
    from scorecards.site import SiteError
    from scorecards.view import draft_view

    site_root = get_settings().site_path
    on = published_on.date() if published_on else date.today()
    try:
        if dry_run:
            with session_scope() as session:
                edition = editions.publish_current(
                    session, published_on=on, number=number, dry_run=True, force=force
                )
            f = edition.figures
            typer.echo(
                f"Simulation : l'édition n° {edition.number} du {on:%d/%m/%Y} compterait "
                f"{f['projects']} projets ({f['interministerial']} interministériels, "
                f"{str(f['total_cost_bn']).replace('.', ',')} Md€), "
                f"{len(f['entrants'])} entrées et {len(f['exits'])} sorties. Rien n'a été écrit."
            )
            return
        if draft:
            with session_scope() as session:  # read, then drawn outside any transaction
                view = draft_view(session, today=on)
            report = publisher.build(view, site_root, workers=workers)
            label = "Brouillon du panorama"
        else:
            # The one publication path: freeze and commit, then render the frozen edition.
            publication = publisher.publish_edition(
                None, site_root, published_on=on, number=number, force=force, workers=workers
            )
            for warning in publication.warnings:
                typer.secho(f"Attention : {warning}", err=True, fg=typer.colors.YELLOW)
            report = publication.report
            label = f"Édition n° {publication.number} publiée"
    except (editions.PublicationError, SiteError, publisher.DrawingError) as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from error
    typer.echo(
        f"{label} dans {report.folder} : {report.projects} projets, "
        f"{report.drawn} fiches dessinées, {report.reused} réutilisées, "
        f"{report.total_seconds:.1f} s."
    )
    for path in report.files:
        typer.echo(f"  {path}")


def render(
    edition: Annotated[int, typer.Option(help="Numéro de l'édition publiée.")],
    workers: Workers = None,
) -> None:
    """(Ré)écrire le site, le livret PDF et les données ouvertes d'une édition publiée à
    partir de ses lignes figées (y compris les éditions chargées des données ouvertes)."""
    from pilot.editions import service as editions
    from scorecards import publish as publisher
    from scorecards.site import SiteError

    try:
        report = publisher.render_published(
            None, edition, get_settings().site_path, workers=workers
        )
    except (editions.EditionNotFound, SiteError, publisher.DrawingError) as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from error
    typer.echo(
        f"Édition n° {edition} écrite dans {report.folder} : {report.projects} projets, "
        f"{report.drawn} fiches dessinées, {report.reused} réutilisées."
    )
