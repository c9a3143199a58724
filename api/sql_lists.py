"""``column IN (a list of values)`` whose SQL does not change with the list's length.

SQLAlchemy renders ``IN`` with one placeholder per value, so a query of 37 ids and one of
38 are two statements: each new length is parsed again by psycopg (a pure-Python pass
over the text) and planned again by the server. The batch paths (an inbound batch
re-plans hundreds of applications from a few queries, each with a list of another
length) spent more time there than in the queries. On PostgreSQL :func:`among` is
``column = ANY(:values)``, one array parameter: one text for every length, cached by
SQLAlchemy and psycopg and prepared by the server. SQLite has no arrays: there it is
the plain ``IN``.

Not for a query the server answers by scanning the table (a small one, or an ``OR`` of
lists it does not index): a prepared statement's generic plan then compares each row
with every value of the array parameter, where a list of constants is hashed. Check the
generic plan (``SET plan_cache_mode = force_generic_plan``) before using it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from api.db import is_postgres


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` for the database of ``session`` (see the module's docstring)."""
    values = list(values)
    if not is_postgres(session.get_bind()):
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
