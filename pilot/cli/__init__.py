"""The ``pilot`` command. Thin: each command opens a session and calls a service.

Commands live here or, for a whole area, in a module of this package registered at the
bottom of this file (one ``add_typer`` or ``command`` line each)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pilot.config import get_settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from importers.panorama import LoadResult
    from pilot.auth.models import Role
    from pilot.ministries.models import Ministry

app = typer.Typer(
    help="PILOT : pilotage des grands projets numériques de l'État.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Entretien de la base de données.", no_args_is_help=True)
token_app = typer.Typer(
    help="Jetons d'accès à l'API (la valeur n'est affichée qu'une fois).", no_args_is_help=True
)
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
    """Mettre la base de données au dernier schéma (la crée au besoin)."""
    from pilot import migrations
    from pilot.db import get_engine

    migrations.upgrade(get_engine(), revision)
    typer.echo(f"Base de données à jour : {get_settings().resolved_database_url()}")


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that it is rolled back."""


@app.command("import-panorama")
def import_panorama(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="Le fichier du panorama (CSV ou XLSX)."
        ),
    ],
    edition: Annotated[
        int | None, typer.Option(help="Numéro de l'édition (par défaut : selon la date).")
    ] = None,
    published_on: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Date de publication (AAAA-MM-JJ)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Montrer les rapprochements ; ne rien enregistrer.")
    ] = False,
) -> None:
    """Charger une édition du panorama open data de la DINUM (CSV ou XLSX).

    Elle devient une édition publiée. Charger de nouveau le même fichier (ou la même
    édition dans un autre format) ne change rien. Les projets qui ne correspondent à aucun
    projet des éditions précédentes sont listés comme « non rapprochés » : si l'un d'eux
    est un projet renommé, déclarez un alias (pilot projects alias) avant le chargement.

    Le site de l'édition (pages, livret PDF, données ouvertes) est ensuite écrit par le
    planificateur (au démarrage de pilot serve ou de pilot scheduler, puis toutes les
    PILOT_RENDER_INTERVAL_SECONDS secondes), ou tout de suite par pilot render --edition N."""
    from importers.panorama import PanoramaError, import_panorama_file
    from pilot.db import session_scope
    from pilot.projects.service import DomainError

    try:
        with session_scope(write=True) as session:
            result = import_panorama_file(
                session,
                file,
                number=edition,
                published_on=published_on.date() if published_on else None,
            )
            lines = _load_report(file.name, result, dry_run)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except (PanoramaError, DomainError, ValueError) as error:
        raise _fail(f"{file.name} : {error}") from error
    for warning in result.warnings:
        typer.secho(f"avertissement : {warning}", err=True, fg=typer.colors.YELLOW)
    for line in lines:
        typer.echo(line)


def _load_report(filename: str, result: LoadResult, dry_run: bool) -> list[str]:
    """What a load did (or would do), in French, computed inside its transaction."""
    number = result.edition.number
    if not result.created:
        if result.same_content_as is not None:
            return [
                f"{filename} : même contenu que « {result.same_content_as} » "
                f"(édition {number}), rien de nouveau."
            ]
        return [f"{filename} : déjà chargé (édition {number}), rien de nouveau."]
    prefix = "Simulation, rien n'est enregistré. " if dry_run else ""
    lines = [
        f"{prefix}{filename} : édition {number} du {result.edition.published_on:%d/%m/%Y}, "
        f"{len(result.new_projects) + result.matched_projects} projets "
        f"({result.matched_projects} reconnus, {len(result.new_projects)} nouveaux)."
    ]
    if result.first_edition:
        lines += [
            f"  nouveau : {'' if dry_run else new.pilot_id + ' '}{new.ministry} — {new.name}"
            for new in result.created_projects
        ]
    elif result.unmatched:
        advice = (
            "Si l'un d'eux est un projet renommé, déclarez-le avant de charger ce fichier : "
            "pilot projects alias PRJ-… « nouveau nom »."
            if dry_run
            else "Si l'un d'eux est un projet renommé, il a désormais deux identifiants : "
            "un alias ne vaut que pour les chargements suivants (vérifiez-les d'abord avec "
            "--dry-run)."
        )
        lines.append(
            f"Non rapprochés ({len(result.unmatched)}) : absents des éditions déjà chargées, "
            + ("ils seraient créés" if dry_run else "ils ont été créés")
            + f" sous un nouvel identifiant. {advice}"
        )
        for new in result.unmatched:
            ident = "" if dry_run else f"{new.pilot_id} "
            line = f"  non rapproché : {ident}{new.ministry} — {new.name} (ligne {new.line})"
            if new.candidates:
                line += " ; à vérifier : " + ", ".join(new.candidates)
            lines.append(line)
    if result.left_panorama:
        lines.append(
            f"{len(result.left_panorama)} projet(s) absent(s) de cette édition, la plus "
            "récente, sortent du panorama."
        )
    return lines


