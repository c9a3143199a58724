"""The OpenAPI documents: generated from the code, valid, complete, and committed up to date.

Most tests hold every operation to a rule, so they read both documents as one (`spec`): the
portal's (openapi/openapi.json) and the provider callbacks' (openapi/provider-callbacks.json).
"""

from __future__ import annotations

import json
import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from api import cli, create_app
from api.auth import PUBLIC, access_rule
from api.openapi_documents import merge_documents

METHODS = {"get", "post", "put", "patch", "delete"}
# Served by the docs machinery itself, not part of the API contract.
UNDOCUMENTED_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets"}


@pytest.fixture(scope="module")
def spec_app():
    return create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "openapi"})


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {name: json.loads(text) for name, text in cli.openapi_documents().items()}


@pytest.fixture(scope="module")
def spec(documents) -> dict:
    return merge_documents(documents["openapi.json"], documents[cli.CALLBACKS_NAME])


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _routes(app) -> dict[tuple[str, str], object]:
    """(OpenAPI path, method) -> access rule, for every route of the app's URL map."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes[(path, method.lower())] = access_rule(view, method)
    return routes


def test_each_document_is_a_valid_openapi_spec(documents):
    for document in documents.values():
        validate(document)


def test_every_route_is_documented_and_nothing_else(spec_app, spec):
    documented = {(path, method) for path, method, _ in _operations(spec)}

    assert documented == set(_routes(spec_app))


def test_every_operation_has_a_summary_and_a_tag(spec):
    for path, method, operation in _operations(spec):
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation.get("tags"), f"{method} {path} has no tag"


def test_every_operation_says_what_it_does_beyond_its_summary(spec):
    for path, method, operation in _operations(spec):
        description = operation.get("description", "")
        assert len(description) > len(operation["summary"]), f"{method} {path}"


def test_every_tag_is_described(spec):
    described = {tag["name"]: tag.get("description") for tag in spec.get("tags", [])}
    for path, method, operation in _operations(spec):
        for tag in operation["tags"]:
            assert described.get(tag), f"{method} {path}: tag {tag!r} has no description"


def test_every_protected_operation_documents_401(spec_app, spec):
    routes = _routes(spec_app)
    for path, method, operation in _operations(spec):
        if routes[(path, method)] != PUBLIC:
            assert "401" in operation["responses"], f"{method} {path} does not document 401"


def test_no_operation_hides_behind_a_default_response(spec):
    for path, method, operation in _operations(spec):
        assert "default" not in operation["responses"], f"{method} {path}"


def test_every_operation_documents_400_for_a_malformed_request(spec):
    for path, method, operation in _operations(spec):
        assert "400" in operation["responses"], f"{method} {path} does not document 400"


def test_operations_taking_a_body_document_413(spec):
    for path, method, operation in _operations(spec):
        if "requestBody" in operation:
            assert "413" in operation["responses"], f"{method} {path} does not document 413"


def test_every_operation_but_liveness_documents_503_for_an_unreachable_database(spec):
    for path, method, operation in _operations(spec):
        documented = "503" in operation["responses"]
        assert documented == ((path, method) != ("/healthz", "get")), f"{method} {path}"


def test_the_pagination_header_is_documented_as_the_json_object_it_is(spec, client, world):
    """A header whose content is JSON: `content` with the object's schema, not a string."""
    header = spec["components"]["headers"]["PAGINATION"]
    response = client.get("/v1/users", headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    sent = json.loads(response.headers["X-Pagination"])
    schema = header["content"]["application/json"]["schema"]

    assert "schema" not in header
    assert not list(OAS30Validator({**schema, **spec}).iter_errors(sent))
    assert sent["total"] == 4  # the admin's own organisation


def test_every_error_response_is_a_problem(spec):
    components = spec["components"]["responses"]
    for path, method, operation in _operations(spec):
        for code, response in operation["responses"].items():
            if code[0] not in "45" and code != "default":
                continue
            if "$ref" in response:
                response = components[response["$ref"].rsplit("/", 1)[1]]
            assert set(response["content"]) == {"application/problem+json"}, (
                f"{method} {path} {code}"
            )


def test_restricted_operations_document_403(spec_app, spec):
    routes = _routes(spec_app)
    for path, method, operation in _operations(spec):
        rule = routes[(path, method)]
        if rule != PUBLIC and set(rule) != {"admin", "advisor", "candidate"}:
            assert "403" in operation["responses"], f"{method} {path} does not document 403"


def test_object_operations_document_404(spec):
    for path, method, operation in _operations(spec):
        if "{" in path:
            assert "404" in operation["responses"], f"{method} {path} does not document 404"


def test_operations_taking_input_document_422(spec):
    for path, method, operation in _operations(spec):
        takes_query = any(p["in"] == "query" for p in operation.get("parameters", []))
        if takes_query or "requestBody" in operation:
            assert "422" in operation["responses"], f"{method} {path} does not document 422"


def test_the_token_endpoints_document_the_403_for_another_users_tokens(spec):
    assert "403" in spec["paths"]["/v1/tokens"]["get"]["responses"]
    assert "403" in spec["paths"]["/v1/tokens"]["post"]["responses"]


def test_protected_operations_require_the_bearer_scheme(spec_app, spec):
    routes = _routes(spec_app)
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "tb_ token",
    }
    for path, method, operation in _operations(spec):
        if routes[(path, method)] == PUBLIC:
            assert operation.get("security") == [], f"{method} {path} is public"
        else:
            assert operation.get("security") == [{"bearerAuth": []}], f"{method} {path}"


