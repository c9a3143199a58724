"""A response corrected: it acts exactly as if it had been recorded that way.

A classifier (or a hurried person) can be wrong: "we will let you know" read as a
rejection stops a whole panel and proposes a farewell note. Correcting the response's
kind or dates (``PATCH /v1/responses/{id}``) undoes what only the wrong reading did and
does what the right one calls for, through the same core as any other change:

- the application's status and expected decision date are derived again from its
  responses (:func:`settled_status`, :func:`settled_date`), except where a person set
  them by hand since the responses last did: that word stands;
- touches the wrong reading cancelled (their last event is a cancel by
  ``response:<id>``) come back if the corrected facts let them go, which is asked of the
  pure placement before anything is written (:func:`_revivable`);
- the note the wrong reading proposed (R9/R10, created by ``response:<id>``), if not sent
  and not called for any more, is withdrawn; the corrected kind's note is proposed;
- everything re-plans (``replan_where``), under the response's own actor, so that a
  second correction finds what the first one cancelled;
- a :class:`~api.models.ResponseCorrection` row says who changed what to what.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api import ledger
from api.models import Application, Contact, Response, ResponseCorrection, Touch, TouchEvent
from api.scheduling import replan_where
from api.scheduling.placement import MOVABLE, Placement, place
from api.scheduling.proposals import PROPOSED
from api.scheduling.responses import APPLICATION_STATUS, propose
from api.scheduling.store import load_facts, pending_of, replan

#: Statuses only the candidate sets (they closed the application themselves): what the
#: company said, corrected or not, never reopens it.
OWN_CLOSING = ("withdrawn", "hired")
#: The status of an application no response speaks for.
UNSAID_STATUS = "active"
#: The event that put a touch in each pending state (restoring one puts it back).
_STATE_OF_EVENT = {"scheduled": "scheduled", "draft": "draft", "approved": "scheduled"}

T = TypeVar("T")


@dataclass(frozen=True)
class Said:
    """What a response says: its kind and the dates that go with it."""

    kind: str
    decision_date: date | None = None
    until: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "decision_date": self.decision_date.isoformat() if self.decision_date else None,
            "until": self.until.isoformat() if self.until else None,
        }


def said_by(response: Response) -> Said:
    return Said(response.kind, response.decision_date, response.until)


def corrected(before: Said, changes: Mapping[str, Any]) -> Said:
    """What the response says once ``changes`` apply: a date not given is kept only while
    the kind still takes it (correcting a decision_date to a plain reply drops the date),
    so the result can be checked by the same rules as a new response."""
    kind = changes.get("kind", before.kind)

    def dated(name: str, takes_it: str) -> date | None:
        if name in changes:
            return changes[name]
        return getattr(before, name) if kind == takes_it else None

    return Said(kind, dated("decision_date", "decision_date"), dated("until", "out_of_office"))


# -- the application's state, derived from its responses --------------------------------------


def status_said(kinds: Sequence[str]) -> str | None:
    """The status the responses (in the order they were recorded) leave the application
    in, as recording each did (api.scheduling.responses); None: none of them sets one."""
    said = [APPLICATION_STATUS[k] for k in kinds if k in APPLICATION_STATUS]
    return said[-1] if said else None


def date_said(responses: Sequence[Said]) -> date | None:
    """The decision date the responses (in recorded order) leave the application with."""
    given = [r.decision_date for r in responses if r.kind == "decision_date"]
    return given[-1] if given else None


def settled(current: T, before: T | None, after: T | None, unsaid: T) -> T:
    """A value the responses set, once one of them is corrected. ``before``/``after``:
    what the responses say without/with the correction (None: they say nothing).

    When the value differs from what the responses said, a person set it since: it stands.
    Otherwise it follows the corrected responses; if they no longer say anything, it goes
    back to ``unsaid`` (what it was before any response spoke; a value set by hand before
    that is not remembered). If they never said anything, the correction's word applies,
    as recording it would have done."""
    if before is not None and current != before:
        return current
    if after is not None:
        return after
    return unsaid if before is not None else current


def settled_status(current: str, before: str | None, after: str | None) -> str:
    if current in OWN_CLOSING:
        return current
    return settled(current, before, after, UNSAID_STATUS)


def settled_date(current: date | None, before: date | None, after: date | None) -> date | None:
    return settled(current, before, after, None)


# -- the correction --------------------------------------------------------------------------


def correct_response(
    session: Session,
    response: Response,
    after: Said,
    *,
    actor: str,
    now: datetime,
    config: Mapping[str, Any],
) -> tuple[list[Touch], Touch | None]:
    """Make ``response`` say ``after`` (checked by the caller; the caller holds the
    contact's lock): the touches that changed and the note the corrected kind proposed.
    A correction that changes nothing does nothing and is not recorded."""
    before = said_by(response)
    if after == before:
        return [], None
    contact = session.get(Contact, response.contact_id)
    application = session.get(Application, response.application_id)
    assert contact is not None and application is not None
    own = f"response:{response.id}"
    why = (
        f"Response {response.id} was corrected from {_label(before)} to {_label(after)} by {actor}."
    )

    _settle_application(session, application, response, after)
    changed = _withdraw_notes(session, response, after, own, why)
    revived = _revive(session, response, after, own, why, now)
    changed += revived
    changed += replan_where(session, now, own, contact_id=contact.id, also=application)
    for app_id in sorted(
        {t.application_id for t in revived if t.status in MOVABLE} - {application.id}
    ):
        changed += replan(session, session.get(Application, app_id), now, own)
    proposed = propose(session, response, contact, application, now, config)
    response.corrections.append(
        ResponseCorrection(
            at=now,
            actor=actor,
            before=before.as_json(),
            after=after.as_json(),
        )
    )
    session.flush()
    return _unique(changed), proposed


def _label(said: Said) -> str:
    day = said.decision_date or said.until
    return f"{said.kind} ({day.isoformat()})" if day else said.kind


def _settle_application(
    session: Session, application: Application, response: Response, after: Said
) -> None:
    """Write the correction on the response and derive the application's status and
    decision date again, before and after it (see :func:`settled`)."""
    rows = session.scalars(
        select(Response).where(Response.application_id == application.id).order_by(Response.id)
    ).all()
    saying_before = [said_by(r) for r in rows]
    saying_after = [after if r.id == response.id else said_by(r) for r in rows]
    application.status = settled_status(
        application.status,
        status_said([s.kind for s in saying_before]),
        status_said([s.kind for s in saying_after]),
    )
    application.decision_expected_on = settled_date(
        application.decision_expected_on, date_said(saying_before), date_said(saying_after)
    )
    response.kind, response.decision_date, response.until = (
        after.kind,
        after.decision_date,
        after.until,
    )
    session.flush()


def _withdraw_notes(
    session: Session, response: Response, after: Said, own: str, why: str
) -> list[Touch]:
    """Cancel the pending notes this response proposed that its corrected kind does not
    call for (R9's after a rejection read wrongly, R10's after an invitation)."""
    keep = PROPOSED[after.kind][0] if after.kind in PROPOSED else None
    steps = sorted(step for step, _, _ in PROPOSED.values() if step != keep)
    notes = session.scalars(
        select(Touch)
        .join(TouchEvent, TouchEvent.touch_id == Touch.id)
        .where(
            Touch.application_id == response.application_id,
            Touch.step.in_(steps),
            Touch.status.in_(MOVABLE),
            TouchEvent.kind == "created",
            TouchEvent.actor == own,
        )
        .order_by(Touch.id)
    ).all()
    for note in notes:
        reason = f"{why} Nothing calls for this note any more."
        note.status, note.reason, note.rule = "cancelled", reason, None
        note.lease_owner = note.lease_expires_at = None
        ledger.record_event(session, note, "cancelled", own, reason=reason)
    return list(notes)


def _cancelled_by(session: Session, response: Response, own: str) -> dict[Touch, str]:
    """Touches whose last word is a cancel by ``own``, each with the pending state it
    was in before (nothing happened to them since). A response re-plans the touches to
    its contact and those of its application, so only those are looked at (by index)."""
    touches = session.scalars(
        select(Touch)
        .join(TouchEvent, TouchEvent.touch_id == Touch.id)
        .where(
            or_(
                Touch.contact_id == response.contact_id,
                Touch.application_id == response.application_id,
            ),
            Touch.status == "cancelled",
            TouchEvent.kind == "cancelled",
            TouchEvent.actor == own,
        )
        .distinct()
        .order_by(Touch.id)
    ).all()
    found = {}
    for touch in touches:
        events = touch.events
        if not events or (events[-1].kind, events[-1].actor) != ("cancelled", own):
            continue
        states = [_STATE_OF_EVENT[e.kind] for e in events[:-1] if e.kind in _STATE_OF_EVENT]
        found[touch] = states[-1] if states else "scheduled"
    return found


def _revive(
    session: Session, response: Response, after: Said, own: str, why: str, now: datetime
) -> list[Touch]:
    """Bring back what the wrong reading cancelled, where the corrected facts let it go;
    what stays cancelled is told the rule that now stops it (a rejection read as a reply
    still stops the person who replied, but by R8, not R9). A note of a kind the
    correction no longer calls for stays as it is."""
    keep = PROPOSED[after.kind][0] if after.kind in PROPOSED else None
    notes = {step for step, _, _ in PROPOSED.values()} - {keep}
    candidates = {
        t: s for t, s in _cancelled_by(session, response, own).items() if t.step not in notes
    }
    changed = []
    for touch, placed in _placed(session, candidates, now).items():
        if placed.cancelled:
            if (placed.rule, placed.reason) == (touch.rule, touch.reason):
                continue
            touch.reason, touch.rule = placed.reason, placed.rule
            ledger.record_event(
                session, touch, "cancelled", own, reason=f"{why} {placed.reason}", rule=placed.rule
            )
        else:
            state = candidates[touch]
            touch.status, touch.reason, touch.rule = state, None, None
            ledger.record_event(
                session,
                touch,
                "restored",
                own,
                reason=f"{why} It may go again.",
                data={"to": state},
            )
        changed.append(touch)
    session.flush()
    return changed


def _placed(
    session: Session, candidates: Mapping[Touch, str], now: datetime
) -> dict[Touch, Placement]:
    """Where the placement would put each of ``candidates``, asked with each back in its
    pending state among its application's facts (nothing is written)."""
    by_app: dict[int, list[Touch]] = defaultdict(list)
    for touch in candidates:
        by_app[touch.application_id].append(touch)
    found = {}
    for app_id, group in sorted(by_app.items()):
        ids = {t.id for t in group}
        extra = [dataclasses.replace(pending_of(t, now), status=candidates[t]) for t in group]
        facts, _ = load_facts(session, session.get(Application, app_id), now, extra=extra)
        facts = dataclasses.replace(facts, fixed=[f for f in facts.fixed if f.id not in ids])
        placed = {p.pending.id: p for p in place(facts)}
        found.update({t: placed[t.id] for t in group})
    return found


def _unique(touches: list[Touch]) -> list[Touch]:
    """Each touch once, in id order."""
    last = {t.id: t for t in touches}
    return sorted(last.values(), key=lambda t: t.id)