@app.command("figures")
def figures(
    edition: Annotated[
        str, typer.Option(help="Numéro de l'édition, ou « latest » (la dernière).")
    ] = "latest",
) -> None:
    """Afficher en JSON les chiffres clés d'une édition (répartitions, entrées, sorties)."""
    from pilot.db import session_scope
    from pilot.editions import service as editions
    from pilot.projects.models import format_pilot_id

    with session_scope() as session:
        try:
            found = editions.get_edition(session, edition if edition == "latest" else int(edition))
        except (editions.EditionNotFound, ValueError) as error:
            raise _fail(str(error)) from error
        figures = editions.edition_figures(found)
        diff = editions.diff(session, editions.previous_edition(session, found), found)

        def described(edition_: Any, ids: list[int]) -> list[dict[str, Any]]:
            rows = {r.project_id: r.values for r in editions.edition_rows(session, edition_)}
            return [
                {
                    "id": format_pilot_id(pid),
                    "ministry": rows[pid].get("ministry_code"),
                    "name": rows[pid].get("name"),
                }
                for pid in ids
            ]

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
            "entrants": described(found, diff.entrants) if diff.base else [],
            "exits": described(diff.base, diff.exits) if diff.base else [],
        }
    _echo_json(data)


def _fr(value: Any) -> str | None:
    return None if value is None else str(value).replace(".", ",")


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Processus de service (plus d'un demande PostgreSQL).")
    ] = 1,
) -> None:
    """Servir l'API (GraphQL sur /graphql ; /healthz, /readyz, /metrics)."""
    from pilot.db import is_sqlite

    settings = get_settings()
    if workers > 1 and is_sqlite(settings.resolved_database_url()):
        raise _fail(
            "Plusieurs workers demandent PostgreSQL (PILOT_DATABASE_URL) : avec SQLite, "
            "PILOT sert d'un seul processus. Relancez sans --workers ou configurez PostgreSQL."
        )
    _metrics_dir(settings.var_dir, port)
    scheduler = None
    if settings.scheduler_in_serve:  # embedded default; production: `pilot scheduler`
        # `pilot scheduler` in a process of its own, not a thread of this one: Granian forks
        # its workers from this process, and a fork taken while a scheduler thread holds a
        # lock leaves the worker waiting on that lock for ever (it never answered).
        scheduler = subprocess.Popen(
            [sys.executable, "-c", "from pilot.cli import app; app()", "scheduler"]
        )
    try:
        http_server(host, port, workers).serve()
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(timeout=30)


def _metrics_dir(var_dir: Path, port: int) -> None:
    """prometheus_client's multiprocess mode: the workers write their metrics to files in
    one folder, emptied at each start, that ``/metrics`` sums (its documented set-up: the
    variable must be set before the workers import the library). One folder per port, so
    that two ``pilot serve`` sharing ``var`` on one host keep theirs apart."""
    import os
    import shutil

    folder = var_dir / "metrics" / str(port)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())


