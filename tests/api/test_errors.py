"""Every error is application/problem+json (RFC 9457) and names each bad field."""

from __future__ import annotations

import pytest

from api import create_app
from api.auth import public
from tests.api.helpers import assert_problem


def test_an_unknown_route_is_a_404_problem(call):
    response = call("GET", "/v1/no-such-thing")

    body = assert_problem(response, 404)
    assert body["title"] == "Not Found"
    assert body["type"] == "about:blank"


def test_an_unknown_route_with_a_token_is_still_a_404_problem(call, world):
    assert_problem(call("GET", "/v2/contacts", world.tokens["admin"]), 404)


def test_a_method_not_allowed_is_a_405_problem_with_allow(call, world):
    response = call("PUT", "/v1/contacts", world.tokens["admin"], json={})

    assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed


def test_a_405_on_an_object_route_lists_its_methods(call, world):
    response = call("POST", "/v1/contacts/1", world.tokens["admin"], json={})

    assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed


def test_an_oversize_body_is_a_413_problem(call, world, app):
    body = b'{"name": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'

    response = call(
        "POST",
        "/v1/contacts",
        world.tokens["candidate"],
        data=body,
        content_type="application/json",
    )

    assert_problem(response, 413)


def test_a_body_just_under_the_limit_is_read(call, world, app):
    # Big enough to be near the limit, small enough to pass; refused only for its content.
    notes = "x" * (app.config["MAX_CONTENT_LENGTH"] // 2)

    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "", "notes": notes}
    )

    assert_problem(response, 422, "name", "notes")


def test_a_422_names_every_bad_field_in_errors_and_detail(call, world):
    response = call(
        "POST",
        "/v1/contacts",
        world.tokens["candidate"],
        json={"name": "Dana", "email": "nope", "timezone": "Mars/Olympus", "shoe_size": 9},
    )

    body = assert_problem(response, 422, "email", "timezone", "shoe_size")
    assert set(body["errors"]) == {"email", "timezone", "shoe_size"}
    for field in ("email", "timezone", "shoe_size"):
        assert field in body["detail"]
        assert all(isinstance(reason, str) for reason in body["errors"][field])


def test_a_query_argument_error_is_named_without_its_location(call, world):
    response = call("GET", "/v1/contacts?page_size=101", world.tokens["candidate"])

    body = assert_problem(response, 422, "page_size")
    assert "query" not in body["errors"]


def test_an_unknown_query_parameter_is_a_422_naming_it(call, world):
    response = call("GET", "/v1/contacts?compnay=Acme", world.tokens["candidate"])
    assert_problem(response, 422, "compnay")


def test_pagination_parameters_are_not_unknown(call, world):
    response = call(
        "GET", "/v1/contacts?company=Acme&page=1&page_size=5", world.tokens["candidate"]
    )
    assert response.status_code == 200


def test_a_body_that_is_not_an_object_is_a_422_problem(call, world):
    response = call("POST", "/v1/contacts", world.tokens["candidate"], json=["Dana"])

    assert_problem(response, 422)


def test_malformed_json_is_a_problem(call, world):
    response = call(
        "POST",
        "/v1/contacts",
        world.tokens["candidate"],
        data='{"name": "Dana"',
        content_type="application/json",
    )

    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


def test_a_missing_token_is_a_401_problem_with_a_challenge(call):
    response = call("GET", "/v1/contacts")

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-tb-token", "Bearer tb_" + "x" * 300],
)
def test_a_malformed_authorization_header_is_a_401_problem(call, header):
    response = call("GET", "/v1/me", headers={"Authorization": header})

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_forbidden_role_is_a_403_problem(call, world):
    response = call("POST", "/v1/users", world.tokens["candidate"], json={})

    body = assert_problem(response, 403)
    assert "candidate" in body["detail"]


@pytest.fixture
def failing_app(engine, tmp_path):
    """The production error path (TESTING off) with a route that fails unexpectedly."""
    app = create_app(
        {
            "ENGINE": engine,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "test-secret",
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "TESTING": False,
        }
    )

    @public
    def explode():
        raise RuntimeError("password=hunter2 at /srv/touchbase/secret.py line 42")

    app.add_url_rule("/v1/explode", "explode", explode)
    return app


def test_a_500_is_a_problem_that_leaks_nothing(failing_app):
    response = failing_app.test_client().get("/v1/explode")

    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "hunter2" not in text
    assert "secret.py" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert body["detail"]


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/v1/touches/999", "No such touch."),
        ("/v1/responses/999", "No such response."),
        ("/v1/applications/999", "No such application."),
    ],
)
def test_a_404_names_the_object_in_the_singular(call, world, path, detail):
    answer = call("get", path, world.tokens["admin"])

    assert assert_problem(answer, 404)["detail"] == detail
