"""ETags on single resources: GET answers one, If-None-Match gives 304, and a write with a
stale If-Match is a 412 that changes nothing. If-Match is optional (absent: unconditional)."""

from __future__ import annotations

import pytest

from api import create_app
from tests.api.helpers import assert_problem


@pytest.fixture
def contact(factory, world):
    return factory.contact(world.candidate, name="Dana Jones", company="Acme")


@pytest.fixture
def contact_url(contact) -> str:
    return f"/v1/contacts/{contact.id}"


def _etag(call, url, token) -> str:
    response = call("GET", url, token)
    assert response.status_code == 200
    assert response.headers["ETag"]
    return response.headers["ETag"]


def test_a_single_resource_answers_an_etag(call, world, contact_url):
    response = call("GET", contact_url, world.tokens["candidate"])

    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"')


def test_the_etag_is_the_same_on_every_read_of_an_unchanged_resource(call, world, contact_url):
    token = world.tokens["candidate"]

    assert _etag(call, contact_url, token) == _etag(call, contact_url, token)


def test_another_api_process_answers_the_same_etag(app, call, world, contact_url):
    """The ETag is a hash of the representation, not of anything in the process."""
    other = create_app({**app.config, "ENGINE": app.extensions["touchbase.engine"]})
    token = world.tokens["candidate"]
    headers = {"Authorization": f"Bearer {token}"}

    answered = other.test_client().get(contact_url, headers=headers)

    assert answered.headers["ETag"] == _etag(call, contact_url, token)


def test_if_none_match_with_the_current_etag_is_304_without_a_body(call, world, contact_url):
    token = world.tokens["candidate"]
    etag = _etag(call, contact_url, token)

    response = call("GET", contact_url, token, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.get_data() == b""
    assert response.headers["ETag"] == etag


def test_if_none_match_with_an_old_etag_answers_the_resource(call, world, contact_url):
    response = call(
        "GET", contact_url, world.tokens["candidate"], headers={"If-None-Match": '"old"'}
    )

    assert response.status_code == 200
    assert response.get_json()["name"] == "Dana Jones"


def test_the_etag_changes_when_the_representation_changes(call, world, contact_url):
    token = world.tokens["candidate"]
    before = _etag(call, contact_url, token)

    call("PATCH", contact_url, token, json={"title": "CTO"})

    assert _etag(call, contact_url, token) != before


def test_a_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    call, world, contact_url, snapshot
):
    token = world.tokens["candidate"]
    stale = _etag(call, contact_url, token)
    call("PATCH", contact_url, token, json={"title": "CTO"})
    before = snapshot()

    response = call("PATCH", contact_url, token, json={"title": "VP"}, headers={"If-Match": stale})

    assert_problem(response, 412, "If-Match")
    assert snapshot() == before


def test_a_patch_with_the_current_if_match_proceeds(call, world, contact_url):
    token = world.tokens["candidate"]
    etag = _etag(call, contact_url, token)

    response = call("PATCH", contact_url, token, json={"title": "VP"}, headers={"If-Match": etag})

    assert response.status_code == 200
    assert response.get_json()["title"] == "VP"


def test_a_patch_answers_the_etag_a_following_get_answers(call, world, contact_url):
    """The write's own answer has more in it (affected_touches); its ETag is the
    resource's, so the client can chain the next If-Match on it."""
    token = world.tokens["candidate"]

    patched = call("PATCH", contact_url, token, json={"title": "VP"})

    assert patched.headers["ETag"] == _etag(call, contact_url, token)


def test_a_patch_without_if_match_proceeds(call, world, contact_url):
    """If-Match is optional: existing clients that send none keep working."""
    response = call("PATCH", contact_url, world.tokens["candidate"], json={"title": "VP"})

    assert response.status_code == 200


def test_if_match_star_proceeds(call, world, contact_url):
    response = call(
        "PATCH",
        contact_url,
        world.tokens["candidate"],
        json={"title": "VP"},
        headers={"If-Match": "*"},
    )

    assert response.status_code == 200


def test_a_delete_with_a_stale_if_match_is_412_and_keeps_the_resource(
    call, world, contact_url, snapshot
):
    before = snapshot()

    response = call("DELETE", contact_url, world.tokens["candidate"], headers={"If-Match": '"x"'})

    assert_problem(response, 412)
    assert snapshot() == before


def test_a_delete_with_the_current_if_match_deletes(call, world, contact_url):
    token = world.tokens["candidate"]
    etag = _etag(call, contact_url, token)

    response = call("DELETE", contact_url, token, headers={"If-Match": etag})

    assert response.status_code == 204
    assert call("GET", contact_url, token).status_code == 404


