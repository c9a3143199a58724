"""The document as a portal developer's code generator reads it: names, components, enums.

A client generated from openapi/openapi.json (openapi-python-client, openapi-typescript) names
its functions after operationIds and its types after component schemas; these tests hold the
document to what those generators need (issue 14, "The document").
"""

from __future__ import annotations

import json
import re

import marshmallow as ma
import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from openapi_schema_validator import OAS30Validator

from api import cli
from api.ledger.events import event_row
from api.openapi_documents import merge_documents
from api.operation_ids import OperationIdPlugin, derived_operation_id, singular
from api.schemas.enums import NAMED_ENUMS, NULL_SCHEMA, STEP, NamedEnumPlugin
from api.schemas.fields import ReadSchema
from api.spec import ReadSchemaPlugin, is_reserved_schema_name, schema_component_name

METHODS = {"get", "post", "put", "patch", "delete"}
VERB_NOUN = re.compile(r"^[a-z]+(_[a-z]+)+$")

#: Every operation's name in a generated client. A change here breaks every portal's client:
#: make it on purpose, never as a side effect of moving a route.
OPERATION_IDS = {
    ("get", "/calendar/{secret}.ics"): "get_ical_feed",
    ("get", "/healthz"): "check_liveness",
    ("get", "/readyz"): "check_readiness",
    ("get", "/v1/applications"): "list_applications",
    ("post", "/v1/applications"): "create_application",
    ("delete", "/v1/applications/{application_id}"): "delete_application",
    ("get", "/v1/applications/{application_id}"): "get_application",
    ("patch", "/v1/applications/{application_id}"): "update_application",
    ("post", "/v1/applications/{application_id}/approve"): "approve_application",
    ("get", "/v1/assignments"): "list_assignments",
    ("post", "/v1/assignments"): "create_assignment",
    ("delete", "/v1/assignments/{assignment_id}"): "delete_assignment",
    ("get", "/v1/assignments/{assignment_id}"): "get_assignment",
    ("get", "/v1/calendar"): "list_calendar_entries",
    ("get", "/v1/reports/adherence"): "get_adherence_report",
    ("get", "/v1/reports/adherence.svg"): "get_adherence_chart",
    ("delete", "/v1/calendar/feed"): "revoke_calendar_feed",
    ("get", "/v1/calendar/feed"): "get_calendar_feed",
    ("post", "/v1/calendar/feed"): "create_calendar_feed",
    ("get", "/v1/channels"): "list_channels",
    ("delete", "/v1/channels/{channel}/settings"): "delete_org_channel_settings",
    ("get", "/v1/channels/{channel}/settings"): "get_org_channel_settings",
    ("put", "/v1/channels/{channel}/settings"): "set_org_channel_settings",
    ("get", "/v1/contacts"): "list_contacts",
    ("post", "/v1/contacts"): "create_contact",
    ("delete", "/v1/contacts/{contact_id}"): "delete_contact",
    ("get", "/v1/contacts/{contact_id}"): "get_contact",
    ("patch", "/v1/contacts/{contact_id}"): "update_contact",
    ("get", "/v1/contacts/{contact_id}/budget"): "get_contact_budget",
    ("get", "/v1/contacts/{contact_id}/policy"): "get_contact_policy",
    ("put", "/v1/contacts/{contact_id}/policy"): "set_contact_policy",
    ("get", "/v1/inbound"): "list_inbound_emails",
    ("post", "/v1/inbound/email"): "receive_inbound_email",
    ("post", "/v1/inbound/{inbound_id}/attach"): "attach_inbound_email",
    ("get", "/v1/interviews"): "list_interviews",
    ("post", "/v1/interviews"): "create_interview",
    ("delete", "/v1/interviews/{interview_id}"): "delete_interview",
    ("get", "/v1/interviews/{interview_id}"): "get_interview",
    ("patch", "/v1/interviews/{interview_id}"): "update_interview",
    ("post", "/v1/interviews/{interview_id}/approve"): "approve_interview",
    ("post", "/v1/interviews/{interview_id}/plan"): "plan_interview",
    ("get", "/v1/mailboxes"): "list_mailboxes",
    ("get", "/v1/me"): "get_me",
    ("get", "/v1/policy"): "get_org_policy",
    ("put", "/v1/policy"): "set_org_policy",
    ("get", "/v1/responses"): "list_responses",
    ("post", "/v1/responses"): "create_response",
    ("get", "/v1/responses/{response_id}"): "get_response",
    ("patch", "/v1/responses/{response_id}"): "update_response",
    ("get", "/v1/templates"): "list_templates",
    ("post", "/v1/templates"): "create_template",
    ("get", "/v1/templates/defaults"): "list_default_templates",
    ("post", "/v1/templates/preview"): "preview_step",
    ("delete", "/v1/templates/{template_id}"): "delete_template",
    ("get", "/v1/templates/{template_id}"): "get_template",
    ("patch", "/v1/templates/{template_id}"): "update_template",
    ("post", "/v1/templates/{template_id}/preview"): "preview_template",
    ("get", "/v1/tokens"): "list_tokens",
    ("post", "/v1/tokens"): "create_token",
    ("delete", "/v1/tokens/{token_id}"): "delete_token",
    ("get", "/v1/tokens/{token_id}"): "get_token",
    ("get", "/v1/touches"): "list_touches",
    ("post", "/v1/touches"): "create_touch",
    ("get", "/v1/touches/{touch_id}"): "get_touch",
    ("patch", "/v1/touches/{touch_id}"): "update_touch",
    ("post", "/v1/touches/{touch_id}/approve"): "approve_touch",
    ("post", "/v1/touches/{touch_id}/cancel"): "cancel_touch",
    ("get", "/v1/touches/{touch_id}/events"): "list_touch_events",
    ("post", "/v1/touches/{touch_id}/resolve"): "resolve_touch",
    ("get", "/v1/users"): "list_users",
    ("post", "/v1/users"): "create_user",
    ("delete", "/v1/users/{user_id}"): "delete_user",
    ("get", "/v1/users/{user_id}"): "get_user",
    ("patch", "/v1/users/{user_id}"): "update_user",
    (
        "delete",
        "/v1/users/{user_id}/channels/{channel}/settings",
    ): "delete_candidate_channel_settings",
    ("get", "/v1/users/{user_id}/channels/{channel}/settings"): "get_candidate_channel_settings",
    ("put", "/v1/users/{user_id}/channels/{channel}/settings"): "set_candidate_channel_settings",
    ("get", "/v1/users/{user_id}/policy"): "get_candidate_policy",
    ("put", "/v1/users/{user_id}/policy"): "set_candidate_policy",
    ("get", "/v1/webhook-endpoints"): "list_webhook_endpoints",
    ("post", "/v1/webhook-endpoints"): "create_webhook_endpoint",
    ("delete", "/v1/webhook-endpoints/{endpoint_id}"): "delete_webhook_endpoint",
    ("get", "/v1/webhook-endpoints/{endpoint_id}"): "get_webhook_endpoint",
    ("patch", "/v1/webhook-endpoints/{endpoint_id}"): "update_webhook_endpoint",
    ("get", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): "list_webhook_deliveries",
    (
        "post",
        "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    ): "redeliver_webhook_delivery",
    ("post", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"): "rotate_webhook_endpoint_secret",
    ("post", "/v1/webhooks/twilio/calls/{touch_id}/status"): "receive_twilio_call_status",
    ("post", "/v1/webhooks/twilio/calls/{touch_id}/twiml"): "bridge_twilio_call",
    ("post", "/v1/webhooks/twilio/messages/{touch_id}/status"): "receive_twilio_message_status",
    ("post", "/v1/webhooks/twilio/sms/inbound"): "receive_twilio_inbound_sms",
    ("get", "/v1/audit-events"): "list_audit_events",
    ("get", "/v1/organization"): "get_organization",
    ("patch", "/v1/organization"): "update_organization",
    ("get", "/v1/users/{user_id}/export"): "export_user",
    ("post", "/v1/users/{user_id}/erasure"): "erase_user",
}


@pytest.fixture(scope="module")
def spec() -> dict:
    """Both documents (the portal's and the provider callbacks') as one."""
    documents = {name: json.loads(text) for name, text in cli.openapi_documents().items()}
    return merge_documents(documents["openapi.json"], documents[cli.CALLBACKS_NAME])


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_has_an_operation_id(spec):
    for path, method, operation in _operations(spec):
        assert operation.get("operationId"), f"{method} {path} has no operationId"


def test_operation_ids_are_unique(spec):
    ids = [operation["operationId"] for _, _, operation in _operations(spec)]

    assert sorted(ids) == sorted(set(ids))


def test_operation_ids_are_verb_noun_in_snake_case(spec):
    for path, method, operation in _operations(spec):
        assert VERB_NOUN.match(operation["operationId"]), f"{method} {path}"


def test_operation_ids_are_the_pinned_ones(spec):
    named = {(method, path): op["operationId"] for path, method, op in _operations(spec)}

    assert named == OPERATION_IDS


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/v1/touches", "list_touches"),
        ("post", "/v1/touches", "create_touch"),
        ("get", "/v1/touches/{touch_id}", "get_touch"),
        ("patch", "/v1/touches/{touch_id}", "update_touch"),
        ("delete", "/v1/tokens/{token_id}", "delete_token"),
        ("post", "/v1/touches/{touch_id}/approve", "approve_touch"),
        ("post", "/v1/interviews/{interview_id}/plan", "plan_interview"),
        ("get", "/v1/touches/{touch_id}/events", "list_touch_events"),
        ("get", "/v1/contacts/{contact_id}/policy", "get_contact_policy"),
        ("put", "/v1/contacts/{contact_id}/policy", "set_contact_policy"),
    ],
)
def test_the_rule_names_the_common_shapes(method, path, expected):
    assert derived_operation_id(path, method) == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/me"),  # one object, no collection
        ("get", "/healthz"),  # outside /v1
        ("get", "/v1/channels/{channel}/settings"),  # not a `{channel_id}`
        ("post", "/v1/touches/{touch_id}/events"),  # a POST to a collection of a touch
        ("put", "/v1/touches/{touch_id}"),  # no PUT on an object
        ("get", "/v1/users/{user_id}/channels/{channel}/settings"),  # deeper than the rule
    ],
)
def test_the_rule_names_nothing_it_cannot_name_well(method, path):
    assert derived_operation_id(path, method) is None


