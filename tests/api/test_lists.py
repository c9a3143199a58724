"""Lists: `sort`, time-range filters, the Link header beside X-Pagination, Location on
201, and touch rows that carry their contact's name and company."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import event

from api import cli
from tests.api.helpers import assert_problem, pagination

DAY = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture
def mine(factory, world):
    """The candidate's contact and application."""
    contact = factory.contact(world.candidate, name="Dana Jones", company="Acme")
    return contact, factory.application(world.candidate)


@pytest.fixture
def touches(factory, mine):
    """Five touches whose times are, by id: day+2, day, day+2, day+1, day."""
    contact, application = mine
    offsets = (2, 0, 2, 1, 0)
    return [
        factory.touch(contact, application, scheduled_for=DAY + timedelta(days=d)) for d in offsets
    ]


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()]


def _list(call, world, url: str, **query):
    return call("GET", f"{url}?{urlencode(query)}", world.tokens["candidate"])


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def _links(response) -> dict[str, str]:
    """rel -> URL of an RFC 8288 Link header."""
    found = re.findall(r'<([^>]*)>;\s*rel="([^"]+)"', response.headers.get("Link", ""))
    return {rel: url for url, rel in found}


# -- sort ------------------------------------------------------------------------------------


def test_sort_by_minus_id_lists_newest_first(call, world, touches):
    response = _list(call, world, "/v1/touches", sort="-id")

    assert _ids(response) == sorted((t.id for t in touches), reverse=True)


def test_equal_sort_keys_are_broken_by_id(call, world, touches):
    response = _list(call, world, "/v1/touches", sort="scheduled_for")

    by_time = sorted(touches, key=lambda t: (t.scheduled_for, t.id))
    assert _ids(response) == [t.id for t in by_time]


def test_several_sort_keys_apply_in_order(call, world, touches):
    response = _list(call, world, "/v1/touches", sort="-scheduled_for,-id")

    by_time = sorted(touches, key=lambda t: (t.scheduled_for, t.id), reverse=True)
    assert _ids(response) == [t.id for t in by_time]


def test_the_sort_order_holds_across_pages(call, world, touches):
    pages = [
        _ids(_list(call, world, "/v1/touches", sort="scheduled_for", page_size=2, page=n))
        for n in (1, 2, 3)
    ]

    by_time = sorted(touches, key=lambda t: (t.scheduled_for, t.id))
    assert [i for page in pages for i in page] == [t.id for t in by_time]


def test_without_sort_a_list_keeps_its_own_order(call, world, touches):
    assert _ids(_list(call, world, "/v1/touches")) == sorted(t.id for t in touches)


def test_a_null_sorts_last_ascending_and_first_descending(call, world, factory, mine):
    contact, application = mine
    unsent = factory.touch(contact, application, sent_at=None)
    sent = factory.touch(contact, application, status="sent", sent_at=DAY)

    ascending = _ids(_list(call, world, "/v1/touches", sort="sent_at"))
    descending = _ids(_list(call, world, "/v1/touches", sort="-sent_at"))

    assert ascending == [sent.id, unsent.id]
    assert descending == [unsent.id, sent.id]


def test_an_unknown_sort_field_is_422_naming_sort(call, world, touches, snapshot):
    before = snapshot()

    response = _list(call, world, "/v1/touches", sort="body")

    body = assert_problem(response, 422, "sort")
    assert "scheduled_for" in body["detail"]
    assert snapshot() == before


def test_a_field_given_twice_in_sort_is_422(call, world, touches):
    response = _list(call, world, "/v1/touches", sort="id,-id")

    assert_problem(response, 422, "sort")


@pytest.mark.parametrize(
    "url, key",
    [
        ("/v1/contacts", "name"),
        ("/v1/applications", "company"),
        ("/v1/interviews", "starts_at"),
        ("/v1/responses", "occurred_at"),
        ("/v1/templates", "created_at"),
        ("/v1/users", "email"),
        ("/v1/tokens", "last_used_at"),
        ("/v1/assignments", "created_at"),
        ("/v1/mailboxes", "created_at"),
        ("/v1/inbound", "received_at"),
        ("/v1/calendar", "at"),
    ],
)
def test_every_list_takes_its_documented_sort_keys(call, world, url, key):
    token = world.tokens["admin"]

    assert call("GET", f"{url}?sort=-{key}", token).status_code == 200
    assert_problem(call("GET", f"{url}?sort=nope", token), 422, "sort")


