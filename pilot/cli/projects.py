"""``pilot projects``: find projects, declare aliases so renamed projects keep their
identity across editions, and print a project's trajectory across editions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

app = typer.Typer(
    help="Projects: list, aliases across editions, trajectory, confidentiality.",
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
    ministry: Annotated[str | None, typer.Option(help="Ministry code or name")] = None,
    in_panorama: Annotated[
        bool | None, typer.Option("--in-panorama/--out-of-panorama", help="Filter")
    ] = None,
) -> None:
    """List projects (PILOT identifier, ministry, name) as JSON."""
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
    project_id: Annotated[str, typer.Argument(help="PILOT identifier, e.g. PRJ-00042")],
    name: Annotated[str, typer.Argument(help="The other spelling of the project's name")],
    ministry: Annotated[
        str | None,
        typer.Option(help="Ministry that files this spelling, if not the project's own"),
    ] = None,
) -> None:
    """Declare that NAME designates PROJECT_ID, so that later editions match it.

    The alias applies to the loads that follow: an edition already loaded is published
    and never changes. Declare aliases before loading an edition (see import-panorama
    --dry-run)."""
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
    project_id: Annotated[str, typer.Argument(help="PILOT identifier, e.g. PRJ-00042")],
) -> None:
    """Print a project's cost, duration and phase in each edition it appears in (JSON)."""
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
    project_id: Annotated[str, typer.Argument(help="PILOT identifier, e.g. PRJ-00042")],
    reason: Annotated[str, typer.Option(help="Why its figures are withheld (required)")],
    until: Annotated[
        str | None, typer.Option(help="Last day of the decision, AAAA-MM-JJ (optional)")
    ] = None,
) -> None:
    """Mark a project confidential (DINUM's decision, audited): the editions published
    while it holds show its identity only, never its figures."""
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
    project_id: Annotated[str, typer.Argument(help="PILOT identifier, e.g. PRJ-00042")],
) -> None:
    """Lift a project's confidentiality (audited): the next editions publish its figures."""
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
