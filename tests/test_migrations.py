"""Alembic migrations: upgrade to head reproduces the models, downgrade to base undoes it all.

Runs on a fresh SQLite file, and on a scratch PostgreSQL database when
TOUCHBASE_TEST_DATABASE_URL is set (never on that database itself: the suite's schema lives
there).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from api import migrate
from api.db import make_engine
from api.models import Base

PG_URL = os.environ.get("TOUCHBASE_TEST_DATABASE_URL", "")
MODEL_TABLES = set(Base.metadata.tables)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrate.upgrade(url, "head")
    assert _tables(url) == MODEL_TABLES
    migrate.check(url)

    migrate.downgrade(url, "base")
    assert _tables(url) == set()

    migrate.upgrade(url, "head")
    assert _tables(url) == MODEL_TABLES
    migrate.check(url)


def test_sqlite_upgrade_check_downgrade_upgrade(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


def test_check_finds_a_model_the_migrations_lack(tmp_path, monkeypatch):
    from sqlalchemy import Column, Integer, Table

    url = f"sqlite:///{tmp_path / 'drift.db'}"
    migrate.upgrade(url, "head")
    Table("drift_probe", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        with pytest.raises(Exception, match="New upgrade operations detected"):
            migrate.check(url)
    finally:
        Base.metadata.remove(Base.metadata.tables["drift_probe"])


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """A throwaway database next to the test database, dropped afterwards."""
    server = make_url(PG_URL)
    name = f"touchbase_migrations_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="TOUCHBASE_TEST_DATABASE_URL is not set")
def test_postgres_upgrade_check_downgrade_upgrade(scratch_postgres):
    _round_trip(scratch_postgres)
