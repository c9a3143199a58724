"""A response recorded, by hand or heard (an SMS, an email): one path, one effect.

The application follows what the company said (its status, its decision date); the
scheduling core re-plans every application with a pending touch to that person, in the
same transaction; and the note the response calls for (R9, R10) is proposed. Typed into
``POST /v1/responses`` or classified from an inbound message, a response does exactly the
same, and its events name it (``response:<id>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.models import Application, Contact, Response, Touch
from api.problems import Problem
from api.scheduling.creation import prepare_touch, store_planned
from api.scheduling.proposals import proposal_for
from api.webhooks import events as webhook_events

#: The application's status follows what the company said.
APPLICATION_STATUS = {"rejected": "rejected", "offer": "offer", "next_round": "next_round"}


def record_response(
    session: Session,
    *,
    contact: Contact,
    application: Application,
    round_: int,
    kind: str,
    occurred_at: datetime,
    now: datetime,
    config: Mapping[str, Any],
    channel: str | None = None,
    decision_date: date | None = None,
    until: date | None = None,
    note: str | None = None,
    source: str = "manual",
    message_id: str | None = None,
    text: str | None = None,
    classified_as: str | None = None,
    confidence: float | None = None,
    inbound_id: int | None = None,
) -> tuple[Response, list[Touch], Touch | None]:
    """Store the response and act on it (the caller holds the contact's lock): the
    response, the touches it moved or cancelled, and the note it proposed (or None).

    A heard response names its provenance (``source``, the message's id and stripped
    text, the classifier's kind and confidence, the inbound log row), so a person can see
    why it was recorded as it was and correct it (api.scheduling.corrections)."""
    from api.scheduling import replan_where  # the package imports this module

    response = Response(
        org_id=contact.org_id,
        candidate_id=contact.candidate_id,
        contact_id=contact.id,
        application_id=application.id,
        round=round_,
        kind=kind,
        channel=channel,
        occurred_at=occurred_at,
        decision_date=decision_date,
        until=until,
        note=note,
        source=source,
        message_id=message_id,
        text=text,
        classified_as=classified_as,
        confidence=confidence,
        inbound_id=inbound_id,
    )
    session.add(response)
    if kind in APPLICATION_STATUS:
        application.status = APPLICATION_STATUS[kind]
    if kind == "decision_date":
        application.decision_expected_on = decision_date
    session.flush()
    webhook_events.response_recorded(session, response)
    actor = f"response:{response.id}"
    affected = replan_where(session, now, actor, contact_id=contact.id, also=application)
    proposed = propose(session, response, contact, application, now, config)
    return response, affected, proposed


def propose(session, response: Response, contact, application, now, config) -> Touch | None:
    """R9/R10: the note the response calls for, planned like the planner's steps (None
    when there is none to propose, or the rules refuse it now)."""
    proposal = proposal_for(session, response, contact, config)
    if proposal is None:
        return None
    try:
        with session.begin_nested():
            prepared = prepare_touch(
                session,
                contact=contact,
                application=application,
                interview=None,
                round_=proposal.round,
                step=proposal.step,
                channel=proposal.channel,
                wanted=now,
                now=now,
            )
            actor = f"response:{response.id}"
            return store_planned(session, prepared, actor=actor, plan_reason=proposal.reason)
    except Problem:
        return None
