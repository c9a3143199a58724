"""What the generated OpenAPI document promises beyond each view's own decorators.

Some answers come from the HTTP edge, not from a view: a malformed body (400), a body over
the size limit (413), an unreachable database (503), an id that names nothing (404). Each
view would have to repeat them; instead this plugin adds them to every operation they apply
to, so the document lists every status code the server can send and needs no catch-all
`default` response to hide behind.

Component schemas are named so that no code generator's own types clash with them.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, resolver
from apispec.ext.marshmallow.common import resolve_schema_cls

from api.schemas.enums import NULL_SCHEMA
from api.schemas.fields import ReadSchema

BODY_METHODS = frozenset({"post", "put", "patch"})
#: Operations that never touch the database, so never answer 503.
NO_DATABASE = frozenset({("/healthz", "get")})
#: Operations no rate limit applies to (api.ratelimit.EXEMPT_ENDPOINTS), so never a 429.
NOT_RATE_LIMITED = frozenset({("/healthz", "get"), ("/readyz", "get")})

#: What a 429 carries (api.ratelimit): header name -> (component id, header object).
RATE_LIMIT_HEADERS = {
    "Retry-After": (
        "RETRY_AFTER",
        {
            "description": "Seconds until the refused policy's window ends.",
            "schema": {"type": "integer", "minimum": 1},
            "required": True,
        },
    ),
    "RateLimit-Policy": (
        "RATELIMIT_POLICY",
        {
            "description": "The policy that refused (draft-ietf-httpapi-ratelimit-headers, "
            "structured form): its name (`token`: per bearer token; `auth-failures`: failed "
            "authentications per client address; `address`: per client address on the "
            "endpoints that need no token), its quota `q` and window `w` in seconds. Every "
            "limited answer, not only a 429, carries it for the policy that counted it.",
            "schema": {"type": "string"},
            "example": "token;q=1200;w=60",
            "required": True,
        },
    ),
    "RateLimit": (
        "RATELIMIT",
        {
            "description": "What is left of that policy's quota (`r`) and the seconds until "
            "its window ends (`t`). Every limited answer carries it.",
            "schema": {"type": "string"},
            "example": "token;r=0;t=42",
            "required": True,
        },
    ),
}

#: X-Pagination's content (flask-smorest's PaginationMetadataSchema): first_page and
#: last_page are there when there is a page; previous_page and next_page when they exist.
PAGINATION_METADATA = {
    "type": "object",
    "properties": {
        "total": {"type": "integer", "description": "Total number of items"},
        "total_pages": {"type": "integer", "description": "Total number of pages"},
        "first_page": {"type": "integer", "description": "First page (absent if none)"},
        "last_page": {"type": "integer", "description": "Last page (absent if none)"},
        "page": {"type": "integer", "description": "This page (absent past the last)"},
        "previous_page": {"type": "integer", "description": "Previous page, if any"},
        "next_page": {"type": "integer", "description": "Next page, if any"},
    },
    "required": ["total", "total_pages"],
    "example": {
        "total": 42,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 1,
        "next_page": 2,
    },
}

PAGINATION_HEADER = {
    "description": "Pagination metadata: a JSON object (the same pages are in `Link`).",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/PaginationMetadata"}}
    },
}

LINK_HEADER = {
    "description": "RFC 8288 links to the first, prev, next and last pages (those that "
    "exist), each the request's URL with only `page` changed: `<https://host/v1/touches?"
    'status=scheduled&page=2>; rel="next", ...`.',
    "schema": {"type": "string"},
}

LOCATION_HEADER = {
    "description": "The URL of the created resource",
    "schema": {"type": "string", "format": "uri"},
}

ETAG_HEADER = {
    "description": "The representation's version: send it back in If-None-Match (GET: 304 "
    "if unchanged) or If-Match (PATCH/PUT/DELETE: 412 if it changed since).",
    "schema": {"type": "string"},
}

#: The conditional request headers, as flask-smorest names them, written out in each
#: operation that takes them (If-Match is optional: absent, a write is unconditional).
ETAG_PARAMETERS = {
    "IF_NONE_MATCH": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "An ETag of this resource: 304 Not Modified if it is still current",
        "schema": {"type": "string"},
    },
    "IF_MATCH": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "Optional. The ETag the change is based on: 412 Precondition Failed "
        "if the resource changed since (someone else's edit); absent, the change is made "
        "unconditionally.",
        "schema": {"type": "string"},
    },
}


class EdgeResponsesPlugin(BasePlugin):
    """Adds what the HTTP edge does to every operation it applies to: the status codes it
    can answer, and that a PATCH body must change at least one field (api.resources.common
    refuses `{}`)."""

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        self.spec = spec

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **_):
        for method, operation in (operations or {}).items():
            responses: dict[Any, Any] = operation.setdefault("responses", {})
            for status, name in edge_statuses(path or "", method, operation):
                responses.setdefault(str(status), name)
            for created in (201, "201"):
                if isinstance(responses.get(created), dict):
                    responses[created].setdefault("headers", {})["Location"] = LOCATION_HEADER
            if method == "patch":
                self._require_a_change(operation)

    def _require_a_change(self, operation: dict) -> None:
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schema = media.get("schema")
            ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
            if ref:
                self.spec.components.schemas[ref.rsplit("/", 1)[1]]["minProperties"] = 1
            elif isinstance(schema, dict):
                schema["minProperties"] = 1


def edge_statuses(path: str, method: str, operation: dict) -> list[tuple[int, str]]:
    """(status, component) pairs the edge may answer for one operation."""
    out = [(400, "BAD_REQUEST")]
    if method in BODY_METHODS:
        out.append((413, "REQUEST_ENTITY_TOO_LARGE"))
    if "{" in path:
        out.append((404, "NOT_FOUND"))
    if (path, method) not in NOT_RATE_LIMITED:
        out.append((429, "TOO_MANY_REQUESTS"))
    if (path, method) not in NO_DATABASE:
        out.append((503, "SERVICE_UNAVAILABLE"))
    return out


def register_rate_limit_headers(spec) -> dict[str, str]:
    """Adds the header components of a 429; the response's `headers` naming them."""
    for component_id, header in RATE_LIMIT_HEADERS.values():
        spec.components.header(component_id, header, lazy=True)
    return {name: component_id for name, (component_id, _) in RATE_LIMIT_HEADERS.items()}


