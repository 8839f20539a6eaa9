"""``pilot alert subscriber``: DINUM's subscribers to alert e-mails."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Alertes de DINUM.", no_args_is_help=True)
subscriber_app = typer.Typer(help="Abonnés aux alertes par courriel.", no_args_is_help=True)
app.add_typer(subscriber_app, name="subscriber")

Email = Annotated[str, typer.Argument(help="Adresse électronique")]


@subscriber_app.command("add")
def add(email: Email) -> None:
    """Abonner une adresse aux alertes."""
    from pilot.alerts import service as alerts
    from pilot.db import session_scope

    try:
        with session_scope(write=True) as session:
            subscriber = alerts.add_subscriber(session, email=email, actor="cli")
    except alerts.SubscriberError as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from error
    typer.echo(f"{subscriber.email} recevra les alertes.")


@subscriber_app.command("remove")
def remove(email: Email) -> None:
    """Désabonner une adresse."""
    from pilot.alerts import service as alerts
    from pilot.db import session_scope

    with session_scope(write=True) as session:
        removed = alerts.remove_subscriber(session, email=email)
    if not removed:
        typer.secho(f"« {email} » n'est pas abonnée.", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(f"{email.strip().lower()} ne recevra plus les alertes.")


@subscriber_app.command("list")
def list_() -> None:
    """Lister les abonnés (et les adresses de PILOT_ALERT_EMAILS)."""
    from pilot.alerts import service as alerts
    from pilot.config import get_settings
    from pilot.db import session_scope
    from pilot.mail.service import subscribers

    with session_scope() as session:
        added = alerts.list_subscribers(session)
    for s in added:
        typer.echo(f"  {s.email} (ajoutée par {s.added_by} le {s.created_at:%d/%m/%Y})")
    for email in subscribers(get_settings()):
        typer.echo(f"  {email.lower()} (PILOT_ALERT_EMAILS)")
    if not added and not subscribers(get_settings()):
        typer.echo("Aucun abonné.")