def http_server(host: str, port: int, workers: int = 1) -> Any:
    """The HTTP server of ``pilot serve``: Granian, HTTP/1.1, ``workers`` processes
    (each started again if it dies). It closes a connection whose request line and
    headers take longer than ``header_timeout_seconds`` (an idle kept-alive connection
    too) and serves at most ``max_connections`` at once per worker, the next ones waiting
    in the listen backlog; the body's deadline and the forwarded headers are the
    application's (pilot/api/serving.py), the access log too (pilot/api/observability.py,
    with the request id)."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    settings = get_settings()
    return Granian(
        "pilot.api.app:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.header_timeout_seconds * 1000)),
            keep_alive=settings.keep_alive,
        ),
        backpressure=settings.max_connections,
        respawn_failed_workers=True,
        log_access=False,
    )


@app.command("demo")
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Préparer la base intégrée et les données de démonstration, puis servir l'API.

    Charge les deux éditions réelles, ajoute un suivi fictif (jalons, risques, météo,
    saisines de la DINUM ; signalé comme tel) et des comptes de démonstration."""
    from pilot.db import is_sqlite, session_scope
    from pilot.demo import add_demo_accounts, add_demo_follow_up, add_demo_opinions
    from pilot.timeutil import today

    if serve_api:
        # Prepared in a child process: reading the editions starts the isolated reader's
        # fork server, which the web workers forked from this process could not use.
        prepared = subprocess.run(
            [sys.executable, "-c", "from pilot.cli import app; app()", "demo", "--no-serve"],
            check=False,
        )
        if prepared.returncode:
            raise typer.Exit(prepared.returncode)
        typer.echo(f"PILOT sur http://{host}:{port}/graphql (Ctrl+C pour arrêter)")
        typer.echo(
            f"Panorama public : http://{host}:{port}/panorama/ (les éditions chargées sont "
            "écrites dans la minute qui suit le démarrage ; « pilot publish » en publie une "
            "nouvelle)"
        )
        serve(host=host, port=port)
        return
    db_upgrade()
    for path in DEMO_EDITIONS:
        import_panorama(path, edition=None, published_on=None)
    with session_scope(write=True) as session:
        added = add_demo_follow_up(session, today=today())
        logins = add_demo_accounts(session)
        add_demo_opinions(session, today=today())
    if added:
        typer.echo(f"Suivi fictif de démonstration ajouté à {added} projets.")
    settings = get_settings()
    if settings.demo_login and is_sqlite(settings.resolved_database_url()):
        typer.echo(
            f"Espaces web : ouvrez http://{host}:{port}/ puis « Connexion de démonstration », "
            f"et choisissez un compte : {', '.join(logins)} (sans mot de passe ; connexion "
            "de démonstration seulement, impossible en production)."
        )
    else:
        typer.echo(
            "Espaces web : connexion avec ProConnect (PILOT_OIDC_*), ou, pour la "
            "démonstration sur ce poste, relancez avec PILOT_DEMO_LOGIN=true (make demo)."
        )


def role_and_ministry(
    session: Session, role: str, ministry: str | None
) -> tuple[Role, Ministry | None]:
    """The role and the ministry named on the command line (``pilot token create``,
    ``pilot account create``), or a French refusal."""
    from pilot.auth.models import Role
    from pilot.ministries import service as ministries

    try:
        chosen = Role(role)
    except ValueError as error:
        raise _fail(f"Rôle inconnu : {role} (ministry, dinum ou admin).") from error
    target = ministries.get_by_code(session, ministry) if ministry else None
    if ministry and target is None:
        raise _fail(f"Ministère inconnu : {ministry}.")
    return chosen, target


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Qui ou quoi l'utilise.")],
    role: Annotated[str, typer.Option(help="ministry, dinum ou admin.")],
    ministry: Annotated[str | None, typer.Option(help="Code du ministère (rôle ministry).")] = None,
    expires: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
) -> None:
    """Créer un jeton et l'afficher, une seule fois."""
    from pilot.auth import service as auth
    from pilot.db import session_scope

    with session_scope(write=True) as session:
        chosen, target = role_and_ministry(session, role, ministry)
        try:
            token, plaintext = auth.create_token(
                session,
                actor="cli",
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
    """Lister les jetons (jamais leur valeur)."""
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
    """Révoquer un jeton : il cesse aussitôt de fonctionner."""
    from pilot.auth import service as auth
    from pilot.db import session_scope

    with session_scope(write=True) as session:
        if auth.revoke_token(session, token_id, actor="cli") is None:
            raise _fail(f"Aucun jeton {token_id}.")
    typer.echo(f"Jeton {token_id} révoqué.")


from pilot.cli import projects as _projects  # noqa: E402

app.add_typer(_projects.app, name="projects")

from pilot.cli import accounts as _accounts  # noqa: E402

app.add_typer(_accounts.app, name="account")

from pilot.cli import workbook as _workbook  # noqa: E402

_workbook.register(app)

from pilot.cli import api as _api  # noqa: E402,F401  (pilot graphql-schema)
from pilot.cli.publish import publish as _publish  # noqa: E402
from pilot.cli.publish import render as _render  # noqa: E402

app.command("publish")(_publish)
app.command("render")(_render)

from pilot.cli import campaign as _campaign  # noqa: E402

app.add_typer(_campaign.app, name="campaign")

from pilot.cli import alerts as _alerts  # noqa: E402
from pilot.cli import jobs as _jobs  # noqa: E402

app.add_typer(_alerts.app, name="alert")
app.add_typer(_jobs.app, name="jobs")
from pilot.cli import opinion as _opinion  # noqa: E402

app.add_typer(_opinion.app, name="opinion")

if __name__ == "__main__":
    app()
