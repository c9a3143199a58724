"""The scheduling core's thin database edge: load an application's facts, apply the
placements, record every change as an event.

Whatever changed (a send, a reply, a manual touch, a policy or application edit), the
caller names the application and the core recomputes all its pending touches from
scratch, in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import approval, ledger, policy
from api.models import Application, Contact, Interview, PolicySetting, Touch
from api.scheduling.placement import MOVABLE, Facts, Pending, Placement, place
from api.timebounds import clamp_instant


def _settings(session: Session, contacts: Iterable[Contact]) -> dict[int, policy.PolicySettings]:
    """Each contact's merged policy, from one read of the org's policy rows."""
    contacts = list(contacts)
    if not contacts:
        return {}
    rows = session.scalars(
        select(PolicySetting).where(PolicySetting.org_id == contacts[0].org_id)
    ).all()
    return {c.id: policy.merge(*ledger.layers_of(rows, c.candidate_id, c.id))[0] for c in contacts}


def pending_of(touch: Touch, now: datetime) -> Pending:
    at = touch.scheduled_for
    due = at if at is not None and at <= now else None
    retrying = at if at is not None and at > now and (touch.attempts or 0) > 0 else None
    return Pending(
        id=touch.id,
        contact_id=touch.contact_id,
        application_id=touch.application_id,
        round=touch.round,
        step=touch.step,
        channel=touch.channel,
        status=touch.status,
        requested_at=touch.requested_for,
        due_since=due,
        not_before=retrying,
        approve_by=touch.approve_by,
    )


def is_movable(touch: Touch) -> bool:
    return touch.status in MOVABLE and touch.automated and touch.channel != "manual"


def load_facts(
    session: Session,
    application: Application,
    now: datetime,
    extra: Iterable[Pending] = (),
) -> tuple[Facts, dict[int, Touch]]:
    """The facts of one application (``extra``: touches not yet stored, e.g. a plan's),
    and its stored pending touches by id."""
    touches = session.scalars(
        select(Touch).where(Touch.application_id == application.id).order_by(Touch.id)
    ).all()
    interviews = session.scalars(
        select(Interview).where(Interview.application_id == application.id)
    ).all()
    extra = list(extra)
    contact_ids = sorted(
        {t.contact_id for t in touches}
        | {i.contact_id for iv in interviews for i in iv.interviewers}
        | {p.contact_id for p in extra}
    )
    contacts = session.scalars(select(Contact).where(Contact.id.in_(contact_ids))).all()
    movable = {t.id: t for t in touches if is_movable(t)}
    others = session.scalars(
        select(Touch).where(
            Touch.contact_id.in_(contact_ids), Touch.application_id != application.id
        )
    ).all()
    ends: dict[tuple[int, int], datetime] = {}
    for iv in interviews:
        for person in iv.interviewers:
            key = (person.contact_id, iv.round)
            ends[key] = max(ends.get(key, iv.ends_at), iv.ends_at)
    facts = Facts(
        now=now,
        application_id=application.id,
        decision_date=application.decision_expected_on,
        contacts={c.id: ledger.contact_info(c) for c in contacts},
        settings=_settings(session, contacts),
        interview_ends=ends,
        fixed=[ledger.touch_record(t) for t in [*touches, *others] if t.id not in movable],
        pending=[pending_of(t, now) for t in movable.values()] + extra,
        responses=ledger.responses(
            session, contact_ids=contact_ids, application_ids=[application.id]
        ),
        candidate_sends=_candidate_sends(session, application.candidate_id, now, movable),
        application_status=application.status,
    )
    return facts, movable


def _candidate_sends(session: Session, candidate_id: int, now: datetime, movable) -> list:
    """When the candidate's other counting automated touches go, from a day before now (a
    local day starts at most a day before its UTC instant) onwards."""
    at = func.coalesce(Touch.sent_at, Touch.scheduled_for)
    rows = session.execute(
        select(Touch.id, at).where(
            Touch.candidate_id == candidate_id,
            Touch.automated.is_(True),
            Touch.channel != "manual",
            Touch.status.in_(sorted(policy.COUNTING_STATUSES)),
            at >= clamp_instant(now) - timedelta(days=2),
        )
    ).all()
    return [when for touch_id, when in rows if touch_id not in movable and when is not None]


def apply(
    session: Session, placements: Iterable[Placement], stored: dict[int, Touch], actor: str
) -> list[Touch]:
    """Write the placements of stored touches; every change an event. The changed touches."""
    changed = []
    for placed in placements:
        touch = stored.get(placed.pending.id) if placed.pending.id is not None else None
        if touch is None:
            continue
        if placed.cancelled:
            touch.status, touch.reason, touch.rule = placed.ending, placed.reason, placed.rule
            touch.lease_owner = touch.lease_expires_at = None
            ledger.record_event(
                session, touch, placed.ending, actor, reason=placed.reason, rule=placed.rule
            )
            changed.append(touch)
        elif placed.at != touch.scheduled_for:
            ledger.record_event(
                session,
                touch,
                "rescheduled",
                actor,
                reason=placed.reason,
                rule=placed.rule,
                data={"from": touch.scheduled_for, "to": placed.at},
            )
            touch.scheduled_for, old = placed.at, touch.scheduled_for
            touch.approve_by = approval.moved_deadline(touch, old)
            touch.lease_owner = touch.lease_expires_at = None
            changed.append(touch)
    return changed


def replan(session: Session, application: Application, now: datetime, actor: str) -> list[Touch]:
    """Recompute every pending touch of the application from its facts; the touches that
    moved or were cancelled, each with an event naming the rule."""
    facts, stored = load_facts(session, application, now)
    changed = apply(session, place(facts), stored, actor)
    session.flush()
    return changed
