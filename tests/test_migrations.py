"""The Alembic history creates exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from pilot import migrations
from pilot.db import is_sqlite, make_engine, metadata
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: object) -> Engine:
    if request.param == "postgresql":
        engine: Engine = request.getfixturevalue("pg_engine")
        metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        request.addfinalizer(lambda: _restore(engine))
        return engine
    return make_engine(f"sqlite:///{tmp_path}/migrated.db")


def _restore(engine: Engine) -> None:
    migrations.downgrade(engine, "base")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    metadata.create_all(engine)


def test_upgrade_head_matches_the_models_exactly(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": is_sqlite(str(conn.engine.url))}
        )
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_then_upgrade_again(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    migrations.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(empty_engine)
    assert "project" in inspect(empty_engine).get_table_names()
