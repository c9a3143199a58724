"""Time arithmetic the report's SQL needs, one spelling per database.

SQLite keeps datetimes as ISO text (api.models.base.UTCDateTime) and has no interval type,
PostgreSQL has no julianday(): each expression below compiles to what the dialect has.
"""

from __future__ import annotations

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement):
    """``later - earlier`` in seconds (a float; NULL when either is NULL). A DATE is read
    as its UTC midnight."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_sqlite(element, compiler, **kw):
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _instant_pg(clause, compiler, **kw) -> str:
    sql = compiler.process(clause, **kw)
    if isinstance(clause.type, Date):  # its UTC midnight, whatever the session's zone
        return f"(CAST({sql} AS TIMESTAMP) AT TIME ZONE 'UTC')"
    return f"CAST({sql} AS TIMESTAMP WITH TIME ZONE)"


@compiles(seconds_between, "postgresql")
def _seconds_pg(element, compiler, **kw):
    earlier, later = (_instant_pg(c, compiler, **kw) for c in element.clauses)
    # date_part is double precision; EXTRACT answers numeric, several times slower per row
    return f"date_part('epoch', {later} - {earlier})"


class utc_day(FunctionElement):
    """The UTC calendar day of a stored instant."""

    type = Date()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day)
def _day_sqlite(element, compiler, **kw):
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({value})"


@compiles(utc_day, "postgresql")
def _day_pg(element, compiler, **kw):
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({value}) AT TIME ZONE 'UTC' AS DATE)"