@pytest.mark.parametrize(
    ("plural", "one"),
    [
        ("touches", "touch"),
        ("policies", "policy"),
        ("mailboxes", "mailbox"),
        ("responses", "response"),
    ],
)
def test_singular(plural, one):
    assert singular(plural) == one


def test_an_operation_named_neither_by_its_view_nor_by_the_rule_stops_the_document():
    with pytest.raises(ValueError, match=r"GET /v1/me has no operationId"):
        OperationIdPlugin().operation_helper(path="/v1/me", operations={"get": {}})


def test_a_view_s_own_operation_id_wins_over_the_rule():
    operations = {"get": {"operationId": "show_touch"}}

    OperationIdPlugin().operation_helper(path="/v1/touches/{touch_id}", operations=operations)

    assert operations["get"]["operationId"] == "show_touch"


def test_no_component_schema_has_a_name_generators_reserve(spec):
    clashing = [name for name in spec["components"]["schemas"] if is_reserved_schema_name(name)]

    assert clashing == []


@pytest.mark.parametrize("name", ["Response", "Client", "Error", "File", "Unset", "types"])
def test_the_generators_own_names_are_reserved(name):
    assert is_reserved_schema_name(name)


def test_a_schema_class_named_as_a_generator_reserves_is_refused():
    class ResponseSchema(ma.Schema):
        id = ma.fields.Integer()

    with pytest.raises(ValueError, match="'Response' clashes"):
        schema_component_name(ResponseSchema)


