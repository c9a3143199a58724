"""Pieces every resource shares: id paths, SQL pagination, patching, uniqueness errors."""

from __future__ import annotations

import functools
from typing import Any

import marshmallow as ma
from flask import current_app, json, request
from flask_smorest import Blueprint as _SmorestBlueprint
from flask_smorest import Page
from flask_smorest.etag import _get_etag_ctx
from flask_smorest.utils import get_appcontext
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, PreconditionFailed
from werkzeug.routing import IntegerConverter, ValidationError
from werkzeug.wrappers import Response

from api import input_hygiene
from api.db import get_session
from api.problems import Problem
from api.resources.listing import SORT_KEY, Sort, link_header, sorted_view
from api.schemas.fields import ID_MAX
from api.spec import ETAG_PARAMETERS

PAGINATION = {"page_size": 20, "max_page_size": 100}
PAGINATION_KEYS = frozenset({"page", "page_size"})
#: No table holds more rows than there are ids, so no page beyond this has anything on it;
#: and (PAGE_MAX - 1) * max_page_size fits the 64-bit OFFSET of both databases.
PAGE_MAX = ID_MAX


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: an id, 1 to ID_MAX. Anything else matches no route, so
    it is a plain 404 before any handler (or webhook signature check) runs."""

    def __init__(self, map, fixed_digits=0, min=1, max=ID_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str):
        if len(value) > len(str(self.max)):  # int() of thousands of digits is refused
            raise ValidationError()
        return super().to_python(value)


class StrictQueryParser(FlaskParser):
    """Unknown query parameters are a 422: a mistyped filter must never quietly return
    everything. The pagination parameters are left to the pagination parser. JSON bodies
    come parsed and screened from the edge."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def load_json(self, req, schema):
        """PATCH changes something and PUT replaces something: both need a body. An empty
        PATCH is a mistake (it would answer 200 and change nothing); a PUT without a body
        must not erase what is stored (`{}` says that on purpose)."""
        data = super().load_json(req, schema)
        if req.method in ("PATCH", "PUT") and data is ma.missing:
            reason = f"A JSON body (Content-Type: application/json) is required for {req.method}."
            raise ma.ValidationError({"json": [reason]})
        if req.method == "PATCH" and data == {}:
            raise ma.ValidationError({"_schema": ["Give at least one field to change."]})
        return data

    def _raw_load_json(self, req):
        """The body as the edge parsed and screened it (api.input_hygiene), not again."""
        if not is_json_request(req):
            return ma.missing
        body = input_hygiene.json_body(req)
        return body if input_hygiene.has_body(body) else ma.missing

    def load_querystring(self, req, schema):
        reserved = PAGINATION_KEYS - set(schema.fields)
        if _sorted_list(req):  # `sort` is the list's own; elsewhere it is unknown (422)
            reserved |= {SORT_KEY}
        args = MultiDict([(k, v) for k, v in req.args.items(multi=True) if k not in reserved])
        return self._makeproxy(args, schema)


def _sorted_list(req) -> bool:
    """Whether the request's view is a list paginated with a Sort (Blueprint.paginate)."""
    view = current_app.view_functions.get(req.url_rule.endpoint) if req.url_rule else None
    method = getattr(getattr(view, "view_class", None), req.method.lower(), None)
    return "sort" in getattr(method, "_apidoc", {}).get("pagination", {})


