"""Alembic environment: PILOT's metadata, its engine settings, batch mode on SQLite."""

from __future__ import annotations

from logging.config import fileConfig

from sqlalchemy import Connection

import pilot.models  # noqa: F401  (registers every table)
from alembic import context
from pilot.db import get_engine, is_sqlite, metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=is_sqlite(str(connection.engine.url)),
        compare_type=True,
        compare_server_default=True,
    )


def run_migrations_offline() -> None:
    url = str(get_engine().url)
    context.configure(
        url=url, target_metadata=metadata, literal_binds=True, render_as_batch=is_sqlite(url)
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # given by pilot.migrations (tests, CLI)
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine().connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
