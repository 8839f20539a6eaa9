"""``pilot projects``: find projects, declare aliases so renamed projects keep their
identity across editions, and print a project's trajectory across editions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

app = typer.Typer(
    help="Projets : liste, alias d'une édition à l'autre, trajectoire, confidentialité.",
    no_args_is_help=True,
)

ACTOR = "cli"


def _echo_json(data: object) -> None:
    from pilot.cli import _echo_json as echo  # late: pilot.cli registers this module

    echo(data)


def _fail(message: str) -> typer.Exit:
    from pilot.cli import _fail as fail

    return fail(message)


@app.command("list")
def list_projects(
    ministry: Annotated[str | None, typer.Option(help="Code ou nom du ministère.")] = None,
    in_panorama: Annotated[
        bool | None,
        typer.Option(
            "--in-panorama/--out-of-panorama", help="Dans le panorama, ou hors du panorama."
        ),
    ] = None,
) -> None:
    """Lister les projets (identifiant PILOT, ministère, nom) en JSON."""
    from pilot.db import session_scope
    from pilot.ministries import service as ministries
    from pilot.projects import service as projects

    with session_scope() as session:
        chosen = ministries.get_by_code(session, ministry) if ministry else None
        if ministry and chosen is None:
            raise _fail(f"Ministère inconnu : {ministry}.")
        rows = [
            {
                "id": p.pilot_id,
                "ministry": code,
                "name": p.name,
                "in_panorama": p.in_panorama,
                "phase": p.phase,
            }
            for p, code in projects.list_projects(session, ministry=chosen, in_panorama=in_panorama)
        ]
    _echo_json(rows)


@app.command("alias")
def alias(
    project_id: Annotated[str, typer.Argument(help="Identifiant PILOT, par exemple PRJ-00042.")],
    name: Annotated[str, typer.Argument(help="L'autre graphie du nom du projet.")],
    ministry: Annotated[
        str | None,
        typer.Option(help="Ministère qui emploie cette graphie, s'il n'est pas celui du projet."),
    ] = None,
) -> None:
    """Déclarer que NAME désigne PROJECT_ID, pour les éditions suivantes.

    L'alias vaut pour les chargements qui suivent : une édition déjà chargée est publiée
    et ne change plus. Déclarez les alias avant de charger une édition (voir
    import-panorama --dry-run)."""
    from pilot.db import session_scope
    from pilot.ministries import service as ministries
    from pilot.projects import service as projects

    with session_scope(write=True) as session:
        project = projects.get_project(session, project_id)
        if project is None:
            raise _fail(f"Aucun projet « {project_id} ».")
        target = None
        if ministry:
            target = ministries.get_by_code(session, ministry)
            if target is None:
                raise _fail(f"Ministère inconnu : {ministry}.")
        try:
            added = projects.add_alias(
                session, project, name, on=date.today(), actor=ACTOR, ministry=target
            )
        except projects.DomainError as error:
            raise _fail(
                f"{error} Un alias ne fusionne jamais deux projets existants : déclarez-le "
                "avant de charger l'édition qui utilise ce nom."
            ) from error
        label = f"{project.pilot_id} « {project.name} »"
    if not added:
        typer.echo(f"« {name} » désigne déjà {label} : rien de nouveau.")
        return
    typer.echo(
        f"Alias enregistré : « {name} » désigne {label}. Il s'applique aux prochains "
        "chargements ; les éditions déjà chargées ne changent pas."
    )


@app.command("trajectory")
def trajectory(
    project_id: Annotated[str, typer.Argument(help="Identifiant PILOT, par exemple PRJ-00042.")],
) -> None:
    """Afficher en JSON le coût, la durée et la phase d'un projet à chaque édition."""
    from pilot.db import session_scope
    from pilot.editions import service as editions
    from pilot.money import format_meur
    from pilot.projects import service as projects

    with session_scope() as session:
        project = projects.get_project(session, project_id)
        if project is None:
            raise _fail(f"Aucun projet « {project_id} ».")
        assert project.id is not None
        data = {
            "id": project.pilot_id,
            "name": project.name,
            "names": [
                {"name": n.name, "kind": n.kind, "recorded_on": n.recorded_on.isoformat()}
                for n in projects.names(session, project)
            ],
            "in_panorama": project.in_panorama,
            "trajectory": [
                {
                    "edition": point.edition_number,
                    "published_on": point.published_on.isoformat(),
                    "cost_eur": point.cost_eur,
                    "cost": None if point.cost_eur is None else format_meur(point.cost_eur),
                    "duration_years": (
                        None if point.duration_years is None else str(point.duration_years)
                    ),
                    "phase": point.phase,
                }
                for point in editions.trajectory(session, project.id)
            ],
        }
    _echo_json(data)


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"Date illisible : « {value} » (attendu : AAAA-MM-JJ).") from None


@app.command("confidential")
def confidential(
    project_id: Annotated[str, typer.Argument(help="Identifiant PILOT, par exemple PRJ-00042.")],
    reason: Annotated[str, typer.Option(help="Motif de la décision (obligatoire).")],
    until: Annotated[
        str | None, typer.Option(help="Dernier jour de la décision, AAAA-MM-JJ (facultatif).")
    ] = None,
) -> None:
    """Rendre un projet confidentiel (décision de la DINUM, tracée) : les éditions publiées
    pendant ce temps ne montrent que son identité, jamais ses chiffres."""
    from pilot.db import session_scope
    from pilot.projects import confidentiality
    from pilot.projects import service as projects

    end = _parse_day(until)
    with session_scope(write=True) as session:
        project = projects.get_project(session, project_id)
        if project is None:
            raise _fail(f"Aucun projet « {project_id} ».")
        try:
            changed = confidentiality.mark_confidential(
                session, project, reason=reason, until=end, actor=ACTOR, today=date.today()
            )
        except confidentiality.ConfidentialityError as error:
            raise _fail(str(error)) from error
        label = f"{project.pilot_id} « {project.name} »"
    if not changed:
        typer.echo(f"{label} est déjà confidentiel pour ce motif : rien de nouveau.")
        return
    ending = f" jusqu'au {end.strftime('%d/%m/%Y')} inclus" if end else ""
    typer.echo(
        f"{label} est confidentiel{ending}. Les prochaines éditions ne publieront que son "
        "identité (ministère, nom, description, phase)."
    )


@app.command("unconfidential")
def unconfidential(
    project_id: Annotated[str, typer.Argument(help="Identifiant PILOT, par exemple PRJ-00042.")],
) -> None:
    """Lever la confidentialité d'un projet (tracé) : les éditions suivantes publient ses
    chiffres."""
    from pilot.db import session_scope
    from pilot.projects import confidentiality
    from pilot.projects import service as projects

    with session_scope(write=True) as session:
        project = projects.get_project(session, project_id)
        if project is None:
            raise _fail(f"Aucun projet « {project_id} ».")
        changed = confidentiality.lift_confidentiality(session, project, actor=ACTOR)
        label = f"{project.pilot_id} « {project.name} »"
    if not changed:
        typer.echo(f"{label} n'est pas confidentiel : rien de nouveau.")
        return
    typer.echo(
        f"{label} n'est plus confidentiel : les prochaines éditions publieront ses chiffres."
    )