#: Names that code generators give their own types, so a component named so clashes with
#: them in a generated client: openapi-python-client's types (`Response`, `Unset`, `UNSET`,
#: `File`, `FileTypes`...), client classes and errors; openapi-generator's support classes;
#: the TypeScript globals a generated type alias would shadow. Compared as generators turn
#: names into class names: without case or underscores.
RESERVED_SCHEMA_NAMES = frozenset(
    {
        # openapi-python-client: types.py, client.py, errors.py
        "Response",
        "Unset",
        "File",
        "FileTypes",
        "FileContent",
        "FileJsonType",
        "Client",
        "AuthenticatedClient",
        "UnexpectedStatus",
        "Types",
        "Errors",
        "Models",
        "Api",
        # openapi-generator's support classes
        "ApiClient",
        "ApiResponse",
        "ApiException",
        "Configuration",
        "RestClientObject",
        # TypeScript globals
        "Error",
        "Object",
        "Array",
        "Date",
        "Map",
        "Set",
        "Promise",
        "Record",
        "String",
        "Number",
        "Boolean",
        "Symbol",
        "Function",
    }
)


def _folded(name: str) -> str:
    return name.replace("_", "").lower()


_RESERVED_FOLDED = frozenset(_folded(name) for name in RESERVED_SCHEMA_NAMES)


def is_reserved_schema_name(name: str) -> bool:
    return _folded(name) in _RESERVED_FOLDED


def schema_component_name(schema) -> str:
    """A marshmallow schema's component name: its class name without `Schema`, as apispec
    names it, refused if a generator reserves it (rename the class: the name is the type a
    portal's generated client will have)."""
    name = resolver(schema)
    if is_reserved_schema_name(name):
        raise ValueError(
            f"Schema component {name!r} clashes with a name code generators reserve "
            "(api.spec.RESERVED_SCHEMA_NAMES): rename its class."
        )
    return name


class ReadSchemaPlugin(BasePlugin):
    """Marks as `required` every property of an answer's schema (api.schemas.fields.
    ReadSchema) but those it names in SOMETIMES: what a client may count on finding; and
    writes nullable nested objects and enums as generators read them (nullable_nested_property,
    nullable_enum_property)."""

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        marshmallow = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin))
        marshmallow.converter.add_attribute_function(nullable_nested_property)
        marshmallow.converter.add_attribute_function(nullable_enum_property)

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> dict | None:
        schema = kwargs.get("schema")
        if schema is None:
            return None
        schema_cls = resolve_schema_cls(schema)
        if not (isinstance(schema_cls, type) and issubclass(schema_cls, ReadSchema)):
            return None
        properties = definition.get("properties", {})
        unknown = schema_cls.SOMETIMES - set(properties)
        if unknown:
            raise ValueError(f"{name}.SOMETIMES names no field: {sorted(unknown)}")
        return {"required": [p for p in properties if p not in schema_cls.SOMETIMES]}


def nullable_nested_property(_converter, field, ret: dict[str, Any], **_kwargs) -> dict:
    """apispec attribute function: a nullable nested object as `anyOf` its type or null
    (api.schemas.enums.NULL_SCHEMA), instead of apispec's `anyOf` with a bare nullable
    object, which generators turn into a second, empty type."""
    alternatives = ret.get("anyOf")
    if not (
        isinstance(alternatives, list)
        and len(alternatives) == 2
        and alternatives[1] == {"type": "object", "nullable": True}
        and "$ref" in alternatives[0]
    ):
        return {}
    return {"anyOf": [alternatives[0], dict(NULL_SCHEMA)]}


def nullable_enum_property(_converter, field, ret: dict[str, Any], **_kwargs) -> dict:
    """apispec attribute function: a nullable enum lists `null` among its values. OpenAPI
    3.0.3 says `nullable` does not widen an `enum`, so generators (openapi-python-client)
    refuse a null the enum does not list."""
    values = ret.get("enum")
    if not (isinstance(values, list) and ret.get("nullable") and None not in values):
        return {}
    return {"enum": [*values, None]}
