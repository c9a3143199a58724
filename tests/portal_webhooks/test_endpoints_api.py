"""/v1/webhook-endpoints: the org's admins manage where webhooks go; the secret is shown
once; another org's endpoints do not exist for them."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem

URL = "/v1/webhook-endpoints"
BODY = {"url": "https://portal.example.edu/hooks", "event_types": ["touch.sent"]}


@pytest.fixture
def created(call, world):
    answer = call("post", URL, world.tokens["admin"], json=BODY)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_creating_an_endpoint_answers_its_secret_once(created, call, world):
    again = call("get", f"{URL}/{created['id']}", world.tokens["admin"]).get_json()

    assert created["secret"].startswith("whsec_")
    assert "secret" not in again


def test_an_endpoint_is_enabled_and_hears_the_types_it_named(created):
    assert created["enabled"] is True
    assert created["event_types"] == ["touch.sent"]
    assert created["previous_secret_expires_at"] is None


def test_the_list_holds_the_orgs_endpoints_without_secrets(created, call, world):
    listed = call("get", URL, world.tokens["admin"]).get_json()

    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]


@pytest.mark.parametrize("role", ["advisor", "candidate"])
def test_only_admins_manage_endpoints(call, world, role):
    assert_problem(call("post", URL, world.tokens[role], json=BODY), 403)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/rotate-secret"),
        ("get", "/deliveries"),
    ],
)
def test_another_orgs_endpoint_answers_404(created, call, world, method, suffix):
    kwargs = {"json": {"enabled": False}} if method == "patch" else {}
    answer = call(
        method, f"{URL}/{created['id']}{suffix}", world.tokens["stranger_admin"], **kwargs
    )

    assert_problem(answer, 404)


def test_another_orgs_delivery_cannot_be_redelivered(created, call, world):
    url = f"{URL}/{created['id']}/deliveries/1/redeliver"

    assert_problem(call("post", url, world.tokens["stranger_admin"]), 404)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://portal.example.edu/hooks",
        "portal.example.edu/hooks",
        "https://user:pw@portal.example.edu/hooks",
        "https:///hooks",
        "https://portal.example.edu/a b",
        "https://" + "a" * 2000 + ".example/",
    ],
)
def test_a_url_that_is_no_http_url_is_a_422_naming_it(call, world, url):
    answer = call("post", URL, world.tokens["admin"], json={**BODY, "url": url})

    assert_problem(answer, 422, "url")


@pytest.mark.parametrize(
    ("types", "named"),
    [
        ([], "event_types"),
        (["touch.sent", "touch.teleported"], "event_types.1"),
        (["touch.sent", "touch.sent"], "event_types"),
        ("touch.sent", "event_types"),
    ],
)
def test_event_types_must_be_known_distinct_and_some(call, world, types, named):
    answer = call("post", URL, world.tokens["admin"], json={**BODY, "event_types": types})

    assert_problem(answer, 422, named)


def test_a_bad_change_changes_nothing(created, call, world):
    token = world.tokens["admin"]
    answer = call("patch", f"{URL}/{created['id']}", token, json={"url": "nope", "enabled": False})

    assert_problem(answer, 422, "url")
    assert call("get", f"{URL}/{created['id']}", token).get_json()["enabled"] is True


def test_an_endpoint_is_disabled_and_enabled_again(created, call, world):
    token = world.tokens["admin"]
    off = call("patch", f"{URL}/{created['id']}", token, json={"enabled": False}).get_json()
    on = call("patch", f"{URL}/{created['id']}", token, json={"enabled": True}).get_json()

    assert (off["enabled"], on["enabled"]) == (False, True)


def test_rotating_answers_a_new_secret_and_when_the_old_one_stops(created, call, world):
    rotated = call("post", f"{URL}/{created['id']}/rotate-secret", world.tokens["admin"])

    body = rotated.get_json()
    assert rotated.status_code == 200
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] is not None


def test_a_deleted_endpoint_is_gone(created, call, world):
    token = world.tokens["admin"]

    assert call("delete", f"{URL}/{created['id']}", token).status_code == 204
    assert_problem(call("get", f"{URL}/{created['id']}", token), 404)