def test_responses_are_answered_as_contact_response(spec):
    answer = spec["paths"]["/v1/responses/{response_id}"]["get"]["responses"]["200"]

    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ContactResponse"
    }


# -- named enums ----------------------------------------------------------------------------


def _inline_enums(node, path=""):
    """(where, set of values) of every enum written out in place, outside the named ones
    (and NULL_SCHEMA, the null of a nullable reference, which is no set of values)."""
    if isinstance(node, dict):
        if "enum" in node and node != NULL_SCHEMA and not path.startswith(NAMED_PREFIXES):
            yield path, frozenset(v for v in node["enum"] if v is not None)
        for key, value in node.items():
            yield from _inline_enums(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _inline_enums(value, f"{path}/{i}")


NAMED_PREFIXES = tuple(f"/components/schemas/{enum.name}" for enum in NAMED_ENUMS)


def test_every_named_enum_is_a_component(spec):
    schemas = spec["components"]["schemas"]
    for enum in NAMED_ENUMS:
        assert schemas[enum.name]["enum"] == list(enum.values), enum.name


def test_no_inline_enum_repeats_a_named_one(spec):
    named = {frozenset(enum.values): enum.name for enum in NAMED_ENUMS}
    repeated = [(where, named[values]) for where, values in _inline_enums(spec) if values in named]

    assert repeated == []


def test_no_set_of_values_is_declared_inline_twice(spec):
    seen: dict[frozenset, list[str]] = {}
    for where, values in _inline_enums(spec):
        seen.setdefault(values, []).append(where)

    assert {v: w for v, w in seen.items() if len(w) > 1} == {}


@pytest.mark.parametrize(
    ("schema", "field", "enum"),
    [
        ("PlannedStep", "step", "Step"),
        ("TouchEvent", "kind", "TouchEventKind"),
        ("Touch", "step", "Step"),
        ("Touch", "status", "TouchStatus"),
        ("CalendarEntry", "state", "TouchStatus"),
        ("ContactResponse", "kind", "ResponseKind"),
        ("Channel", "capabilities", "ChannelCapability"),
    ],
)
def test_fields_carry_their_named_enum(spec, schema, field, enum):
    prop = spec["components"]["schemas"][schema]["properties"][field]
    prop = prop.get("items", prop)

    assert {"$ref": f"#/components/schemas/{enum}"} in [prop, *prop.get("allOf", [])]


def test_a_nullable_enum_field_refers_to_its_enum_and_allows_null(spec):
    prop = spec["components"]["schemas"]["InboundMail"]["properties"]["classification"]

    assert prop == {
        "anyOf": [{"$ref": "#/components/schemas/InboundClassification"}, NULL_SCHEMA],
    }


def test_the_touch_list_filters_by_the_named_enums(spec):
    parameters = {p["name"]: p for p in spec["paths"]["/v1/touches"]["get"]["parameters"]}

    assert parameters["step"]["schema"] == {"$ref": "#/components/schemas/Step"}
    assert parameters["status"]["schema"] == {"$ref": "#/components/schemas/TouchStatus"}


def test_a_field_whose_validator_allows_other_values_than_its_enum_is_refused():
    class WrongSchema(ma.Schema):
        step = ma.fields.String(validate=ma.validate.OneOf(["thank_you"]), metadata=STEP.tag())

    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin(), NamedEnumPlugin()])
    with pytest.raises(ValueError, match="tagged Step"):
        spec.components.schema("Wrong", schema=WrongSchema)


