"""Alembic environment: the models' metadata and the app's database URL."""

from __future__ import annotations

import warnings

from alembic import context

from api.config import load_config
from api.db import make_engine
from api.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_config()["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=sqlite,
    )
    if sqlite:
        # SQLite alters a table by copying it and dropping the old one; with foreign keys
        # on, that drop cascades and empties every table referring to it. The pragma only
        # takes effect outside a transaction, so it goes to the driver before any begins.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with warnings.catch_warnings():
            # SQLite's reflection skips expression indexes (ix_touches_cap_day, ...): check
            # compares them on PostgreSQL only.
            warnings.filterwarnings(
                "ignore", "Skipped unsupported reflection of expression-based index"
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
