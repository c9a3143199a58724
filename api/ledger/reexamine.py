"""Re-examination after a response (R8-R10): every pending automated touch the response may
affect is checked again and cancelled or moved, each with an event naming the rule.

It repeats until nothing changes, because moving one touch can break the next step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api import policy
from api.ledger.events import record_event
from api.ledger.layers import effective_policy
from api.ledger.records import contact_info, history, responses, touch_record
from api.models import Application, Contact, Touch

#: Passes of re-examination: a moved follow-up can push the call behind it, and so on.
REEXAMINE_PASSES = 5


def reexamine_application(
    session: Session,
    application: Application,
    now: datetime,
    actor: str,
    contact_id: int | None = None,
) -> list[Touch]:
    """Re-check every pending automated touch of the application (and, with ``contact_id``,
    every pending one to that contact: an out-of-office follows the person); cancel or move
    the ones that no longer pass, each with an event naming the rule.

    Repeated until nothing changes, because one move can break the next step (a follow-up
    moved past its call must take the call along, R11/R7)."""
    scope = Touch.application_id == application.id
    if contact_id is not None:
        scope = or_(scope, Touch.contact_id == contact_id)
    changed: dict[int, Touch] = {}
    for _ in range(REEXAMINE_PASSES):
        pending = session.scalars(
            select(Touch)
            .where(scope, Touch.status == "scheduled", Touch.automated.is_(True))
            .order_by(Touch.id)
        ).all()
        moved = _reexamine(session, pending, now, actor)
        if not moved:
            break
        changed.update((t.id, t) for t in moved)
        session.flush()
    return sorted(changed.values(), key=lambda t: t.id)


def _reexamine(session: Session, pending: list[Touch], now: datetime, actor: str) -> list[Touch]:
    if not pending:
        return []
    contact_ids = sorted({t.contact_id for t in pending})
    app_ids = sorted({t.application_id for t in pending})
    contacts = {
        c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
    }
    settings = {
        cid: effective_policy(session, c.org_id, c.candidate_id, cid)[0]
        for cid, c in contacts.items()
    }
    infos = {cid: contact_info(c) for cid, c in contacts.items()}
    records = history(session, contact_ids, app_ids)
    answers = responses(session, contact_ids=contact_ids, application_ids=app_ids)
    decision_dates = {
        a.id: a.decision_expected_on
        for a in session.scalars(select(Application).where(Application.id.in_(app_ids)))
    }
    changed = []
    for touch in pending:  # policy.reexamine_pending, with each touch's own decision date
        record = touch_record(touch)
        decision = policy.evaluate(
            settings[touch.contact_id],
            infos[touch.contact_id],
            records,
            answers,
            policy.ProposedTouch(
                contact_id=record.contact_id,
                application_id=record.application_id,
                round=record.round,
                step=record.step,
                channel=record.channel,
                at=record.at,
                automated=True,
                touch_id=touch.id,
            ),
            now,
            decision_date=decision_dates[touch.application_id],
        )
        if not decision.allowed:
            _apply(session, touch, decision, actor)
            changed.append(touch)
    return changed


def _apply(session: Session, touch: Touch, decision: policy.Decision, actor: str) -> None:
    if decision.next_allowed_at is None:
        touch.status = "cancelled"
        touch.reason = decision.detail
        touch.rule = decision.rule
        record_event(session, touch, "cancelled", actor, reason=decision.detail, rule=decision.rule)
        return
    old = touch.scheduled_for
    touch.scheduled_for = decision.next_allowed_at
    record_event(
        session,
        touch,
        "rescheduled",
        actor,
        reason=decision.detail,
        rule=decision.rule,
        data={"from": old, "to": decision.next_allowed_at},
    )