def test_every_kind_of_touch_event_recorded_is_one_the_document_lists():
    with pytest.raises(ValueError, match="Unknown touch event kind 'teleported'"):
        event_row(1, "teleported", "system")


# -- answers: required and nullable ------------------------------------------------------


def _refs(node) -> set[str]:
    return set(re.findall(r"#/components/schemas/(\w+)", json.dumps(node)))


def _answer_components(spec: dict) -> set[str]:
    """Every object component a 2xx answer holds, nested ones too."""
    schemas = spec["components"]["schemas"]
    found: set[str] = set()
    for _, _, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                found |= _refs(response)
    while True:
        more = found | {ref for name in found for ref in _refs(schemas[name])}
        if more == found:
            return {name for name in found if "properties" in schemas[name]}
        found = more


def test_every_field_of_every_answer_schema_is_required(spec):
    schemas = spec["components"]["schemas"]
    for name in _answer_components(spec):
        properties = list(schemas[name]["properties"])
        assert sorted(schemas[name].get("required", [])) == sorted(properties), name


def test_a_nullable_nested_object_is_its_type_or_null(spec):
    prop = spec["components"]["schemas"]["ContactResponseChange"]["properties"]["proposed_touch"]

    assert prop["anyOf"] == [{"$ref": "#/components/schemas/Touch"}, NULL_SCHEMA]
    assert "allOf" not in prop


def test_a_nullable_reference_admits_null_and_its_type_only(spec):
    prop = spec["components"]["schemas"]["ContactResponseChange"]["properties"]["proposed_touch"]
    validator = OAS30Validator({**prop, "components": spec["components"]})

    assert validator.is_valid(None)
    assert not validator.is_valid({})  # a Touch has required fields
    assert not validator.is_valid("a touch")


def test_a_read_schema_naming_an_unknown_field_as_sometimes_absent_is_refused():
    class OddSchema(ReadSchema):
        SOMETIMES = frozenset({"nowhere"})
        id = ma.fields.Integer()

    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin(), ReadSchemaPlugin()])
    with pytest.raises(ValueError, match="SOMETIMES names no field"):
        spec.components.schema("Odd", schema=OddSchema)


def test_a_read_schema_leaves_its_sometimes_absent_fields_optional():
    class PartlySchema(ReadSchema):
        SOMETIMES = frozenset({"later"})
        id = ma.fields.Integer()
        later = ma.fields.Integer()

    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin(), ReadSchemaPlugin()])
    spec.components.schema("Partly", schema=PartlySchema)

    assert spec.to_dict()["components"]["schemas"]["Partly"]["required"] == ["id"]