def test_another_candidates_resource_is_404_before_any_etag_check(call, world, contact_url):
    response = call(
        "PATCH",
        contact_url,
        world.tokens["other_candidate"],
        json={"title": "VP"},
        headers={"If-Match": '"x"'},
    )

    assert_problem(response, 404)


@pytest.mark.parametrize(
    "kind",
    ["contacts", "applications", "interviews", "touches", "responses", "users", "tokens"],
)
def test_every_single_resource_answers_an_etag_and_checks_if_match(call, world, factory, kind):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    objects = {
        "contacts": lambda: contact,
        "applications": lambda: application,
        "interviews": lambda: factory.interview(application, [contact]),
        "touches": lambda: factory.touch(contact, application),
        "responses": lambda: factory.response(contact, application, "replied"),
        "users": lambda: world.candidate,
    }
    token = world.tokens["admin"]
    if kind == "tokens":
        created = call("POST", "/v1/tokens", token, json={"name": "ci"}).get_json()
        url = f"/v1/tokens/{created['id']}"
        method, body = "DELETE", None
    else:
        url = f"/v1/{kind}/{objects[kind]().id}"
        method, body = ("PATCH", _a_change(kind))
    etag = _etag(call, url, token)

    stale = call(method, url, token, json=body, headers={"If-Match": '"stale"'})
    current = call(method, url, token, json=body, headers={"If-Match": etag})

    assert_problem(stale, 412)
    assert current.status_code in (200, 204), current.get_json()


def _a_change(kind: str) -> dict:
    return {
        "contacts": {"title": "VP"},
        "applications": {"position": "Staff engineer"},
        "interviews": {"location": "Room 2"},
        "touches": {"subject": "Thanks again"},
        "responses": {"kind": "rejected"},
        "users": {"name": "Renamed"},
    }[kind]


def test_the_document_declares_etag_if_none_match_and_optional_if_match(app):
    import json

    from api import cli

    spec = json.loads(cli.openapi_document())
    get = spec["paths"]["/v1/contacts/{contact_id}"]["get"]
    patch = spec["paths"]["/v1/contacts/{contact_id}"]["patch"]

    assert "ETag" in get["responses"]["200"]["headers"]
    if_match = next(p for p in patch["parameters"] if p["name"] == "If-Match")

    assert any(p["name"] == "If-None-Match" for p in get["parameters"])
    assert "304" in get["responses"]
    assert "412" in patch["responses"] and "428" not in patch["responses"]
    assert if_match["in"] == "header" and if_match["required"] is False


TEMPLATE = {
    "step": "thank_you",
    "channel": "email",
    "subject": "Thank you, {{ contact.first_name }}",
    "body": "Dear {{ contact.name }},\n\nThank you for your time today.\n\n{{ candidate.name }}",
}


@pytest.mark.parametrize(
    "kind", ["template", "assignment", "org_policy", "contact_policy", "org_channel_settings"]
)
def test_the_other_writable_resources_check_if_match_too(call, world, factory, kind, snapshot):
    token = world.tokens["admin"]
    if kind == "template":
        created = call("POST", "/v1/templates", token, json=TEMPLATE).get_json()
        url, method, body = f"/v1/templates/{created['id']}", "PATCH", {"subject": "Thanks"}
    elif kind == "assignment":
        listed = call("GET", "/v1/assignments", token).get_json()
        url, method, body = f"/v1/assignments/{listed[0]['id']}", "DELETE", None
    elif kind == "org_policy":
        url, method, body = "/v1/policy", "PUT", {"touch_budget": 2}
    elif kind == "contact_policy":
        contact = factory.contact(world.candidate)
        url, method, body = f"/v1/contacts/{contact.id}/policy", "PUT", {"touch_budget": 2}
    else:
        url, method, body = "/v1/channels/email/settings", "DELETE", None
    etag = _etag(call, url, token)
    before = snapshot()

    stale = call(method, url, token, json=body, headers={"If-Match": '"stale"'})
    unchanged = snapshot()
    current = call(method, url, token, json=body, headers={"If-Match": etag})

    assert_problem(stale, 412)
    assert unchanged == before
    assert current.status_code in (200, 204), current.get_json()


def test_a_policy_put_answers_the_etag_a_following_get_answers(call, world):
    token = world.tokens["admin"]

    put = call("PUT", "/v1/policy", token, json={"touch_budget": 2})

    assert put.status_code == 200
    assert put.headers["ETag"] == _etag(call, "/v1/policy", token)


@pytest.mark.parametrize("url", ["/v1/me", "/v1/calendar/feed", "/v1/policy"])
def test_read_only_single_resources_answer_an_etag_and_304(call, world, url):
    token = world.tokens["candidate"]
    etag = _etag(call, url, token)

    assert call("GET", url, token, headers={"If-None-Match": etag}).status_code == 304
