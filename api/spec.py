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
from apispec.ext.marshmallow import resolver

BODY_METHODS = frozenset({"post", "put", "patch"})
#: Operations that never touch the database, so never answer 503.
NO_DATABASE = frozenset({("/healthz", "get")})

PAGINATION_HEADER = {
    "description": "Pagination metadata, a JSON object serialised as text: total, "
    "total_pages, first_page, last_page, page, previous_page, next_page "
    '(e.g. {"total": 42, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 1, '
    '"next_page": 2}).',
    "schema": {"type": "string"},
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
    if (path, method) not in NO_DATABASE:
        out.append((503, "SERVICE_UNAVAILABLE"))
    return out


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
