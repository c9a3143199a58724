"""Alembic migrations: upgrade to head reproduces the models, downgrade to base undoes it all.

Runs on a fresh SQLite file, and on a scratch PostgreSQL database when
TOUCHBASE_TEST_DATABASE_URL is set (never on that database itself: the suite's schema lives
there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from api import migrate
from api.db import make_engine
from api.models import Base
from tests.scratch_db import scratch_postgres as scratch_database

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


def test_the_inbound_log_starts_with_the_sids_of_replies_already_recorded(tmp_path):
    """Replies answered before the log existed carry their SID in the note: a replay of
    one must stay a no-op after the upgrade, so the upgrade logs those SIDs."""
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    migrate.upgrade(url, "cd7635adb11f")
    tables = Base.metadata.tables
    sid = "SM" + "5" * 32
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(tables["organizations"].insert().values(id=1, name="North"))
            conn.execute(
                tables["users"]
                .insert()
                .values(id=1, org_id=1, email="c@x.example", name="C", role="candidate")
            )
            who = {"org_id": 1, "candidate_id": 1}
            conn.execute(tables["contacts"].insert().values(id=1, name="Dana", **who))
            conn.execute(
                tables["applications"].insert().values(id=1, company="Acme", position="DE", **who)
            )
            for note in (f"Thanks!\n[Twilio {sid}]", f"Again\n[Twilio {sid}]", "by phone"):
                conn.execute(
                    tables["responses"]
                    .insert()
                    .values(
                        contact_id=1,
                        application_id=1,
                        kind="replied",
                        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
                        note=note,
                        **who,
                    )
                )
        migrate.upgrade(url, "head")
        with engine.connect() as conn:
            logged = conn.execute(text("SELECT sid, kind FROM inbound_messages")).all()
    finally:
        engine.dispose()

    assert [tuple(r) for r in logged] == [(sid, "reply")]


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """A throwaway database next to the test database, dropped afterwards."""
    with scratch_database(PG_URL, "touchbase_migrations") as url:
        yield url


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="TOUCHBASE_TEST_DATABASE_URL is not set")
def test_postgres_upgrade_check_downgrade_upgrade(scratch_postgres):
    _round_trip(scratch_postgres)
