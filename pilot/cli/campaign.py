"""``pilot campaign``: reporting campaigns, ministries' contacts and reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

app = typer.Typer(help="Campagnes de remontée des ministères.", no_args_is_help=True)
contact_app = typer.Typer(help="Adresses des ministères (rappels, bilans d'import).")
app.add_typer(contact_app, name="contact")

DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def _day(value: datetime | None) -> date:
    from pilot.timeutil import today

    return value.date() if value else today()


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@app.command("open")
def open_(
    title: Annotated[str, typer.Option(help="Titre, par exemple « Remontée de janvier 2027 »")],
    deadline: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Date limite")],
    ministry: Annotated[
        list[str] | None, typer.Option(help="Code d'un ministère concerné (tous par défaut)")
    ] = None,
    on: DateOption = None,
) -> None:
    """Ouvrir une campagne (une seule à la fois) pour les ministères nommés, ou tous."""
    from pilot.campaigns import service as campaigns
    from pilot.db import session_scope
    from pilot.mail.service import french_date

    try:
        with session_scope(write=True) as session:
            campaign = campaigns.open_campaign(
                session,
                title=title,
                deadline=deadline.date(),
                ministry_codes=ministry or [],
                on=_day(on),
                actor="cli",
            )
            count = len(campaigns.concerned_ministries(session, campaign))
    except campaigns.CampaignError as error:
        raise _fail(str(error)) from error
    typer.echo(
        f"Campagne « {campaign.title} » ouverte jusqu'au {french_date(campaign.deadline)} "
        f"pour {count} ministère{'s' if count > 1 else ''}."
    )


@app.command("status")
def status(on: DateOption = None) -> None:
    """L'état de chaque ministère concerné dans la campagne ouverte (ou la dernière)."""
    from pilot.campaigns import service as campaigns
    from pilot.db import session_scope
    from pilot.mail.service import french_date

    day = _day(on)
    with session_scope() as session:
        campaign = campaigns.latest_campaign(session)
        if campaign is None:
            raise _fail("Aucune campagne.")
        rows = campaigns.ministry_statuses(session, campaign, on=day)
    state = "ouverte" if campaign.is_open else "clôturée"
    typer.echo(
        f"Campagne « {campaign.title} » ({state}), date limite le "
        f"{french_date(campaign.deadline)} :"
    )
    for row in rows:
        last = f", dernier envoi le {row.last_received_at:%d/%m/%Y}" if row.last_received_at else ""
        typer.echo(f"  {row.code:<12} {row.state.value}{last}")


@app.command("close")
def close(on: DateOption = None) -> None:
    """Clore la campagne ouverte et montrer l'édition que ses données donneraient (rien
    n'est publié : « pilot publish » le fait)."""
    from pilot.campaigns import service as campaigns
    from pilot.db import session_scope

    day = _day(on)
    try:
        with session_scope(write=True) as session:
            campaign = campaigns.close_campaign(session, on=day)
            rows = campaigns.ministry_statuses(session, campaign, on=day)
    except campaigns.CampaignError as error:
        raise _fail(str(error)) from error
    sent = sum(1 for r in rows if r.state == campaigns.MinistryState.SENT)
    typer.echo(
        f"Campagne « {campaign.title} » clôturée : {sent} ministère(s) sur {len(rows)} "
        "ont envoyé leur classeur."
    )
    for row in rows:
        if row.state != campaigns.MinistryState.SENT:
            typer.echo(f"  {row.code:<12} {row.state.value}")
    with session_scope() as session:
        edition = campaigns.edition_preview(session, on=day)
    f = edition.figures
    typer.echo(
        f"Édition proposée : n° {edition.number} du {day:%d/%m/%Y}, {f['projects']} projets "
        f"({f['interministerial']} interministériels, "
        f"{str(f['total_cost_bn']).replace('.', ',')} Md€), {len(f['entrants'])} entrées et "
        f"{len(f['exits'])} sorties. Rien n'est publié : lancez « pilot publish » pour la "
        "publier."
    )


@app.command("remind")
def remind(
    on: DateOption = None,
    send: Annotated[bool, typer.Option(help="Envoyer ensuite les messages en attente.")] = True,
) -> None:
    """Préparer les rappels du jour (le planificateur le fait chaque jour), puis envoyer les
    messages en attente."""
    from pilot.campaigns import service as campaigns
    from pilot.db import session_scope
    from pilot.mail.service import deliver

    with session_scope(write=True) as session:
        reminded = campaigns.remind(session, on=_day(on))
    for r in reminded:
        typer.echo(f"  {r.ministry:<12} rappel {r.kind} du {r.day:%d/%m/%Y} : {r.queued} envoi(s)")
    if not reminded:
        typer.echo("Aucun rappel à envoyer.")
    if send:
        result = deliver()
        typer.echo(
            f"Messages : {result.sent} envoyé(s), {result.failed} en échec (réessayés plus "
            f"tard), {result.waiting} en attente."
        )


@contact_app.command("add")
def contact_add(
    ministry: Annotated[str, typer.Option(help="Code du ministère")],
    email: Annotated[str, typer.Option(help="Adresse électronique")],
) -> None:
    """Ajouter une adresse aux contacts d'un ministère."""
    from pilot.campaigns import service as campaigns
    from pilot.db import session_scope

    try:
        with session_scope(write=True) as session:
            campaigns.add_contact(session, ministry_code=ministry, email=email, actor="cli")
    except campaigns.CampaignError as error:
        raise _fail(str(error)) from error
    typer.echo(f"Contact {email} ajouté pour {ministry}.")


@contact_app.command("remove")
def contact_remove(
    ministry: Annotated[str, typer.Option(help="Code du ministère")],
    email: Annotated[str, typer.Option(help="Adresse électronique")],
) -> None:
    """Retirer une adresse des contacts d'un ministère."""
    from pilot.campaigns import service as campaigns
    from pilot.db import session_scope

    try:
        with session_scope(write=True) as session:
            removed = campaigns.remove_contact(session, ministry_code=ministry, email=email)
    except campaigns.CampaignError as error:
        raise _fail(str(error)) from error
    typer.echo(f"Contact {email} retiré." if removed else f"{email} n'était pas un contact.")


@contact_app.command("list")
def contact_list(ministry: Annotated[str, typer.Option(help="Code du ministère")]) -> None:
    """Lister les contacts d'un ministère."""
    from pilot.campaigns import service as campaigns
    from pilot.db import session_scope
    from pilot.ministries import service as ministries

    with session_scope() as session:
        found = ministries.get_by_code(session, ministry)
        if found is None or found.id is None:
            raise _fail(f"Ministère inconnu : « {ministry} ».")
        for email in campaigns.contacts_of(session, found.id):
            typer.echo(email)
