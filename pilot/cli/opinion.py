"""``pilot opinion``: DINUM's statutory opinions (docs/opinions.md), as DINUM sees them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pilot.auth.service import Principal

app = typer.Typer(help="Avis conformes de la DINUM (saisines, délais, recommandations).")

DateOption = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="Jour (AAAA-MM-JJ ; par défaut aujourd'hui à Paris)"),
]
CLI = "cli"


def _day(value: datetime | None) -> date:
    from pilot.opinions.clock import today_in_paris

    return value.date() if value else today_in_paris()


def _dinum() -> Principal:
    """The command line acts as DINUM (it runs on PILOT's own hosts)."""
    from pilot.auth.models import Role
    from pilot.auth.service import Principal

    return Principal(role=Role.DINUM, name=CLI)


def _ministry_id(code: str | None) -> int | None:
    if not code:
        return None
    from pilot.db import session_scope
    from pilot.ministries import service as ministries

    with session_scope() as session:
        found = ministries.get_by_code(session, code)
        if found is None:
            typer.secho(f"Ministère inconnu : « {code} ».", err=True, fg=typer.colors.RED)
            raise typer.Exit(1)
        return found.id


@app.command("list")
def list_(ministry: Annotated[str | None, typer.Option(help="Code du ministère")] = None) -> None:
    """Les saisines, les plus récentes d'abord, avec leur statut et leur échéance."""
    from pilot.db import session_scope
    from pilot.mail.service import french_date
    from pilot.opinions import service as opinions

    with session_scope() as session:
        views = opinions.list_requests(session, _dinum(), ministry_id=_ministry_id(ministry))
        flags = opinions.threshold_flags(session, _dinum(), ministry_id=_ministry_id(ministry))
    if not views:
        typer.echo("Aucune saisine.")
    for v in views:
        deadline = f", échéance le {french_date(v.clock.deadline)}" if v.clock.deadline else ""
        typer.echo(
            f"n° {v.request.id} {opinions.project_label(v.project)} ({v.ministry_code}) : "
            f"{opinions.STATUS_LABELS[v.clock.status]}{deadline}"
        )
    for f in flags:
        state = "IRRÉGULIER (sous contrat sans avis)" if f.irregular else "sans avis"
        typer.echo(
            f"Seuil atteint : {opinions.project_label(f.project)} ({f.ministry_code}), "
            f"{f.cost_eur / 1e6:.1f} M€, {state}".replace(".", ",")
        )


@app.command("clocks")
def clocks(on: DateOption = None, days: int = 7) -> None:
    """Chaque délai en cours, et ce qui échoit dans les prochains jours."""
    from pilot.db import session_scope
    from pilot.mail.service import french_date
    from pilot.opinions import service as opinions

    today = _day(on)
    with session_scope() as session:
        views, due = opinions.running_clocks(session, _dinum(), today, within_days=days)
    if not views:
        typer.echo("Aucun délai en cours.")
    for v in views:
        clock = v.clock
        where = (
            f"suspendu depuis le {french_date(clock.suspended_since)}"
            if clock.suspended_since
            else f"échéance le {french_date(clock.deadline)} ({clock.days_left(today)} j)"
            if clock.deadline
            else ""
        )
        typer.echo(
            f"n° {v.request.id} {opinions.project_label(v.project)} ({v.ministry_code}) : {where}"
        )
    if due:
        typer.echo(f"À échéance d'ici le {french_date(today + timedelta(days=days))} :")
    for d in due:
        what = "avis de la DINUM" if d.what == "opinion" else "observations ANSSI et budget"
        typer.echo(f"- n° {d.view.request.id} : {what} le {french_date(d.due_on)}")


@app.command("expire")
def expire(on: DateOption = None) -> None:
    """Constater les avis réputés favorables (délai écoulé) et enregistrer les alertes
    des avis (le planificateur le fait chaque jour)."""
    from pilot.db import session_scope
    from pilot.opinions import service as opinions

    with session_scope(write=True) as session:
        result = opinions.daily_checks(session, _day(on))
        expired = [r.id for r in result.expired]
        alerts = len(result.alerts)
    typer.echo(
        f"{len(expired)} avis réputé(s) favorable(s)"
        + (f" (saisines {', '.join(map(str, expired))})" if expired else "")
        + f", {alerts} alerte(s) enregistrée(s)."
    )
