"""``pilot graphql-schema``: export the GraphQL contract, or check it is up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pilot.cli import ROOT, app

SCHEMA_FILE = ROOT / "graphql" / "schema.graphql"


@app.command("graphql-schema")
def graphql_schema(
    check: Annotated[
        bool, typer.Option("--check", help="Échouer si le fichier diffère du code.")
    ] = False,
    output: Annotated[Path, typer.Option(help="Fichier du schéma (SDL).")] = SCHEMA_FILE,
) -> None:
    """Écrire le schéma GraphQL (SDL) exporté du code dans graphql/schema.graphql."""
    from pilot.api.graphql.schema import sdl

    text = sdl()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            typer.secho(
                f"{output} n'est pas à jour : lancez « pilot graphql-schema ».",
                err=True,
                fg=typer.colors.RED,
            )
            raise typer.Exit(1)
        typer.echo(f"{output} est à jour.")
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"Schéma écrit dans {output}.")
