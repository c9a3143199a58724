"""Migrations that change data: what a production database's existing rows become.

Each test builds the schema as it was before the migration on a fresh SQLite file, puts
in the rows a production database may hold, and upgrades (and downgrades) across it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from api import migrate
from api.db import make_engine

NOW = datetime(2026, 11, 1, tzinfo=UTC).isoformat()


@pytest.fixture
def old_database(tmp_path):
    """`old_database(revision)`: a SQLite URL migrated up to `revision`, with one org and
    two candidates (ids 1 and 2); `sql(url, statement, **params)` runs on it."""

    def make(revision: str) -> str:
        url = f"sqlite:///{tmp_path / 'old.db'}"
        migrate.upgrade(url, revision)
        sql(url, "INSERT INTO organizations (id, name, created_at) VALUES (1, 'Office', :now)")
        for user_id in (1, 2):
            sql(
                url,
                "INSERT INTO users (id, org_id, email, name, role, timezone, created_at, "
                "updated_at) VALUES (:id, 1, :email, 'Cand', 'candidate', 'UTC', :now, :now)",
                id=user_id,
                email=f"c{user_id}@example.org",
            )
        return url

    return make


def sql(url: str, statement: str, **params):
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), {"now": NOW, **params})
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def add_contact(url: str, contact_id: int, candidate_id: int, **values) -> None:
    row = {"email": None, "phone": None, "notes": None, **values}
    sql(
        url,
        "INSERT INTO contacts (id, org_id, candidate_id, name, email, phone, notes, timezone, "
        "do_not_contact, sms_opted_out, created_at, updated_at) VALUES (:id, 1, :cand, "
        "'Dana', :email, :phone, :notes, 'UTC', false, false, :now, :now)",
        id=contact_id,
        cand=candidate_id,
        **row,
    )


# -- a3c1e5f7b902: contact-level policy values of unknown authorship become the candidate's


def test_existing_contact_values_become_the_candidates_own_rules(old_database):
    url = old_database("cd7635adb11f")
    add_contact(url, 1, 1)
    loose = json.dumps({"touch_budget": 10, "min_gap_hours": 0})
    sql(
        url,
        'INSERT INTO policy_settings (id, org_id, candidate_id, contact_id, "values", '
        "updated_at) VALUES (1, 1, NULL, NULL, :org, :now), "
        "(2, 1, 1, 1, :loose, :now)",
        org=json.dumps({"touch_budget": 2}),
        loose=loose,
    )

    migrate.upgrade(url, "a3c1e5f7b902")

    rows = sql(url, 'SELECT id, "values", own_values FROM policy_settings ORDER BY id')
    assert [(i, json.loads(v), o and json.loads(o)) for i, v, o in rows] == [
        (1, {"touch_budget": 2}, None),
        (2, {}, {"touch_budget": 10, "min_gap_hours": 0}),
    ]
    migrate.downgrade(url, "cd7635adb11f")
    rows = sql(url, 'SELECT "values" FROM policy_settings WHERE id = 2')
    assert json.loads(rows[0][0]) == {"touch_budget": 10, "min_gap_hours": 0}