def test_every_paginated_operation_documents_sort_as_a_named_enum():
    spec = json.loads(cli.openapi_document())
    for path, method, operation in _operations(spec):
        names = {p.get("name"): p for p in operation.get("parameters", [])}
        if "page_size" not in names:
            continue
        sort = names.get("sort")
        assert sort is not None, f"{method} {path} takes no sort"
        ref = sort["schema"]["items"]["$ref"].rsplit("/", 1)[1]
        assert {"id", "-id"} <= set(spec["components"]["schemas"][ref]["enum"])
        assert (sort["style"], sort["explode"]) == ("form", False)


# -- range filters ---------------------------------------------------------------------------


def test_due_after_and_due_before_bound_the_scheduled_time(call, world, touches):
    response = _list(
        call,
        world,
        "/v1/touches",
        due_after=(DAY + timedelta(days=1)).isoformat(),
        due_before=(DAY + timedelta(days=2)).isoformat(),
    )

    assert _ids(response) == [touches[3].id]


def test_due_after_is_inclusive(call, world, touches):
    response = _list(call, world, "/v1/touches", due_after=(DAY + timedelta(days=2)).isoformat())

    assert _ids(response) == [touches[0].id, touches[2].id]


def test_an_inverted_due_range_is_422_naming_due_after(call, world, touches):
    response = _list(
        call, world, "/v1/touches", due_after=DAY.isoformat(), due_before="2026-11-01T00:00:00Z"
    )

    assert_problem(response, 422, "due_after")


def test_created_after_and_before_bound_the_creation_time(call, world, factory):
    old = factory.contact(world.candidate, created_at=datetime(2025, 1, 1, tzinfo=UTC))
    new = factory.contact(world.candidate, created_at=datetime(2026, 6, 1, tzinfo=UTC))

    after = _list(call, world, "/v1/contacts", created_after="2026-01-01T00:00:00Z")
    before = _list(call, world, "/v1/contacts", created_before="2026-01-01T00:00:00Z")

    assert _ids(after) == [new.id]
    assert _ids(before) == [old.id]


@pytest.mark.parametrize(
    "url, after, before",
    [
        ("/v1/contacts", "created_after", "created_before"),
        ("/v1/applications", "created_after", "created_before"),
        ("/v1/interviews", "created_after", "created_before"),
        ("/v1/interviews", "starts_after", "starts_before"),
        ("/v1/touches", "created_after", "created_before"),
        ("/v1/responses", "occurred_after", "occurred_before"),
        ("/v1/responses", "created_after", "created_before"),
        ("/v1/templates", "created_after", "created_before"),
        ("/v1/users", "created_after", "created_before"),
        ("/v1/tokens", "created_after", "created_before"),
        ("/v1/assignments", "created_after", "created_before"),
        ("/v1/inbound", "received_after", "received_before"),
    ],
)
def test_every_inverted_range_is_422_naming_its_after_field(call, world, url, after, before):
    query = {after: "2026-02-01T00:00:00Z", before: "2026-01-01T00:00:00Z"}

    response = call("GET", f"{url}?{urlencode(query)}", world.tokens["admin"])

    assert_problem(response, 422, after)


def test_occurred_after_bounds_when_a_response_happened(call, world, factory, mine):
    contact, application = mine
    factory.response(contact, application, "replied", occurred_at=DAY - timedelta(days=3))
    late = factory.response(contact, application, "replied", occurred_at=DAY)

    response = _list(call, world, "/v1/responses", occurred_after=DAY.isoformat())

    assert _ids(response) == [late.id]


# -- Link ------------------------------------------------------------------------------------


def test_a_middle_page_links_first_prev_next_and_last(call, world, touches):
    response = _list(call, world, "/v1/touches", page_size=2, page=2)

    links = _links(response)
    pages = {rel: parse_qs(urlsplit(url).query)["page"] for rel, url in links.items()}
    assert pages == {"first": ["1"], "prev": ["1"], "next": ["3"], "last": ["3"]}


def test_the_links_keep_every_other_query_parameter(call, world, touches):
    response = _list(
        call, world, "/v1/touches", status="scheduled", sort="-id", page_size=2, page=1
    )

    query = parse_qs(urlsplit(_links(response)["next"]).query)
    assert query == {"status": ["scheduled"], "sort": ["-id"], "page_size": ["2"], "page": ["2"]}


