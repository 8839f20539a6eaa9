"""Every write transaction bumps the data version in the same transaction, whoever
writes and however (ORM flush, bulk Core insert, text SQL, the command line); reads,
rolled-back writes and the failed-login bookkeeping do not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlmodel import Session
from typer.testing import CliRunner

from importers.panorama import import_panorama_file
from pilot.cli import app as cli
from pilot.coordination import auth_attempt, current_data_version, written_table
from pilot.db import session_scope
from pilot.ministries.models import Ministry
from pilot.projects import bulk
from pilot.projects.models import Risk
from tests.api.graphql.conftest import Demo


def version(engine: Engine) -> int:
    with engine.connect() as conn:
        return current_data_version(conn)


def test_an_import_bumps_the_version(engine: Engine, panorama_dir: Path) -> None:
    before = version(engine)
    with session_scope(engine, write=True) as session:
        import_panorama_file(session, panorama_dir / "panorama-2017-06.csv")
    assert version(engine) > before


def test_a_bulk_core_insert_bumps_the_version(engine: Engine, panorama_dir: Path) -> None:
    with session_scope(engine, write=True) as session:
        import_panorama_file(session, panorama_dir / "panorama-2017-06.csv")
    with Session(engine) as session:
        project_id = session.execute(text("SELECT id FROM project")).scalars().first()
    before = version(engine)
    with session_scope(engine, write=True) as session:
        rows = [
            {"project_id": project_id, "title": f"R{i}", "probability": 1, "impact": 1}
            for i in range(50)
        ]
        bulk.insert_rows(session, Risk, rows, now=datetime.now(UTC))
    assert version(engine) == before + 1  # once per transaction, not per row


def test_text_sql_bumps_and_a_rollback_does_not(engine: Engine) -> None:
    before = version(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ministry (code, name) VALUES ('XX', 'Essai')"))
    assert version(engine) == before + 1
    with engine.connect() as conn:
        conn.execute(insert(Ministry.__table__).values(code="YY", name="Annulé"))  # type: ignore[attr-defined]
        conn.rollback()
    assert version(engine) == before + 1


def test_reads_and_failed_login_bookkeeping_do_not_bump(engine: Engine) -> None:
    before = version(engine)
    with engine.begin() as conn:
        conn.execute(select(Ministry.__table__))  # type: ignore[attr-defined]
        conn.execute(
            insert(auth_attempt).values(
                client="127.0.0.1", digest="0" * 64, at=datetime.now(UTC), failed=True
            )
        )
    assert version(engine) == before


def test_a_mutation_and_a_publication_bump_the_version(demo: Demo, engine: Engine) -> None:
    before = version(engine)
    body = demo.gql(
        "mutation($i: AddRiskInput!) { addRisk(input: $i) { title } }",
        {
            "i": {
                "projectId": demo.drifting,
                "title": "Nouveau risque",
                "probability": 1,
                "impact": 1,
            }
        },
        role="ministry",
    )
    assert "errors" not in body, body
    after_mutation = version(engine)
    assert after_mutation > before
    body = demo.gql(
        'mutation { publishEdition(publishedOn: "2030-01-01") { number } }', role="dinum"
    )
    assert "errors" not in body, body
    assert version(engine) > after_mutation


def test_a_command_line_write_bumps_the_version(engine: Engine, panorama_dir: Path) -> None:
    runner = CliRunner()
    before = version(engine)
    result = runner.invoke(cli, ["import-panorama", str(panorama_dir / "panorama-2016-11.csv")])
    assert result.exit_code == 0, result.output
    after_import = version(engine)
    assert after_import > before
    result = runner.invoke(cli, ["token", "create", "--name", "essai", "--role", "dinum"])
    assert result.exit_code == 0, result.output
    assert version(engine) > after_import


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("INSERT INTO project (name) VALUES ('x')", "project"),
        ('  update "risk" SET title = 1', "risk"),
        ("DELETE FROM public.milestone", "milestone"),
        ("TRUNCATE ministry, project", "ministry"),
        ("WITH x AS (SELECT 1) UPDATE project SET name = 'a'", "?"),
        ("SELECT * FROM project", None),
        ("WITH x AS (SELECT 1) SELECT * FROM x", None),
    ],
)
def test_written_table(statement: str, table: str | None) -> None:
    assert written_table(statement) == table