def test_the_public_operations_are_health_checks_signed_webhooks_and_the_feed(spec_app, spec):
    routes = _routes(spec_app)
    public = {key for key, rule in routes.items() if rule == PUBLIC}

    assert public == {
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/v1/webhooks/twilio/messages/{touch_id}/status", "post"),
        ("/v1/webhooks/twilio/calls/{touch_id}/twiml", "post"),
        ("/v1/webhooks/twilio/calls/{touch_id}/status", "post"),
        ("/v1/webhooks/twilio/sms/inbound", "post"),
        ("/calendar/{secret}.ics", "get"),  # the secret in the URL is the credential
    }


def test_lists_document_the_pagination_header_and_arguments(spec):
    for path, method, operation in _operations(spec):
        names = {p["name"] for p in operation.get("parameters", [])}
        if "page_size" not in names:
            continue
        page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
        assert page_size["schema"]["maximum"] == 100, f"{method} {path}"
        assert "X-Pagination" in operation["responses"]["200"].get("headers", {}), (
            f"{method} {path}"
        )


def test_the_committed_documents_are_up_to_date(documents):
    """What `touchbase openapi --check` verifies in CI: run `touchbase openapi --write`."""
    for name, text in cli.openapi_documents().items():
        committed = cli.OPENAPI_FILE.with_name(name)
        assert committed.exists(), f"openapi/{name} is missing"
        assert json.loads(committed.read_text()) == documents[name]
        assert committed.read_text() == text


def test_openapi_check_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(cli, "OPENAPI_FILE", stale)

    assert cli.main(["openapi", "--check"]) == 1
    assert "stale" in capsys.readouterr().err


def test_openapi_check_fails_when_the_file_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "OPENAPI_FILE", tmp_path / "missing" / "openapi.json")

    assert cli.main(["openapi", "--check"]) == 1


def test_openapi_write_then_check_passes(tmp_path, monkeypatch):
    target = tmp_path / "openapi" / "openapi.json"
    monkeypatch.setattr(cli, "OPENAPI_FILE", target)

    assert cli.main(["openapi", "--write"]) == 0
    assert cli.main(["openapi", "--check"]) == 0
    assert target.read_text() == cli.openapi_document()
    assert (
        target.with_name(cli.CALLBACKS_NAME).read_text()
        == (cli.openapi_documents()[cli.CALLBACKS_NAME])
    )


def test_openapi_check_fails_when_only_the_callbacks_document_is_stale(tmp_path, monkeypatch):
    target = tmp_path / "openapi.json"
    monkeypatch.setattr(cli, "OPENAPI_FILE", target)
    assert cli.main(["openapi", "--write"]) == 0
    target.with_name(cli.CALLBACKS_NAME).write_text("{}\n")

    assert cli.main(["openapi", "--check"]) == 1


def test_template_writes_document_the_403_for_organisation_wide_templates(spec):
    paths = spec["paths"]
    for method, path in (
        ("post", "/v1/templates"),
        ("patch", "/v1/templates/{template_id}"),
        ("delete", "/v1/templates/{template_id}"),
    ):
        assert "403" in paths[path][method]["responses"], f"{method} {path}"


def test_every_patch_body_must_change_a_field(spec):
    schemas = spec["components"]["schemas"]
    for path, method, operation in _operations(spec):
        if method != "patch":
            continue
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        body = schemas[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
        assert body.get("minProperties") == 1, f"{method} {path} accepts {{}} in the document"
