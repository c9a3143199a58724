"""Pieces every resource shares: id paths, SQL pagination, patching, uniqueness errors."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint as _SmorestBlueprint
from flask_smorest import Page
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, ValidationError

from api import input_hygiene
from api.db import get_session
from api.problems import Problem
from api.schemas.fields import ID_MAX

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
        args = MultiDict([(k, v) for k, v in req.args.items(multi=True) if k not in reserved])
        return self._makeproxy(args, schema)


class Blueprint(_SmorestBlueprint):
    """flask-smorest Blueprint with strict query parsing and bounded page numbers; every
    resource uses this one."""

    ARGUMENTS_PARSER = StrictQueryParser()

    def paginate(self, pager=None, **kwargs):
        """flask-smorest's pagination, with `page` at most PAGE_MAX (a 422 naming it): a
        larger page would overflow the OFFSET of the query."""
        decorate = super().paginate(pager, **kwargs)

        def decorator(func):
            view = decorate(func)
            # flask-smorest builds one parameters schema per endpoint: bound its page field
            # there, so the parsing and the OpenAPI document both carry the limit.
            schema = view._apidoc["pagination"]["parameters"]["schema"]
            schema._declared_fields["page"].validators.append(
                ma.validate.Range(min=1, max=PAGE_MAX)
            )
            return view

        return decorator


class SelectPage(Page):
    """Paginates a select() in SQL: one COUNT and one LIMIT/OFFSET query, never the whole table."""

    @property
    def items(self):
        query = self.collection.limit(self.page_params.page_size).offset(
            self.page_params.first_item
        )
        return get_session().scalars(query).all()

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
