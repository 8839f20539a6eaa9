"""``pilot account``: the people who log in on the web (ProConnect), managed by an admin."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="Comptes du site : une adresse électronique (ProConnect) et son rôle.",
    no_args_is_help=True,
)
ACTOR = "cli"


def _echo_json(data: object) -> None:
    from pilot.cli import _echo_json as echo  # late: pilot.cli registers this module

    echo(data)


def _fail(message: str) -> typer.Exit:
    from pilot.cli import _fail as fail

    return fail(message)


@app.command("create")
def account_create(
    email: Annotated[str, typer.Option(help="Adresse électronique de la personne (ProConnect).")],
    role: Annotated[str, typer.Option(help="ministry, dinum ou admin.")],
    ministry: Annotated[str | None, typer.Option(help="Code du ministère (rôle ministry).")] = None,
) -> None:
    """Créer un compte : la personne pourra se connecter avec ProConnect."""
    from pilot.auth import accounts
    from pilot.cli import role_and_ministry
    from pilot.db import session_scope

    with session_scope(write=True) as session:
        chosen, target = role_and_ministry(session, role, ministry)
        try:
            account = accounts.create_account(
                session, email=email, role=chosen, ministry=target, actor=ACTOR
            )
        except accounts.AccountError as error:
            raise _fail(str(error)) from error
        address = account.email
    typer.echo(f"Compte créé : {address} ({chosen.value}{' ' + ministry if ministry else ''}).")


@app.command("list")
def account_list() -> None:
    """Lister les comptes."""
    from sqlmodel import select

    from pilot.auth import accounts
    from pilot.db import session_scope
    from pilot.ministries.models import Ministry

    with session_scope() as session:
        codes = dict(session.exec(select(Ministry.id, Ministry.code)).all())
        rows = [
            {
                "email": a.email,
                "name": a.name,
                "role": a.role,
                "ministry": codes.get(a.ministry_id) if a.ministry_id else None,
                "disabled": a.disabled,
                "created_at": a.created_at,
                "last_login_at": a.last_login_at,
            }
            for a in accounts.list_accounts(session)
        ]
    _echo_json(rows)


def _set_disabled(email: str, disabled: bool) -> None:
    from pilot.auth import accounts
    from pilot.db import session_scope

    with session_scope(write=True) as session:
        account = accounts.find_account(session, email)
        if account is None:
            raise _fail(f"Aucun compte pour {email}.")
        accounts.set_disabled(session, account, disabled=disabled, actor=ACTOR)


@app.command("disable")
def account_disable(email: str) -> None:
    """Désactiver un compte : il ne peut plus se connecter et ses sessions prennent fin."""
    _set_disabled(email, True)
    typer.echo(f"Compte désactivé : {email.strip().lower()}.")


@app.command("enable")
def account_enable(email: str) -> None:
    """Réactiver un compte désactivé."""
    _set_disabled(email, False)
    typer.echo(f"Compte réactivé : {email.strip().lower()}.")
