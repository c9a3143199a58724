"""Numbers beyond what a column holds: ids are 32-bit on PostgreSQL, page numbers feed an
OFFSET. Out of range is a 404 in a path (no such object can exist) and a 422 naming the
field in a query or a body; it never reaches the database."""

from __future__ import annotations

import re

import pytest

from api import create_app
from api.auth import PUBLIC, access_rule
from api.resources.common import PAGE_MAX
from api.schemas.fields import ID_MAX
from tests.api.helpers import assert_problem

TOO_BIG = [ID_MAX + 1, 2**63]
IN_PATH = [str(ID_MAX + 1), str(2**63), "9" * 5000]


def _routes():
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x"})
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.rule, method, access_rule(view, method), view


ROUTES = list(_routes())
ID_ROUTES = [(p, m, r) for p, m, r, _ in ROUTES if "<int:" in p]


def _paginated():
    """Each paginated list, and a role it lets in (a candidate's where it may)."""
    for path, method, rule, view in ROUTES:
        handler = getattr(getattr(view, "view_class", None), method.lower(), view)
        if method == "GET" and "pagination" in getattr(handler, "_apidoc", {}):
            yield path, "candidate" if "candidate" in rule else "admin"


PAGINATED = list(_paginated())


def _fill(path: str, value: int, samples: dict[str, int | str]) -> str:
    """The path with every int parameter set to `value`, the others to a sample."""

    def sub(match):
        converter, name = match.groups()
        return str(value) if converter == "int" else str(samples.get(name, "email"))

    return re.sub(r"<(?:(\w+):)?(\w+)>", sub, path)


@pytest.mark.parametrize("value", IN_PATH, ids=["2^31", "2^63", "5000 digits"])
@pytest.mark.parametrize(
    ("path", "method", "rule"), ID_ROUTES, ids=[f"{m} {p}" for p, m, _ in ID_ROUTES]
)
def test_an_id_beyond_the_column_in_a_path_is_a_404(call, world, path, method, rule, value):
    token = None if rule == PUBLIC else world.tokens["admin"]

    response = call(method, _fill(path, value, {}), token, json={})

    assert_problem(response, 404)


@pytest.mark.parametrize(
    "path",
    [p for p, m, r in ID_ROUTES if r == PUBLIC and m == "POST"],
)
def test_an_unsigned_webhook_for_an_id_in_range_is_still_403(client, path):
    form = {"MessageSid": "SM" + "1" * 32, "CallSid": "CA" + "1" * 32, "MessageStatus": "sent"}
    response = client.post(_fill(path, ID_MAX, {}), data=form)

    assert_problem(response, 403)


def test_the_largest_id_is_an_ordinary_404(call, world):
    assert_problem(call("GET", f"/v1/contacts/{ID_MAX}", world.tokens["admin"]), 404)


QUERY_IDS = [
    ("/v1/contacts", "candidate_id"),
    ("/v1/applications", "candidate_id"),
    ("/v1/interviews", "application_id"),
    ("/v1/touches", "contact_id"),
    ("/v1/touches", "interview_id"),
    ("/v1/responses", "application_id"),
    ("/v1/tokens", "user_id"),
    ("/v1/assignments", "advisor_id"),
    ("/v1/templates", "candidate_id"),
]


@pytest.mark.parametrize("value", TOO_BIG, ids=["2^31", "2^63"])
@pytest.mark.parametrize(("path", "field"), QUERY_IDS)
def test_an_id_beyond_the_column_in_a_query_is_a_422_naming_it(call, world, path, field, value):
    response = call("GET", f"{path}?{field}={value}", world.tokens["admin"])

    assert_problem(response, 422, field)


def test_an_id_beyond_the_column_in_the_budget_query_is_a_422(call, world, factory):
    contact = factory.contact(world.candidate)

    response = call(
        "GET",
        f"/v1/contacts/{contact.id}/budget?application_id={ID_MAX + 1}",
        world.tokens["candidate"],
    )

    assert_problem(response, 422, "application_id")


