"""The ``pilot`` command. Thin: each command opens a session and calls a service.

Commands live here or, for a whole area, in a module of this package registered at the
bottom of this file (one ``add_typer`` or ``command`` line each)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from pilot.config import get_settings

app = typer.Typer(
    help="PILOT : pilotage des grands projets numériques de l'État.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (the plaintext is shown once).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO_EDITIONS = [
    ROOT / "data" / "panorama" / "panorama-2016-11.csv",
    ROOT / "data" / "panorama" / "panorama-2017-06.csv",
]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the latest schema (creates it if needed)."""
    from pilot import migrations
    from pilot.db import get_engine

    migrations.upgrade(get_engine(), revision)
    typer.echo(f"Base de données à jour : {get_settings().resolved_database_url()}")


@app.command("import-panorama")
def import_panorama(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    edition: Annotated[int | None, typer.Option(help="Edition number (default: by date)")] = None,
    published_on: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Publication date")
    ] = None,
) -> None:
    """Load an edition of DINUM's open-data panorama (CSV or XLSX) as a published edition."""
    from importers.panorama import PanoramaError, import_panorama_file
    from pilot.db import session_scope

    try:
        with session_scope(write=True) as session:
            result = import_panorama_file(
                session,
                file,
                number=edition,
                published_on=published_on.date() if published_on else None,
            )
            number = result.edition.number
    except PanoramaError as error:
        raise _fail(f"{file.name} : {error}") from error
    for warning in result.warnings:
        typer.secho(f"avertissement : {warning}", err=True, fg=typer.colors.YELLOW)
    if not result.created:
        typer.echo(f"{file.name} : déjà chargé (édition {number}), rien de nouveau.")
        return
    typer.echo(
        f"{file.name} : édition {number} du {result.edition.published_on:%d/%m/%Y}, "
        f"{len(result.new_projects) + result.matched_projects} projets "
        f"({result.matched_projects} reconnus, {len(result.new_projects)} nouveaux)."
    )
    for name in result.new_projects:
        typer.echo(f"  nouveau : {name}")


@app.command("figures")
def figures(
    edition: Annotated[str, typer.Option(help="Edition number, or 'latest'")] = "latest",
) -> None:
    """Print an edition's key figures and distributions as JSON."""
    from pilot.db import session_scope
    from pilot.editions import service as editions

    with session_scope() as session:
        try:
            found = editions.get_edition(session, edition if edition == "latest" else int(edition))
        except (editions.EditionNotFound, ValueError) as error:
            raise _fail(str(error)) from error
        figures = editions.edition_figures(found)
        diff = editions.diff(session, editions.previous_edition(session, found), found)
        data = {
            "edition": found.number,
            "published_on": found.published_on.isoformat(),
            "title": found.title,
            "key_figures": {
                "projets_suivis": figures.projects,
                "projets_interministeriels": figures.interministerial,
                "milliards_euros": _fr(figures.total_cost_bn),
                "duree_moyenne_annees": _fr(figures.mean_duration_years),
            },
            **figures.to_json(),
            "previous_edition": diff.base.number if diff.base else None,
            "entrants": len(diff.entrants),
            "exits": len(diff.exits),
        }
    _echo_json(data)


def _fr(value: Any) -> str | None:
    return None if value is None else str(value).replace(".", ",")


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API (GraphQL at /graphql, health at /healthz)."""
    import uvicorn

    uvicorn.run("pilot.api.app:create_app", factory=True, host=host, port=port, log_level="info")


@app.command("demo")
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Migrate the embedded database, load the two real editions, and serve the API."""
    db_upgrade()
    for path in DEMO_EDITIONS:
        import_panorama(path, edition=None, published_on=None)
    if serve_api:
        typer.echo(f"PILOT sur http://{host}:{port}/graphql (Ctrl+C pour arrêter)")
        serve(host=host, port=port)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses it")],
    role: Annotated[str, typer.Option(help="ministry, dinum or admin")],
    ministry: Annotated[str | None, typer.Option(help="Ministry code (role ministry)")] = None,
    expires: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
) -> None:
    """Create a token and print it once."""
    from pilot.auth import service as auth
    from pilot.auth.models import Role
    from pilot.db import session_scope
    from pilot.ministries import service as ministries

    try:
        chosen = Role(role)
    except ValueError as error:
        raise _fail(f"Rôle inconnu : {role} (ministry, dinum ou admin).") from error
    with session_scope(write=True) as session:
        target = ministries.get_by_code(session, ministry) if ministry else None
        if ministry and target is None:
            raise _fail(f"Ministère inconnu : {ministry}.")
        try:
            token, plaintext = auth.create_token(
                session,
                name=name,
                role=chosen,
                ministry=target,
                expires_at=expires.astimezone() if expires else None,
            )
        except ValueError as error:
            raise _fail(str(error)) from error
        token_id = token.id
    typer.echo(f"Jeton {token_id} créé. Conservez-le, il ne sera plus affiché :")
    typer.echo(plaintext)


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their value)."""
    from pilot.auth import service as auth
    from pilot.db import session_scope

    with session_scope() as session:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "role": t.role,
                "ministry_id": t.ministry_id,
                "prefix": t.prefix,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
            }
            for t in auth.list_tokens(session)
        ]
    _echo_json(rows)


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token: it stops working at once."""
    from pilot.auth import service as auth
    from pilot.db import session_scope

    with session_scope(write=True) as session:
        if auth.revoke_token(session, token_id) is None:
            raise _fail(f"Aucun jeton {token_id}.")
    typer.echo(f"Jeton {token_id} révoqué.")


# Area commands, one line each.
from pilot.cli.publish import publish as _publish  # noqa: E402

app.command("publish")(_publish)

if __name__ == "__main__":
    app()
