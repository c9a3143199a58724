"""A response recorded, by hand or heard (an SMS, an email): one path, one effect.

The application follows what the company said (its status, its decision date); the
scheduling core re-plans every application with a pending touch to that person, in the
same transaction; and the note the response calls for (R9, R10) is proposed. Typed into
``POST /v1/responses`` or classified from an inbound message, a response does exactly the
same, and its events name it (``response:<id>``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Application, Contact, Response, Touch
from api.problems import Problem
from api.scheduling.creation import prepare_touch, store_planned
from api.scheduling.facts import FactSource
from api.scheduling.placement import MOVABLE
from api.scheduling.proposals import PROPOSED, proposal_for
from api.scheduling.proposing import propose_wave
from api.scheduling.store import applications, replan_each
from api.sql_lists import among
from api.webhooks import events as webhook_events

#: A wave's notes are proposed from shared reads (api.scheduling.proposing); False: one
#: by one through :func:`propose`, as before (the inbound bench measures both).
BATCHED_PROPOSALS = True

#: The application's status follows what the company said.
APPLICATION_STATUS = {"rejected": "rejected", "offer": "offer", "next_round": "next_round"}


@dataclass(frozen=True)
class Said:
    """One response to record: who said what about which application, and whence."""

    contact: Contact
    application: Application
    round_: int
    kind: str
    occurred_at: datetime
    channel: str | None = None
    decision_date: date | None = None
    until: date | None = None
    note: str | None = None
    source: str = "manual"
    message_id: str | None = None
    text: str | None = None
    classified_as: str | None = None
    confidence: float | None = None
    inbound_id: int | None = None


Recorded = tuple[Response, list[Touch], Touch | None]


def record_response(
    session: Session, *, now: datetime, config: Mapping[str, Any], **said: Any
) -> Recorded:
    """Store the response and act on it (the caller holds the contact's lock): the
    response, the touches it moved or cancelled, and the note it proposed (or None).

    A heard response names its provenance (``source``, the message's id and stripped
    text, the classifier's kind and confidence, the inbound log row), so a person can see
    why it was recorded as it was and correct it (api.scheduling.corrections)."""
    return record_responses(session, [Said(**said)], now=now, config=config)[0]


def record_responses(
    session: Session,
    said: Sequence[Said],
    *,
    now: datetime,
    config: Mapping[str, Any],
    source: FactSource | None = None,
) -> list[Recorded]:
    """Record many responses with exactly the effect of :func:`record_response` on each
    in turn (the caller holds the contacts' locks), for a few queries per *wave* instead
    of a re-plan per response.

    A wave is the longest run of the remaining responses that cannot see one another's
    effects: each re-plans applications (its own, and those with a pending touch to its
    contact) that no earlier one in the wave re-plans, is from a contact no earlier one is
    from, and follows no response of the same candidate that proposes a note (the note is
    a new touch the candidate's daily cap counts). Its responses are stored, the
    applications re-planned in the order one-by-one recording would (api.scheduling.store.
    replan_each, from facts loaded at once), then the wave's notes proposed from reads
    shared by the wave (api.scheduling.proposing).

    The facts are carried from one wave to the next (``source``: a caller's, e.g. a
    batch's, else one for the call): those of every wave's applications are loaded at the
    start, a few queries for all, and each wave's responses and notes are handed to the
    source as they are stored."""
    done: list[Recorded] = []
    rest = list(said)
    source = source or FactSource(session, [], now)
    while rest:
        wave, pending = _wave(session, rest)
        if not done and len(wave) < len(rest):  # more waves: load the facts of all at once
            wanted = {a for s in rest for a in pending[s.contact.id] | {s.application.id}}
            source.cover(session, applications(session, sorted(wanted)))
        rest = rest[len(wave) :]
        done.extend(_record_wave(session, wave, pending, now, config, source))
    return done


def _wave(session: Session, said: list[Said]) -> tuple[list[Said], dict[int, set[int]]]:
    """The first wave of ``said``, and each of its contacts' applications with a pending
    automated touch (what :func:`api.scheduling.replan_where` re-plans for them)."""
    contacts = sorted({s.contact.id for s in said})
    pending: dict[int, set[int]] = defaultdict(set)
    for contact_id, application_id in session.execute(
        select(Touch.contact_id, Touch.application_id)
        .where(
            among(session, Touch.contact_id, contacts),
            Touch.status.in_(MOVABLE),
            Touch.automated.is_(True),
        )
        .distinct()
    ):
        pending[contact_id].add(application_id)
    wave: list[Said] = []
    applications: set[int] = set()
    people: set[int] = set()
    proposing: set[int] = set()
    for s in said:
        affected = pending[s.contact.id] | {s.application.id}
        if wave and (
            affected & applications or s.contact.id in people or s.contact.candidate_id in proposing
        ):
            break
        wave.append(s)
        applications |= affected
        people.add(s.contact.id)
        if s.kind in PROPOSED:
            proposing.add(s.contact.candidate_id)
    return wave, pending


def _record_wave(
    session, wave: list[Said], pending, now, config, source: FactSource
) -> list[Recorded]:
    responses = []
    for s in wave:
        response = Response(
            org_id=s.contact.org_id,
            candidate_id=s.contact.candidate_id,
            contact_id=s.contact.id,
            application_id=s.application.id,
            round=s.round_,
            kind=s.kind,
            channel=s.channel,
            occurred_at=s.occurred_at,
            decision_date=s.decision_date,
            until=s.until,
            note=s.note,
            source=s.source,
            message_id=s.message_id,
            text=s.text,
            classified_as=s.classified_as,
            confidence=s.confidence,
            inbound_id=s.inbound_id,
        )
        session.add(response)
        responses.append(response)
        if s.kind in APPLICATION_STATUS:
            s.application.status = APPLICATION_STATUS[s.kind]
        if s.kind == "decision_date":
            s.application.decision_expected_on = s.decision_date
    session.flush()
    source.add_responses(responses)
    for response in responses:
        webhook_events.response_recorded(session, response)
    wanted = [sorted(pending[s.contact.id] | {s.application.id}) for s in wave]
    loaded = {a.id: a for a in applications(session, sorted(set().union(*wanted)))}
    plan, owners = [], []
    for n, (ids, response) in enumerate(zip(wanted, responses, strict=True)):
        found = [loaded[i] for i in ids if i in loaded]
        plan.extend((a, f"response:{response.id}") for a in found)
        owners.extend([n] * len(found))
    affected: list[list[Touch]] = [[] for _ in wave]
    for n, changed in zip(owners, replan_each(session, plan, now, source), strict=True):
        affected[n].extend(changed)
    usable: dict = {}
    if BATCHED_PROPOSALS:
        asked = [(r, s.contact, s.application) for s, r in zip(wave, responses, strict=True)]
        notes = propose_wave(session, asked, now, config, usable, source)
    else:
        notes = [
            propose(session, r, s.contact, s.application, now, config, usable)
            for s, r in zip(wave, responses, strict=True)
        ]
    source.add_touches([note for note in notes if note is not None])
    return [(response, affected[n], notes[n]) for n, response in enumerate(responses)]


def propose(
    session, response: Response, contact, application, now, config, usable=None
) -> Touch | None:
    """R9/R10: the note the response calls for, planned like the planner's steps (None
    when there is none to propose, or the rules refuse it now). ``usable``: see
    :func:`api.scheduling.proposals.proposal_for`."""
    proposal = proposal_for(session, response, contact, config, usable)
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
