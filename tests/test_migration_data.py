"""Migrations that change data: what a production database's existing rows become.

Each test builds the schema as it was before the migration on a fresh database, puts
in the rows a production database may hold, and upgrades (and downgrades) across it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from api import migrate
from api.db import make_engine
from tests.scratch_db import scratch_postgres

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PG_URL = os.environ.get("TOUCHBASE_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    """A fresh SQLite file, and a throwaway PostgreSQL database next to the test database
    when TOUCHBASE_TEST_DATABASE_URL is set (never that database itself)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("TOUCHBASE_TEST_DATABASE_URL is not a PostgreSQL URL")
    with scratch_postgres(PG_URL, "touchbase_data") as url:
        yield url


@pytest.fixture
def old_database(empty_database):
    """`old_database(revision)`: the database migrated up to `revision`, with one org and
    two candidates (ids 1 and 2); `sql(url, statement, **params)` runs on it."""

    def make(revision: str) -> str:
        url = empty_database
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


def loads(value):
    """A JSON column as read by plain SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


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
    assert [(i, loads(v), loads(o)) for i, v, o in rows] == [
        (1, {"touch_budget": 2}, None),
        (2, {}, {"touch_budget": 10, "min_gap_hours": 0}),
    ]
    migrate.downgrade(url, "cd7635adb11f")
    rows = sql(url, 'SELECT "values" FROM policy_settings WHERE id = 2')
    assert loads(rows[0][0]) == {"touch_budget": 10, "min_gap_hours": 0}


# -- d4e8f2a6c913: one contact per email and per phone, per candidate ------------------------


def _contacts(url: str) -> dict[int, tuple]:
    rows = sql(url, "SELECT id, email, phone, notes FROM contacts ORDER BY id")
    return {row[0]: tuple(row[1:]) for row in rows}


def test_existing_duplicates_keep_the_address_on_the_oldest_contact(old_database):
    url = old_database("a3c1e5f7b902")
    add_contact(url, 1, 1, email=" Dana@Acme.example", phone="+14155550100")
    add_contact(url, 2, 1, email="dana@acme.EXAMPLE", notes="Met at the fair.")
    add_contact(url, 3, 1, email="raj@acme.example", phone="+14155550100")
    add_contact(url, 4, 2, email="dana@acme.example", phone="+14155550100")  # another candidate

    migrate.upgrade(url, "d4e8f2a6c913")

    after = _contacts(url)
    assert after[1] == ("dana@acme.example", "+14155550100", None)
    assert after[2][:2] == (None, None)
    assert after[2][2].startswith("Met at the fair.\n[touchbase upgrade] email dana@acme.example")
    assert "contact 1 has it" in after[2][2]
    assert after[3][:2] == ("raj@acme.example", None)
    assert "phone +14155550100 removed: contact 1 has it" in after[3][2]
    assert after[4] == ("dana@acme.example", "+14155550100", None)


def test_after_the_upgrade_the_database_refuses_a_duplicate(old_database):
    url = old_database("a3c1e5f7b902")
    add_contact(url, 1, 1, email="dana@acme.example")
    migrate.upgrade(url, "d4e8f2a6c913")

    with pytest.raises(IntegrityError):
        add_contact(url, 2, 1, email="dana@acme.example")
    migrate.downgrade(url, "a3c1e5f7b902")
    add_contact(url, 2, 1, email="dana@acme.example")  # the downgrade lifts the index


# -- e5a1c9d3b7f2: the time a person asked for ---------------------------------------------


def test_the_upgrade_keeps_a_hand_scheduled_touch_at_its_time_as_asked(old_database):
    url = old_database("d4e8f2a6c913")
    _with_application(url)
    _add_touch(url, 1, "scheduled", scheduled_for=NOW)  # the planner's
    _add_touch(url, 2, "scheduled", scheduled_for=NOW)
    sql(url, "UPDATE touches SET planned = false WHERE id = 2")  # the candidate's own

    migrate.upgrade(url, "e5a1c9d3b7f2")

    rows = sql(url, "SELECT id, requested_for FROM touches ORDER BY id")
    assert [(r[0], r[1] is not None) for r in rows] == [(1, False), (2, True)]


# -- e5a9c3d7f1b4: drafts awaiting approval ---------------------------------------------------


def _add_touch(url: str, touch_id: int, status: str, **values) -> None:
    sql(
        url,
        "INSERT INTO touches (id, org_id, candidate_id, contact_id, application_id, round, "
        "step, channel, status, automated, planned, attempts, flags, warnings, created_at, "
        "updated_at" + "".join(f", {k}" for k in values) + ") VALUES (:id, 1, 1, 1, 1, 1, "
        "'thank_you', 'email', :status, true, true, 0, '[]', '[]', :now, :now"
        + "".join(f", :{k}" for k in values)
        + ")",
        id=touch_id,
        status=status,
        **values,
    )


def _with_application(url: str) -> None:
    add_contact(url, 1, 1)
    sql(
        url,
        "INSERT INTO applications (id, org_id, candidate_id, company, position, status, "
        "created_at, updated_at) VALUES (1, 1, 1, 'Acme', 'Engineer', 'active', :now, :now)",
    )


def test_after_the_upgrade_a_touch_may_be_a_draft_with_a_deadline(old_database):
    url = old_database("d4e8f2a6c913")
    _with_application(url)

    migrate.upgrade(url, "e5a9c3d7f1b4")

    _add_touch(url, 1, "draft", approve_by=NOW)
    assert sql(url, "SELECT status FROM touches") == [("draft",)]
    with pytest.raises(IntegrityError):
        _add_touch(url, 2, "pending")


def test_a_downgrade_cancels_the_drafts_left(old_database):
    url = old_database("d4e8f2a6c913")
    _with_application(url)
    migrate.upgrade(url, "e5a9c3d7f1b4")
    _add_touch(url, 1, "draft", approve_by=NOW)
    _add_touch(url, 2, "scheduled")

    migrate.downgrade(url, "d4e8f2a6c913")

    rows = sql(url, "SELECT id, status FROM touches ORDER BY id")
    assert [tuple(r) for r in rows] == [(1, "cancelled"), (2, "scheduled")]


# -- c367410a75c1: responses recorded before provenance say where they came from


def _add_response(url: str, response_id: int, note: str, channel: str | None) -> None:
    sql(
        url,
        "INSERT INTO responses (id, org_id, candidate_id, contact_id, application_id, round, "
        "kind, channel, occurred_at, note, created_at) VALUES (:id, 1, 1, 1, 1, 1, 'rejected', "
        ":channel, :now, :note, :now)",
        id=response_id,
        note=note,
        channel=channel,
    )


def test_the_upgrade_names_the_source_of_the_responses_already_heard(old_database):
    url = old_database("0df9b726a28a")
    _with_application(url)
    _add_response(url, 1, "Sorry.\n[email <r1@example.com>]", "email")
    _add_response(url, 2, "Sorry.\n[Twilio SM" + "7" * 32 + "]", "sms")
    _add_response(url, 3, "She called to say no", "call")
    sql(
        url,
        "INSERT INTO inbound_mail (id, org_id, dedupe_key, message_id, source, received_at, "
        "outcome, classification, confidence, text, response_id) VALUES (5, 1, '<r1@example.com>', "
        "'<r1@example.com>', 'raw', :now, 'recorded', 'rejected', 0.9, 'Sorry.', 1)",
    )

    migrate.upgrade(url, "c367410a75c1")

    rows = sql(
        url,
        "SELECT id, source, message_id, text, classified_as, confidence, inbound_id "
        "FROM responses ORDER BY id",
    )
    assert [tuple(r) for r in rows] == [
        (1, "email", "<r1@example.com>", "Sorry.", "rejected", 0.9, 5),
        (2, "sms", None, None, "rejected", None, None),
        (3, "manual", None, None, None, None, None),
    ]
