"""The stamp: what a touch's verdict can change with, read in one statement at the fence.

A batch's contexts are loaded once (:mod:`api.dispatch.context`); just before a touch is
fenced, :func:`fence_facts` reads its stamp again (its neighbour touches, responses,
contact, application and interviews), with the daily-cap count. A stamp that differs
means the touch's context is reloaded on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from api import ledger
from api.models import Application, Contact, Interview, Response, Touch

Stamp = tuple[dict[int, datetime | None], tuple[Any, ...]]


_NEAR_FACTS = (
    select(func.count(Response.id))
    .where(or_(Response.contact_id == bindparam("c"), Response.application_id == bindparam("a")))
    .scalar_subquery(),
    select(func.max(Response.id))
    .where(or_(Response.contact_id == bindparam("c"), Response.application_id == bindparam("a")))
    .scalar_subquery(),
    select(Contact.updated_at).where(Contact.id == bindparam("c")).scalar_subquery(),
    select(Application.updated_at).where(Application.id == bindparam("a")).scalar_subquery(),
    select(func.count(Interview.id))
    .where(Interview.application_id == bindparam("a"))
    .scalar_subquery(),
    select(func.max(Interview.updated_at))
    .where(Interview.application_id == bindparam("a"))
    .scalar_subquery(),
)
_ONE_ROW = select(literal(1).label("one")).subquery("one")
_NEAR = aliased(Touch, name="near")


def current_stamp(session: Session, touch: Touch) -> Stamp:
    """The stamp of ``touch``'s surroundings as they are now: every other touch of its
    contact or application with its ``updated_at``, the count and last id of their
    responses, and the contact's, application's and interviews' ``updated_at``."""
    return fence_facts(session, touch)[0]


def _fence_facts_query(with_sends: bool) -> Select[Any]:
    extra = (ledger.SENDS_ON_LOCAL_DAY.scalar_subquery(),) if with_sends else ()
    return (
        select(_NEAR.id, _NEAR.updated_at, *_NEAR_FACTS, *extra)
        .select_from(_ONE_ROW)
        .outerjoin(
            _NEAR,
            and_(
                or_(_NEAR.contact_id == bindparam("c"), _NEAR.application_id == bindparam("a")),
                _NEAR.id != bindparam("t"),
            ),
        )
    )


# Built once: a statement object reused keeps its cache key and compiled form.
_FENCE_FACTS = {False: _fence_facts_query(False), True: _fence_facts_query(True)}


def fence_facts(
    session: Session, touch: Touch, sends_today: Mapping[str, Any] | None = None
) -> tuple[Stamp, int | None]:
    """:func:`current_stamp`, and the daily-cap count when ``sends_today`` gives the
    parameters of ``ledger.SENDS_ON_LOCAL_DAY``, in one statement: one row per neighbour
    touch (or one row of NULLs), each carrying the facts and the count as uncorrelated
    scalar subqueries, which PostgreSQL and SQLite evaluate once."""
    params = {"c": touch.contact_id, "a": touch.application_id, "t": touch.id}
    if sends_today is not None:
        params.update(sends_today)
    # Core, on the session's connection: no ORM entities in the result, none of its cost
    rows = session.connection().execute(_FENCE_FACTS[sends_today is not None], params).all()
    neighbours = {row[0]: row[1] for row in rows if row[0] is not None}
    facts = tuple(rows[0][2 : 2 + len(_NEAR_FACTS)])
    sends = rows[0][-1] if sends_today is not None else None
    return (neighbours, facts), sends


def _stamp(
    touches: Sequence[Touch],
    responses: Sequence[Response],
    contact_updated: datetime | None,
    application_updated: datetime | None,
    interviews: tuple[int, datetime | None],
) -> Stamp:
    return (
        {t.id: t.updated_at for t in touches},
        (
            len(responses),
            max((r.id for r in responses), default=None),
            contact_updated,
            application_updated,
            *interviews,
        ),
    )
