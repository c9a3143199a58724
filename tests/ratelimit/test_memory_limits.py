"""Rate limits of one API process, counted in its memory (the embedded setup).

A token over its limit is a 429 problem with Retry-After and the RateLimit fields; another
token is not affected; failed authentications per address turn from 401 into 429; the
public endpoints are limited per address, the health checks never.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from api.models import Contact
from tests.api.helpers import assert_documented_problem, assert_problem
from tests.conftest import bearer

RATELIMIT = re.compile(r"^(?P<policy>[a-z-]+);r=(?P<r>\d+);t=(?P<t>\d+)$")
BAD_TOKEN = "tb_" + "x" * 43


def fields(response) -> dict[str, str | int]:
    """The RateLimit field of an answer, parsed: policy, r (remaining), t (seconds)."""
    found = RATELIMIT.match(response.headers["RateLimit"])
    assert found, response.headers["RateLimit"]
    return {"policy": found["policy"], "r": int(found["r"]), "t": int(found["t"])}


def test_a_token_over_its_limit_is_a_429_problem(call, world, limits):
    limits(token="3/minute")
    for _ in range(3):
        assert call("get", "/v1/me", world.tokens["candidate"]).status_code == 200

    response = call("get", "/v1/me", world.tokens["candidate"])

    body = assert_problem(response, 429)
    assert body["policy"] == "token"
    assert body["type"] == "urn:touchbase:problem:rate-limited"
    assert "3 per 1 minute" in body["detail"]
    assert_documented_problem(body)


def test_a_429_says_when_to_come_back(call, world, limits):
    limits(token="2/minute")
    for _ in range(2):
        call("get", "/v1/me", world.tokens["candidate"])

    response = call("get", "/v1/me", world.tokens["candidate"])

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Policy"] == "token;q=2;w=60"
    assert fields(response) == {
        "policy": "token",
        "r": 0,
        "t": int(response.headers["Retry-After"]),
    }


def test_every_answer_to_a_token_counts_down_its_quota(call, world, limits):
    limits(token="5/minute")

    first = call("get", "/v1/me", world.tokens["candidate"])
    second = call("get", "/v1/contacts", world.tokens["candidate"])

    assert first.headers["RateLimit-Policy"] == "token;q=5;w=60"
    assert fields(first)["r"] == 4
    assert fields(second)["r"] == 3  # one quota for every endpoint


def test_another_token_is_not_affected(call, world, limits):
    limits(token="2/minute")
    for _ in range(3):
        call("get", "/v1/me", world.tokens["candidate"])

    response = call("get", "/v1/me", world.tokens["advisor"])

    assert response.status_code == 200
    assert fields(response)["r"] == 1


def test_a_refused_request_changes_nothing(call, world, limits, db):
    limits(token="1/minute")
    body = {"name": "Dana Jones"}
    assert call("post", "/v1/contacts", world.tokens["candidate"], json=body).status_code == 201

    response = call("post", "/v1/contacts", world.tokens["candidate"], json=body)

    assert_problem(response, 429)
    assert len(db.scalars(select(Contact)).all()) == 1


def test_a_flood_of_bad_tokens_turns_from_401_into_429(call, limits):
    limits(auth_failures="20/minute")

    statuses = [call("get", "/v1/me", BAD_TOKEN).status_code for _ in range(30)]

    assert statuses == [401] * 20 + [429] * 10


def test_a_401_reports_the_failures_left_to_the_address(call, limits):
    limits(auth_failures="5/minute")

    response = call("get", "/v1/me", BAD_TOKEN)

    assert response.status_code == 401
    assert response.headers["RateLimit-Policy"] == "auth-failures;q=5;w=60"
    assert fields(response)["r"] == 4


def test_requests_with_no_token_count_as_failed_authentications(call, limits):
    limits(auth_failures="2/minute")
    call("get", "/v1/me")
    call("get", "/v1/contacts")

    response = call("get", "/v1/me")

    assert assert_problem(response, 429)["policy"] == "auth-failures"


def test_a_blocked_address_is_refused_even_with_a_valid_token(call, world, limits):
    limits(auth_failures="2/minute")
    for _ in range(2):
        call("get", "/v1/me", BAD_TOKEN)

    response = call("get", "/v1/me", world.tokens["candidate"])

    assert assert_problem(response, 429)["policy"] == "auth-failures"


def test_successful_requests_spend_nothing_of_the_failure_quota(call, world, limits):
    limits(auth_failures="2/minute")
    for _ in range(5):
        assert call("get", "/v1/me", world.tokens["candidate"]).status_code == 200

    assert call("get", "/v1/me", BAD_TOKEN).status_code == 401


def test_another_address_may_still_authenticate(client, world, limits):
    limits(auth_failures="2/minute")
    for _ in range(3):
        client.get("/v1/me", headers=bearer(BAD_TOKEN))

    response = client.get(
        "/v1/me",
        headers=bearer(world.tokens["candidate"]),
        environ_base={"REMOTE_ADDR": "127.0.0.2"},
    )

    assert response.status_code == 200


def test_public_endpoints_are_limited_per_address(client, limits):
    limits(public="2/minute")
    for _ in range(2):
        assert client.get("/openapi.json").status_code == 200

    response = client.post("/v1/webhooks/twilio/messages/1/status", data={"MessageStatus": "sent"})

    body = assert_problem(response, 429)
    assert body["policy"] == "address"
    assert response.headers["RateLimit-Policy"] == "address;q=2;w=60"


def test_public_endpoints_spend_nothing_of_a_token_quota(client, world, limits):
    limits(token="2/minute", public="100/minute")
    client.get("/openapi.json", headers=bearer(world.tokens["candidate"]))

    response = client.get("/v1/me", headers=bearer(world.tokens["candidate"]))

    assert fields(response) == {"policy": "token", "r": 1, "t": fields(response)["t"]}


def test_health_checks_are_never_limited(client, limits):
    limits(public="1/minute", auth_failures="1/minute")

    statuses = {client.get(path).status_code for path in ("/healthz", "/readyz") * 5}

    assert statuses == {200}
    assert "RateLimit" not in client.get("/healthz").headers
