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

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, column, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from api.db import is_postgres


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` for the database of ``session`` (see the module's docstring)."""
    values = list(values)
    if not is_postgres(session.get_bind()):
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def update_by_id(session: Session, table: Table, names: Sequence[str], rows: list[dict]) -> None:
    """UPDATE ``table`` SET ``names`` from each of ``rows`` (dicts with ``id`` and those
    names) WHERE its id. On PostgreSQL one ``UPDATE .. FROM unnest(<an array a column>)``,
    whatever the number of rows: the row-by-row executemany costs the server some three
    times as much. Elsewhere an executemany."""
    if not rows:
        return
    if not is_postgres(session.get_bind()):
        params = [{"row_id": row["id"], **{n: row[n] for n in names}} for row in rows]
        statement = (
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values({n: bindparam(n) for n in names})
        )
        session.connection().execute(statement, params)
        return
    arrays = [
        bindparam(f"v_{name}", [row[name] for row in rows], ARRAY(table.c[name].type))
        for name in ("id", *names)
    ]
    columns = (column(name, table.c[name].type) for name in ("id", *names))
    new = func.unnest(*arrays).table_valued(*columns).render_derived(name="new")
    session.connection().execute(
        table.update().where(table.c.id == new.c.id).values({n: new.c[n] for n in names})
    )