class Blueprint(_SmorestBlueprint):
    """flask-smorest Blueprint with strict query parsing, bounded page numbers, `sort`,
    Link headers, a Location on every 201 and optional If-Match; every resource uses
    this one."""

    ARGUMENTS_PARSER = StrictQueryParser()

    def paginate(self, pager=None, *, sort: Sort | None = None, **kwargs):
        """flask-smorest's pagination, with `page` at most PAGE_MAX (a 422 naming it): a
        larger page would overflow the OFFSET of the query; and, given a Sort, the `sort`
        parameter applied to the Select the view returns."""
        decorate = super().paginate(pager, **kwargs)

        def decorator(func):
            if sort is not None:
                func = sorted_view(func, sort, self.PAGINATION_ARGUMENTS_PARSER.parse)
            view = decorate(func)
            # flask-smorest builds one parameters schema per endpoint: bound its page field
            # there, so the parsing and the OpenAPI document both carry the limit.
            schema = view._apidoc["pagination"]["parameters"]["schema"]
            schema._declared_fields["page"].validators.append(
                ma.validate.Range(min=1, max=PAGE_MAX)
            )
            if sort is not None:
                view._apidoc["pagination"]["sort"] = sort
            return view

        return decorator

    def _prepare_pagination_doc(self, doc, doc_info, *, spec, **kwargs):
        doc = super()._prepare_pagination_doc(doc, doc_info, spec=spec, **kwargs)
        sort = doc_info.get("pagination", {}).get("sort")
        if sort is not None:
            doc["parameters"].append(sort.parameter(spec))
        return doc

    def _set_pagination_metadata(self, page_params, result, headers):
        """X-Pagination, and the same pages as an RFC 8288 Link header."""
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        link = link_header(json.loads(headers[self.PAGINATION_HEADER_NAME]))
        if link is not None:
            headers["Link"] = link
        return result, headers

    def _document_pagination_metadata(self, spec, resp_doc):
        resp_doc.setdefault("headers", {}).update(
            {self.PAGINATION_HEADER_NAME: "PAGINATION", "Link": "LINK"}
        )

    def response(self, status_code, schema=None, **kwargs):
        """flask-smorest's response; a 201 also answers `Location`: the created resource's
        URL, the collection's URL + its id (or the URL posted to, for what has no id of
        its own, such as the caller's calendar feed)."""
        decorate = super().response(status_code, schema, **kwargs)
        if int(status_code) != 201:
            return decorate

        def decorator(func):
            view = decorate(func)

            @functools.wraps(view)
            def wrapper(*args, **kw):
                response = view(*args, **kw)
                if response.status_code == 201 and "Location" not in response.headers:
                    response.headers["Location"] = created_location(
                        get_appcontext().get("result_dump")
                    )
                return response

            return wrapper

        return decorator

    def _check_precondition(self):
        """If-Match is optional: a client that sends none is served as before (existing
        clients keep working); one that sends a stale one gets 412 (check_etag)."""

    def check_etag(self, etag_data, etag_schema=None):
        """flask-smorest's check (412 unless If-Match names the current ETag, or `*`),
        when If-Match is given. ``etag_schema`` is the resource's GET schema: the ETag is
        that of its representation, whatever the write answers."""
        if not request.if_match:
            _get_etag_ctx()["etag_checked"] = True
            return
        try:
            super().check_etag(etag_data, etag_schema)
        except PreconditionFailed:
            reason = "The resource changed since this ETag; GET it for the current one."
            raise Problem(412, f"If-Match: {reason}", errors={"If-Match": [reason]}) from None

    def _check_not_modified(self, etag):
        """304 for an If-None-Match naming the current ETag; the answer repeats the ETag."""
        if request.method in self.METHODS_CHECKING_NOT_MODIFIED and etag in request.if_none_match:
            raise NotModified(etag)

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        """flask-smorest's, without 428 (If-Match is optional) and with the conditional
        headers written out in each operation (api.spec.ETAG_PARAMETERS)."""
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        doc.get("responses", {}).pop(428, None)
        if "parameters" in doc:
            doc["parameters"] = [
                ETAG_PARAMETERS[p] if isinstance(p, str) and p in ETAG_PARAMETERS else p
                for p in doc["parameters"]
            ]
        return doc


class NotModified(HTTPException):
    """304 Not Modified, with no body and the ETag the client already has."""

    code = 304

    def __init__(self, etag: str):
        super().__init__()
        self.etag = etag

    def get_response(self, environ=None, scope=None):
        response = Response(status=304)
        response.set_etag(self.etag)
        return response


def created_location(body: Any) -> str:
    base = request.base_url.rstrip("/")
    if isinstance(body, dict) and isinstance(body.get("id"), int):
        return f"{base}/{body['id']}"
    return base


class SelectPage(Page):
    """Paginates a select() in SQL: one LIMIT/OFFSET query, never the whole table, and a
    COUNT only when the page is full (a short page says the total itself: what came
    before it plus its rows)."""

    def __init__(self, collection, page_params):
        self.collection = collection
        self.page_params = page_params
        query = collection.limit(page_params.page_size).offset(page_params.first_item)
        self._items = get_session().scalars(query).all()
        short = len(self._items) < page_params.page_size
        if short and (self._items or page_params.first_item == 0):
            page_params.item_count = page_params.first_item + len(self._items)
        else:
            page_params.item_count = self.item_count

    @property
    def items(self):
        return self._items

    @property
    def item_count(self):
        counted = self.collection.order_by(None).subquery()
        return get_session().scalar(select(func.count()).select_from(counted))


def apply_changes(obj: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(obj, key, value)


def field_error(field: str, reason: str, status: int = 422) -> Problem:
    return Problem(status, f"Invalid input: {field}: {reason}", errors={field: [reason]})


def conflict(field: str, reason: str) -> Problem:
    return Problem(409, f"{field}: {reason}", errors={field: [reason]})


def filter_equal(query: Select, model, args: dict[str, Any], *names: str) -> Select:
    for name in names:
        if name in args:
            query = query.where(getattr(model, name) == args[name])
    return query
