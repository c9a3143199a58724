"""The scheduling core: one place decides when, and whether, each pending touch goes.

Every path that changes a fact (the API, the planner, a response, the worker after a send
or a refusal, a policy or application change) calls :func:`replan` or
:func:`replan_where` (:func:`replan_each` for many at once) in the same transaction, and
the core recomputes the pending touches of each application touched from scratch
(:mod:`api.scheduling.placement`). The answer is the touches it moved or cancelled, each
with an event naming the rule and a sentence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Application, Touch
from api.scheduling.facts import FactSource
from api.scheduling.placement import MOVABLE, Facts, Pending, Placement, place, yields_to
from api.scheduling.store import applications, load_facts, replan, replan_each
from api.sql_lists import among

__all__ = [
    "MOVABLE",
    "Facts",
    "Pending",
    "Placement",
    "has_pending_siblings",
    "load_facts",
    "place",
    "replan",
    "replan_contacts",
    "replan_each",
    "replan_where",
    "yields_to",
]


def replan_where(
    session: Session,
    now: datetime,
    actor: str,
    *,
    org_id: int | None = None,
    candidate_id: int | None = None,
    contact_id: int | None = None,
    also: Application | None = None,
    source: FactSource | None = None,
) -> list[Touch]:
    """Re-plan every application with a pending touch in the scope (an org's policy, a
    candidate's, a person's out-of-office or do-not-contact), and ``also``; ``source``:
    facts loaded before (a batch's, api.scheduling.store.replan_each)."""
    query = select(Touch.application_id).where(Touch.status.in_(MOVABLE), Touch.automated.is_(True))
    if org_id is not None:
        query = query.where(Touch.org_id == org_id)
    if candidate_id is not None:
        query = query.where(Touch.candidate_id == candidate_id)
    if contact_id is not None:
        query = query.where(Touch.contact_id == contact_id)
    app_ids = set(session.scalars(query.distinct()))
    if also is not None:
        app_ids.add(also.id)
    found = applications(session, sorted(app_ids))
    changed = replan_each(session, [(a, actor) for a in found], now, source)
    return [touch for touches in changed for touch in touches]


def replan_contacts(
    session: Session,
    now: datetime,
    contacts: Sequence[tuple[int, str]],
    source: FactSource | None = None,
) -> list[Touch]:
    """:func:`replan_where` for each ``(contact_id, actor)`` in turn, from one query and
    one :func:`replan_each`: for contacts of distinct candidates, whose re-plans cannot see
    one another's (a candidate's applications and daily cap are theirs alone)."""
    if not contacts:
        return []
    pending: dict[int, set[int]] = defaultdict(set)
    for contact_id, application_id in session.execute(
        select(Touch.contact_id, Touch.application_id)
        .where(
            among(session, Touch.contact_id, sorted({c for c, _ in contacts})),
            Touch.status.in_(MOVABLE),
            Touch.automated.is_(True),
        )
        .distinct()
    ):
        pending[contact_id].add(application_id)
    found = {a.id: a for a in applications(session, sorted(set().union(*pending.values())))}
    plan = [(found[a], actor) for c, actor in contacts for a in sorted(pending[c]) if a in found]
    return [touch for touches in replan_each(session, plan, now, source) for touch in touches]


def has_pending_siblings(session: Session, touch: Touch) -> bool:
    """Whether another pending touch to the same person could be moved by when ``touch``
    really went (its later steps, the R7 gap): the worker's check before re-planning after
    a send, one indexed query. Other people's touches depend on it only through the daily
    cap, which their own send-time check enforces."""
    return (
        session.scalar(
            select(Touch.id)
            .where(
                Touch.contact_id == touch.contact_id,
                Touch.id != touch.id,
                Touch.status.in_(MOVABLE),
                Touch.automated.is_(True),
            )
            .limit(1)
        )
        is not None
    )
