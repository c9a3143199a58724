"""The Flask application factory."""

from __future__ import annotations

import http
import importlib
import logging
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app, json, request, send_from_directory
from flask_smorest import Api
from flask_smorest.spec import prepare_response
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import HTTPException

from api.auth import access_rule, public
from api.config import load_config
from api.db import RequestSession, close_session, make_engine
from api.idempotency import init_app as init_idempotency
from api.idempotency.spec import IdempotencyPlugin
from api.input_hygiene import screen_request
from api.openapi_documents import build_documents
from api.operation_ids import OperationIdPlugin
from api.problems import (
    PROBLEM_MIMETYPE,
    Problem,
    ProblemSchema,
    from_http_exception,
    problem_response,
)
from api.ratelimit import init_rate_limits
from api.resources.common import IdConverter
from api.schemas.enums import NamedEnumPlugin
from api.spec import (
    ETAG_HEADER,
    LINK_HEADER,
    PAGINATION_HEADER,
    PAGINATION_METADATA,
    EdgeResponsesPlugin,
    ReadSchemaPlugin,
    register_rate_limit_headers,
    schema_component_name,
)

log = logging.getLogger("touchbase.api")

#: Seconds a client is told to wait when the database cannot be reached.
RETRY_AFTER_SECONDS = 5

API_DESCRIPTION = """\
Touchbase helps job candidates follow up with the people who interviewed them, well and
without overdoing it. Every call needs `Authorization: Bearer tb_...`; errors are
`application/problem+json` (RFC 9457) and name each bad field under `errors`.
"""

RATE_LIMITED_DESCRIPTION = (
    "Rate limited: the problem's `policy` names the limit that refused (`token`, "
    "`auth-failures` or `address`); retry after `Retry-After` seconds."
)

# Blueprint modules, in the order their tags appear in the docs.
RESOURCES = (
    "api.resources.health",
    "api.resources.me",
    "api.resources.tokens",
    "api.resources.users",
    "api.resources.assignments",
    "api.resources.contacts",
    "api.resources.applications",
    "api.resources.interviews",
    "api.resources.plans",
    "api.resources.touches",
    "api.resources.approvals",
    "api.resources.responses",
    "api.resources.inbound",
    "api.resources.mailboxes",
    "api.resources.reports",
    "api.resources.calendar",
    "api.resources.calendar_feed",
    "api.resources.policies",
    "api.resources.channels",
    "api.resources.templates",
    "api.resources.webhooks",
    "api.resources.webhook_endpoints",
    "api.resources.privacy",
    "api.resources.organization",
    "api.resources.audit",
)


class TouchbaseApi(Api):
    """flask-smorest Api answering every error as problem+json."""

    ERROR_SCHEMA = ProblemSchema
    # Every status an operation can answer is listed (see api.spec), so no catch-all.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException):
        if error.code == 304:  # not an error: no problem body
            return error.get_response()
        return from_http_exception(error)

    def _register_responses(self):
        rate_limit_headers = register_rate_limit_headers(self.spec)
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status == http.HTTPStatus.TOO_MANY_REQUESTS:
                response["description"] = RATE_LIMITED_DESCRIPTION
                response["headers"] = dict(rate_limit_headers)
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)

    def documents(self) -> tuple[dict, dict]:
        """(portal document, provider callbacks document): api.openapi_documents."""
        return build_documents(self.spec.to_dict())

    def _openapi_json(self):
        """/openapi.json (and /docs) serve the portal's document, as committed."""
        return current_app.response_class(
            json.dumps(self.documents()[0], indent=2), mimetype="application/json"
        )

    def _register_pagination_header(self):
        # What is on the wire: a header whose content is a JSON object (api.spec).
        self.spec.components.schema("PaginationMetadata", PAGINATION_METADATA)
        self.spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)
        self.spec.components.header("LINK", LINK_HEADER, lazy=True)

    def _register_etag_headers(self):
        # The If-Match / If-None-Match parameters are written out where used (api.spec).
        self.spec.components.header("ETAG", ETAG_HEADER, lazy=True)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.update(load_config(config))
    app.config.update(
        API_TITLE="Touchbase",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "servers": [{"url": "/"}],
        },
    )
    engine = app.config.get("ENGINE") or make_engine(
        app.config["DATABASE_URL"],
        pre_ping=bool(app.config.get("DB_PRE_PING")),
        pool_size=app.config["DB_POOL_SIZE"],
        max_overflow=app.config["DB_MAX_OVERFLOW"],
    )
    app.extensions["touchbase.engine"] = engine
    app.extensions["touchbase.sessionmaker"] = sessionmaker(
        engine, class_=RequestSession, expire_on_commit=False
    )
    app.teardown_appcontext(close_session)

    # Before any route is added: every `<int:...>` in a path is an id in range (else 404).
    app.url_map.converters["int"] = IdConverter
    api = TouchbaseApi(
        app,
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_component_name),
            "extra_plugins": [
                EdgeResponsesPlugin(),
                OperationIdPlugin(),
                NamedEnumPlugin(),
                ReadSchemaPlugin(),
                IdempotencyPlugin(),
            ],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "tb_ token"}
    )
    for module in RESOURCES:
        api.register_blueprint(importlib.import_module(module).blp)
    app.extensions["touchbase.api"] = api

    _serve_docs_assets(app)
    _mark_docs_public(app)
    # First of the request hooks: a refused request costs no parsing and no query.
    init_rate_limits(app)
    app.before_request(screen_request)
    app.before_request(_require_access_rule)
    init_idempotency(app)
    for error in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.register_error_handler(error, _database_unavailable)
    return app


def _database_unavailable(error: Exception):
    """A lost or refused database connection is the server's outage, not the request's
    fault: a fast 503 the client may retry, never a 500 or a hang. A connection found dead
    is replaced, with every older one in the pool (api.db._retry_first_statement), so the next
    request after the database is back succeeds."""
    log.warning("database unavailable: %s", str(error).splitlines()[0][:200])
    return problem_response(
        503,
        "The database is not reachable right now; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _serve_docs_assets(app: Flask) -> None:
    """Swagger UI from the installed swagger-ui-bundle: /docs works with no internet."""
    from swagger_ui_bundle import swagger_ui_path

    @public
    def docs_assets(filename: str):
        return send_from_directory(str(swagger_ui_path), filename, max_age=3600)

    app.add_url_rule("/docs/assets/<path:filename>", "docs_assets", docs_assets)


def _mark_docs_public(app: Flask) -> None:
    for endpoint in ("api-docs.openapi_json", "api-docs.openapi_swagger_ui"):
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = public(_plain(view))


def _plain(view):
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    wrapper.__name__ = getattr(view, "__name__", "view")
    return wrapper


def _require_access_rule():
    """Fail closed: an endpoint that declares no access rule is never served."""
    if request.method == "OPTIONS" or request.url_rule is None:
        return None
    view = current_app.view_functions.get(request.url_rule.endpoint)
    if view is None or access_rule(view, request.method) is None:
        raise Problem(500, "This endpoint declares no access rule.")
    return None