def test_a_link_is_absolute_and_fetches_the_page_it_names(call, world, touches):
    first = _list(call, world, "/v1/touches", page_size=2)
    url = _links(first)["next"]

    assert url.startswith("http://localhost/v1/touches?")
    second = call("GET", url.removeprefix("http://localhost"), world.tokens["candidate"])
    assert pagination(second)["page"] == 2


def test_the_first_page_has_no_prev_and_the_last_no_next(call, world, touches):
    first = _links(_list(call, world, "/v1/touches", page_size=2, page=1))
    last = _links(_list(call, world, "/v1/touches", page_size=2, page=3))

    assert "prev" not in first and "next" in first
    assert "next" not in last and "prev" in last


def test_an_empty_list_has_no_link_header(call, world):
    response = _list(call, world, "/v1/touches")

    assert response.get_json() == []
    assert "Link" not in response.headers


def test_every_paginated_operation_documents_link_and_x_pagination():
    spec = json.loads(cli.openapi_document())
    for path, _method, operation in _operations(spec):
        names = {p.get("name") for p in operation.get("parameters", [])}
        if "page_size" in names:
            headers = operation["responses"]["200"]["headers"]
            assert headers["Link"] == {"$ref": "#/components/headers/LINK"}, path
            assert headers["X-Pagination"] == {"$ref": "#/components/headers/PAGINATION"}


# -- Location --------------------------------------------------------------------------------


def test_a_201_answers_the_location_of_what_it_created(call, world):
    response = call("POST", "/v1/contacts", world.tokens["candidate"], json={"name": "Lee"})

    created = response.get_json()["id"]
    assert response.status_code == 201
    assert response.headers["Location"] == f"http://localhost/v1/contacts/{created}"
    shown = call("GET", f"/v1/contacts/{created}", world.tokens["candidate"])
    assert shown.get_json()["name"] == "Lee"


def test_the_calendar_feed_is_located_where_it_was_posted(call, world):
    response = call("POST", "/v1/calendar/feed", world.tokens["candidate"])

    assert response.status_code == 201
    assert response.headers["Location"] == "http://localhost/v1/calendar/feed"


def test_every_201_documents_its_location_header():
    spec = json.loads(cli.openapi_document())
    created = [
        operation["responses"]["201"]
        for _path, _method, operation in _operations(spec)
        if "201" in operation["responses"]
    ]

    assert len(created) >= 10
    assert all("Location" in answer["headers"] for answer in created)


# -- the contact on a touch ------------------------------------------------------------------


def test_a_listed_touch_carries_its_contacts_name_and_company(call, world, touches):
    row = _list(call, world, "/v1/touches").get_json()[0]

    assert (row["contact_name"], row["contact_company"]) == ("Dana Jones", "Acme")


def test_a_shown_touch_carries_its_contacts_name_and_company(call, world, touches):
    shown = call("GET", f"/v1/touches/{touches[0].id}", world.tokens["candidate"]).get_json()

    assert (shown["contact_name"], shown["contact_company"]) == ("Dana Jones", "Acme")


def test_a_contact_without_a_company_is_null_on_its_touches(call, world, factory, mine):
    _, application = mine
    loner = factory.contact(world.candidate, name="Sam", company=None)
    factory.touch(loner, application)

    row = _list(call, world, "/v1/touches", contact_id=loner.id).get_json()[0]

    assert (row["contact_name"], row["contact_company"]) == ("Sam", None)


def test_listing_touches_of_many_contacts_takes_no_query_per_contact(
    call, world, factory, mine, engine_of
):
    _, application = mine

    def queries_for_a_page() -> int:
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(engine_of, "before_cursor_execute", record)
        try:
            assert _list(call, world, "/v1/touches", page_size=100).status_code == 200
        finally:
            event.remove(engine_of, "before_cursor_execute", record)
        return len(statements)

    factory.touch(factory.contact(world.candidate), application)
    queries_for_a_page()  # the first request of a token also records its use
    one = queries_for_a_page()
    for _ in range(8):
        factory.touch(factory.contact(world.candidate), application)

    assert queries_for_a_page() == one


def test_sort_on_an_operation_that_is_no_list_is_an_unknown_parameter(call, world, mine):
    contact, _ = mine

    response = call("GET", f"/v1/contacts/{contact.id}/budget?sort=id", world.tokens["candidate"])

    assert_problem(response, 422, "sort")
