"""How every list answers: `sort`, the RFC 8288 `Link` header and time-range filters.

Each paginated list names the fields it can be sorted by (api.resources.common.Blueprint.
paginate takes a Sort); the order is done in SQL, always ending on the row id so that
equal keys keep one order from page to page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from sqlalchemy import Select
from sqlalchemy.sql.elements import ColumnElement
from webargs.fields import DelimitedList

SORT_KEY = "sort"
SORT_DESCRIPTION = (
    "Fields to sort by, comma-separated, each optionally prefixed with `-` for descending "
    "(e.g. `-created_at,id`). Ties are broken by id; absent: the list's own order."
)


class SortList(DelimitedList):
    """`sort=-scheduled_for,id`: comma-separated field names, `-` for descending. One
    reason naming `sort` for any bad value (not one per list index)."""

    def __init__(self, names: tuple[str, ...], **kwargs):
        self.names = names
        super().__init__(ma.fields.String(validate=ma.validate.OneOf(keys_of(names))), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        try:
            keys = super()._deserialize(value, attr, data, **kwargs)
        except ma.ValidationError:
            known = keys_of(self.names)
            bad = next((k for k in str(value).split(",") if k not in known), "")
            raise ma.ValidationError(
                f"Unknown sort field {bad[:40]!r}; sort by any of: {', '.join(self.names)} "
                "(prefix - for descending, comma-separated)."
            ) from None
        fields = [key.lstrip("-") for key in keys]
        if len(set(fields)) != len(fields):
            raise ma.ValidationError("Each field may appear once in sort.")
        return keys


def keys_of(names: tuple[str, ...]) -> list[str]:
    return [key for name in names for key in (name, f"-{name}")]


class Sort:
    """The fields a list may be sorted by: API name -> column (or SQL expression). `id`
    is always one of them and always the last key (the tiebreak). Its keys are one named
    enum in the document, `<Model>Sort` unless ``component`` says otherwise."""

    def __init__(self, id_column, *, component: str | None = None, **columns: ColumnElement):
        self.columns: dict[str, ColumnElement] = {"id": id_column, **columns}
        self.name = component or f"{id_column.class_.__name__}Sort"

    def __deepcopy__(self, memo) -> Sort:
        return self  # fixed at import; flask-smorest deep-copies each view's doc info

    def parameter(self, spec) -> dict[str, Any]:
        """The `sort` query parameter, its keys a component of their own (registered on
        first use; a second list with the same name must allow the same keys)."""
        keys = keys_of(tuple(self.columns))
        component = {
            "type": "string",
            "enum": keys,
            "description": "A field to sort by; `-` before it for descending.",
        }
        known = spec.components.schemas.get(self.name)
        if known is None:
            spec.components.schema(self.name, component)
        elif known != component:
            raise ValueError(f"Two lists call different sort keys {self.name}")
        return {
            "name": SORT_KEY,
            "in": "query",
            "required": False,
            "description": SORT_DESCRIPTION,
            "style": "form",
            "explode": False,
            "schema": {"type": "array", "items": {"$ref": f"#/components/schemas/{self.name}"}},
        }

    def schema(self) -> type[ma.Schema]:
        """The query schema that parses `sort` (the document's parameter is parameter())."""
        names = tuple(self.columns)

        class SortParametersSchema(ma.Schema):
            class Meta:
                unknown = ma.EXCLUDE

            sort = SortList(names)

        return SortParametersSchema

    def apply(self, query: Select, keys: list[str]) -> Select:
        """``query`` ordered by ``keys`` then id; its own order when none are given. A
        null sorts last ascending and first descending on both databases (PostgreSQL's
        default; SQLite's is the other way round)."""
        if not keys:
            return query
        order = []
        for key in keys:
            column = self.columns[key.lstrip("-")]
            order.append(
                column.desc().nulls_first() if key.startswith("-") else column.asc().nulls_last()
            )
        if not any(key.lstrip("-") == "id" for key in keys):
            order.append(self.columns["id"].asc())
        return query.order_by(None).order_by(*order)


def sorted_view(func: Callable[..., Any], sort: Sort, parse: Callable[..., Any]):
    """Wrap a list view returning a Select so the result is ordered as `sort` asks."""
    schema = sort.schema()

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        keys = parse(schema, request, location="query").get(SORT_KEY, [])
        return sort.apply(func(*args, **kwargs), keys)

    return wrapper


def filter_range(query: Select, column: ColumnElement, args: dict, after: str, before: str):
    """``after`` <= column < ``before``, each bound only when given."""
    if after in args:
        query = query.where(column >= args[after])
    if before in args:
        query = query.where(column < args[before])
    return query


def page_url(page: int) -> str:
    """This request's URL with `page` replaced and every other query parameter kept."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    args.append(("page", str(page)))
    return f"{request.base_url}?{urlencode(args)}"


def link_header(metadata: Mapping[str, Any]) -> str | None:
    """RFC 8288 Link for a page: first, prev, next, last, from the X-Pagination metadata."""
    relations = (
        ("first", metadata.get("first_page")),
        ("prev", metadata.get("previous_page")),
        ("next", metadata.get("next_page")),
        ("last", metadata.get("last_page")),
    )
    links = [f'<{page_url(page)}>; rel="{rel}"' for rel, page in relations if page is not None]
    return ", ".join(links) or None
