"""Tags file operations as the README groups the API, and Twilio's callbacks stay out of the
portal's document (openapi/openapi.json), in a document of their own."""

from __future__ import annotations

import json

import pytest

from api import cli
from api.openapi_documents import build_documents, operations
from api.openapi_tags import INTERNAL_TAGS, TAGS, tag_of

#: The README's API groups, in its order (API tour, "Replies heard by email", then the
#: portal developers' "Webhooks").
README_ORDER = [
    "accounts",
    "records",
    "follow-ups",
    "channels",
    "calendar",
    "calendar-feed",
    "replies",
    "reports",
    "webhooks",
    "privacy",
    "health",
]


@pytest.fixture(scope="module")
def portal() -> dict:
    return json.loads(cli.openapi_documents()["openapi.json"])


@pytest.fixture(scope="module")
def callbacks() -> dict:
    return json.loads(cli.openapi_documents()[cli.CALLBACKS_NAME])


def test_the_portal_document_declares_the_readme_groups_in_readme_order(portal):
    assert [tag["name"] for tag in portal["tags"]] == README_ORDER


def test_every_declared_tag_has_a_description(portal, callbacks):
    for tag in portal["tags"] + callbacks["tags"]:
        assert len(tag["description"]) > 40, tag["name"]


@pytest.mark.parametrize("document", ["portal", "callbacks"])
def test_every_operation_has_exactly_one_declared_tag(document, request):
    spec = request.getfixturevalue(document)
    declared = {tag["name"] for tag in spec["tags"]}
    for path, method, operation in operations(spec):
        assert len(operation["tags"]) == 1, f"{method} {path}"
        assert operation["tags"][0] in declared, f"{method} {path}"


@pytest.mark.parametrize(
    ("path", "method", "tag"),
    [
        ("/v1/me", "get", "accounts"),
        ("/v1/assignments", "post", "accounts"),
        ("/v1/interviews/{interview_id}", "get", "records"),
        ("/v1/interviews/{interview_id}/plan", "post", "follow-ups"),
        ("/v1/touches/{touch_id}/approve", "post", "follow-ups"),
        ("/v1/contacts/{contact_id}/budget", "get", "follow-ups"),
        ("/v1/templates", "post", "channels"),
        ("/v1/calendar/feed", "post", "calendar"),
        ("/calendar/{secret}.ics", "get", "calendar-feed"),
        ("/v1/mailboxes", "get", "replies"),
    ],
)
def test_operations_are_filed_under_their_readme_group(portal, path, method, tag):
    assert portal["paths"][path][method]["tags"] == [tag]


def test_the_portal_document_has_no_twilio_callback(portal):
    assert not [path for path in portal["paths"] if "twilio" in path]
    assert not INTERNAL_TAGS & {tag["name"] for tag in portal["tags"]}


def test_the_twilio_callbacks_have_their_own_document_marked_internal(callbacks):
    found = operations(callbacks)

    assert {path for path, _, _ in found} == {
        "/v1/webhooks/twilio/messages/{touch_id}/status",
        "/v1/webhooks/twilio/calls/{touch_id}/twiml",
        "/v1/webhooks/twilio/calls/{touch_id}/status",
        "/v1/webhooks/twilio/sms/inbound",
    }
    assert all(operation["x-internal"] is True for _, _, operation in found)
    assert [tag["name"] for tag in callbacks["tags"]] == ["twilio-callbacks"]


def _referenced(node) -> set[str]:
    text = json.dumps(node)
    return {part.split('"')[0] for part in text.split('"$ref": "#/components/')[1:]}


@pytest.mark.parametrize("document", ["portal", "callbacks"])
def test_each_document_keeps_only_the_components_its_operations_reach(document, request):
    spec = request.getfixturevalue(document)
    defined = {
        f"{kind}/{name}"
        for kind, entries in spec["components"].items()
        if kind != "securitySchemes"
        for name in entries
    }

    assert defined == _referenced({"paths": spec["paths"], "components": spec["components"]})


def test_no_twilio_form_reaches_the_portal_client(portal, callbacks):
    forms = {
        ref.split("/")[1]
        for _, _, operation in operations(callbacks)
        for ref in _referenced(operation.get("requestBody", {}))
    }

    assert forms  # the forms Twilio posts
    assert not forms & set(portal["components"]["schemas"])


def test_the_served_document_is_the_portal_document(client, portal):
    assert client.get("/openapi.json").get_json() == portal


def test_a_blueprint_in_no_group_stops_the_document():
    spec = {
        "info": {"title": "t", "version": "1"},
        "paths": {"/v1/new": {"get": {"tags": ["newthing"], "responses": {}}}},
    }

    with pytest.raises(ValueError, match="'newthing' belongs to no tag"):
        build_documents(spec)


def test_each_blueprint_is_in_one_group_only():
    blueprints = [blueprint for tag in TAGS for blueprint in tag.blueprints]

    assert len(blueprints) == len(set(blueprints))
    assert tag_of("touches").name == "follow-ups"
