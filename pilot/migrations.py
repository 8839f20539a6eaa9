"""Run Alembic from code (``pilot db upgrade``, tests) on a given engine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from alembic import command
from pilot.coordination import UNVERSIONED

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(engine: Engine) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection.execution_options(**{UNVERSIONED: True})
        command.upgrade(config, revision)


def stamp(engine: Engine, revision: str = "head") -> None:
    """Record ``revision`` as the database's without running any migration (tables made
    from the models, which match the head: tests/test_migrations.py)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection.execution_options(**{UNVERSIONED: True})
        command.stamp(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection.execution_options(**{UNVERSIONED: True})
        command.downgrade(config, revision)


@lru_cache
def head_revisions() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())
