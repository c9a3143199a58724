"""One person, one contact, under real concurrency (PostgreSQL): simultaneous requests that
would give a candidate two contacts with one address leave exactly one, and every other
request is the same 409 naming it (the unique index catches what the check before it
cannot see yet)."""

from __future__ import annotations

from api.models import Contact
from tests.ledger.conftest import LIVE_REQUESTS, needs_postgres, race, request

pytestmark = needs_postgres


def test_simultaneous_creates_with_one_email_leave_one_contact(scene, server, count):
    assert request(server, "GET", "/v1/contacts", scene.token)[0] == 200
    creates = [
        ("POST", "/v1/contacts", {"name": f"Lee {i}", "email": f"Lee.Park@Initech.{tld}"})
        for i, tld in enumerate(["example", "EXAMPLE"] * (LIVE_REQUESTS // 2))
    ]

    results = race(server, scene.token, creates)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (LIVE_REQUESTS - 1), results
    made = next(body["id"] for status, body in results if status == 201)
    refusals = [body for status, body in results if status == 409]
    assert {(body["existing_id"], tuple(body["errors"])) for body in refusals} == {
        (made, ("email",))
    }
    assert count(Contact, email="lee.park@initech.example") == 1


def test_simultaneous_changes_to_one_phone_leave_it_on_one_contact(scene, server, factory, count):
    others = [
        factory.contact(scene.candidate, name=f"Panel {i}", phone=None)
        for i in range(LIVE_REQUESTS)
    ]
    assert request(server, "GET", "/v1/contacts", scene.token)[0] == 200
    changes = [("PATCH", f"/v1/contacts/{c.id}", {"phone": "+1 415 555 0188"}) for c in others]

    results = race(server, scene.token, changes)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (LIVE_REQUESTS - 1), results
    holder = next(body["id"] for status, body in results if status == 200)
    assert {body["existing_id"] for status, body in results if status == 409} == {holder}
    assert count(Contact, phone="+14155550188") == 1