@pytest.fixture
def parties(world, factory):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    return contact, application


BODY_IDS = [
    (
        "POST",
        "/v1/touches",
        "contact_id",
        lambda c, a: {"application_id": a.id, "step": "thank_you", "channel": "email"},
    ),
    (
        "POST",
        "/v1/touches",
        "application_id",
        lambda c, a: {"contact_id": c.id, "step": "thank_you", "channel": "email"},
    ),
    (
        "POST",
        "/v1/responses",
        "contact_id",
        lambda c, a: {"application_id": a.id, "kind": "replied"},
    ),
    (
        "POST",
        "/v1/interviews",
        "application_id",
        lambda c, a: {
            "starts_at": "2030-01-01T10:00:00Z",
            "ends_at": "2030-01-01T11:00:00Z",
            "interviewers": [{"contact_id": c.id}],
        },
    ),
    ("POST", "/v1/contacts", "candidate_id", lambda c, a: {"name": "Dana"}),
    ("POST", "/v1/tokens", "user_id", lambda c, a: {"name": "portal"}),
    ("POST", "/v1/assignments", "advisor_id", lambda c, a: {"candidate_id": 1}),
    (
        "POST",
        "/v1/templates/preview",
        "contact_id",
        lambda c, a: {"step": "thank_you", "channel": "email"},
    ),
]


@pytest.mark.parametrize("value", TOO_BIG, ids=["2^31", "2^63"])
@pytest.mark.parametrize(
    ("method", "path", "field", "rest"), BODY_IDS, ids=[f"{p} {f}" for _, p, f, _ in BODY_IDS]
)
def test_an_id_beyond_the_column_in_a_body_is_a_422_naming_it(
    call, world, parties, snapshot, method, path, field, rest, value
):
    before = snapshot()

    response = call(method, path, world.tokens["admin"], json={field: value, **rest(*parties)})

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_a_panel_member_beyond_the_column_is_named_by_position(call, world, parties):
    contact, application = parties
    body = {
        "application_id": application.id,
        "starts_at": "2030-01-01T10:00:00Z",
        "ends_at": "2030-01-01T11:00:00Z",
        "interviewers": [{"contact_id": contact.id}, {"contact_id": ID_MAX + 1}],
    }

    response = call("POST", "/v1/interviews", world.tokens["candidate"], json=body)

    assert_problem(response, 422, "interviewers.1.contact_id")


@pytest.mark.parametrize("page", [PAGE_MAX + 1, 2**63, 2**64])
@pytest.mark.parametrize(("path", "role"), PAGINATED, ids=[p for p, _ in PAGINATED])
def test_a_page_beyond_the_offset_range_is_a_422_naming_page(
    call, world, factory, path, role, page
):
    touch = factory.touch(factory.contact(world.candidate), factory.application(world.candidate))
    url = _fill(path, touch.id, {}) + f"?page={page}"

    response = call("GET", url, world.tokens[role])

    assert_problem(response, 422, "page")


def test_the_last_possible_page_is_an_empty_page(call, world):
    response = call("GET", f"/v1/contacts?page={PAGE_MAX}&page_size=100", world.tokens["admin"])

    assert response.status_code == 200
    assert response.get_json() == []


def test_the_openapi_document_states_both_bounds(client):
    spec = client.get("/openapi.json").get_json()

    checked = set()
    for path, item in spec["paths"].items():
        params = list(item.get("parameters", []))
        for method, operation in item.items():
            if method != "parameters":
                params += operation.get("parameters", [])
        for param in params:
            if param["in"] == "path" and param["schema"]["type"] == "integer":
                assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": ID_MAX}
                checked.add("path")
            if param["in"] == "query" and param["name"] == "page":
                assert param["schema"]["maximum"] == PAGE_MAX, path
                checked.add("page")
    assert checked == {"path", "page"}
