"""Pieces every resource shares: SQL pagination, patching, uniqueness errors."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint as _SmorestBlueprint
from flask_smorest import Page
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict

from api.db import get_session
from api.problems import Problem

PAGINATION = {"page_size": 20, "max_page_size": 100}
PAGINATION_KEYS = frozenset({"page", "page_size"})


class StrictQueryParser(FlaskParser):
    """Unknown query parameters are a 422: a mistyped filter must never quietly return
    everything. The pagination parameters are left to the pagination parser."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def load_querystring(self, req, schema):
        reserved = PAGINATION_KEYS - set(schema.fields)
        args = MultiDict([(k, v) for k, v in req.args.items(multi=True) if k not in reserved])
        return self._makeproxy(args, schema)


class Blueprint(_SmorestBlueprint):
    """flask-smorest Blueprint with strict query parsing; every resource uses this one."""

    ARGUMENTS_PARSER = StrictQueryParser()


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
