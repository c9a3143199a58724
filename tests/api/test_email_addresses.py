"""One email rule: what the API accepts as an address, the email channel can send to, and
what the channel would refuse at send time, the API refuses at input."""

from __future__ import annotations

import pytest

from channels.email import EmailChannel
from tests.api.helpers import assert_problem

CHANNEL = EmailChannel()

SENDABLE = [
    "dana.jones@example.com",
    "dana3@acme.example",
    "o'neil@example.ie",
    "d+tag@mail.example.co.uk",
    "dänä@example.org",  # SMTPUTF8
    "dana@bücher.example",  # an internationalised domain
]
UNSENDABLE = [
    "dana@localhost",
    "dana@touchbase.test",
    "dana@printer.local",
    "dana@example",
    "dana",
    "dana@",
    "@example.com",
    "Dana <dana@example.com>",
    '"dana jones"@example.com',
    "dana@[127.0.0.1]",
    "dana..jones@example.com",
    "dana@exa mple.com",
    "x" * 250 + "@example.com",
]


@pytest.mark.parametrize("address", SENDABLE)
def test_an_address_the_channel_sends_to_is_taken_for_a_contact(call, world, address):
    assert CHANNEL.check_address(address) is None

    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "D", "email": address}
    )

    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("address", UNSENDABLE)
def test_an_address_the_channel_refuses_is_refused_for_a_contact(call, world, snapshot, address):
    assert CHANNEL.check_address(address)
    before = snapshot()

    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "D", "email": address}
    )

    assert_problem(response, 422, "email")
    assert snapshot() == before


def test_a_changed_contact_address_follows_the_same_rule(call, world, factory):
    contact = factory.contact(world.candidate)

    url = f"/v1/contacts/{contact.id}"

    response = call("PATCH", url, world.tokens["candidate"], json={"email": "dana@localhost"})

    assert_problem(response, 422, "email")


@pytest.mark.parametrize(("address", "ok"), [("ana@localhost", False), ("ána@example.org", True)])
def test_a_users_address_the_sender_follows_the_same_rule(call, world, address, ok):
    body = {"email": address, "name": "Ana", "role": "candidate"}

    response = call("POST", "/v1/users", world.tokens["admin"], json=body)

    assert (response.status_code == 201) is ok
    if not ok:
        assert_problem(response, 422, "email")


def test_the_reason_says_what_is_wrong(call, world):
    response = call(
        "POST",
        "/v1/contacts",
        world.tokens["candidate"],
        json={"name": "D", "email": "d@localhost"},
    )

    reason = assert_problem(response, 422, "email")["errors"]["email"][0]
    assert reason.startswith("Not a valid email address: ")
    assert "@-sign" in reason


@pytest.mark.parametrize("value", [5, True, ["dana@example.org"], {"a": 1}])
def test_an_address_that_is_not_a_string_is_a_422(call, world, value):
    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "D", "email": value}
    )

    assert_problem(response, 422, "email")
