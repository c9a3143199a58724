"""Acting on a heard email once it is matched and classified (api.inbound.pipeline).

- a bounce marks the touch it refers to failed (permanent, 5.x.x), and the contact's
  address undeliverable (api.inbound.undeliverable), or notes it (4.x.x);
- an automatic reply is logged and changes nothing, unless it is an out-of-office with a
  return date, which is recorded as such (the pending touches move past it);
- a human reply is recorded as the response it is (``replied``, ``rejected``, ...), with
  exactly the effect of one typed into ``POST /v1/responses`` (api.scheduling.responses);
  many of a batch at once through :func:`record_many`, with the same effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import ledger
from api.inbound import matching, undeliverable
from api.inbound.classify import Classification
from api.models import Application, Contact, InboundMail, Touch
from api.scheduling.facts import FactSource
from api.scheduling.responses import Said, record_responses
from channels.inbound import InboundEvent

#: The stored text of a message (the log's, its response's) is cut here.
TEXT_MAX = 20_000
HUMAN = ("replied", "rejected", "next_round", "offer", "decision_date")


@dataclass(frozen=True)
class Outcome:
    """What became of one message (the endpoint's answer)."""

    outcome: str  # recorded | duplicate | ignored | unmatched
    reason: str
    classification: str | None = None
    inbound_id: int | None = None
    response_id: int | None = None
    touch_id: int | None = None
    contact_id: int | None = None

    def event(self, org_id: int, candidate_id: int | None, source: str, at) -> InboundEvent:
        """What the ``inbound_message`` hook hears of it, once it is committed."""
        return InboundEvent(
            outcome=self.outcome,
            reason=self.reason,
            source=source,
            org_id=org_id,
            candidate_id=candidate_id,
            inbound_id=self.inbound_id,
            classification=self.classification,
            response_id=self.response_id,
            touch_id=self.touch_id,
            contact_id=self.contact_id,
            at=at,
        )


#: The match _act works with (api.inbound.matching decides it).
_Match = matching.Match


def done(row: InboundMail, outcome: str, reason: str, response_id: int | None = None):
    row.outcome, row.reason, row.response_id = outcome, reason, response_id
    return Outcome(
        outcome,
        reason,
        row.classification,
        row.id,
        response_id,
        row.touch_id,
        row.contact_id,
    )


def act(session, row, match: _Match, found: Classification, now, config, source=None) -> Outcome:
    """Act on one message; ``source``: the facts its batch carries (a bounce re-plans
    from them, and a recorded response too)."""
    if found.kind == "bounce":
        return _bounce(session, row, match, found, source)
    if found.kind == "auto_reply" or (found.kind == "out_of_office" and not found.until):
        return done(row, "ignored", f"An automatic reply: logged, never a reply. {found.reason}")
    if match.contact is None or match.application is None:
        return done(row, "unmatched", f"Kept for the candidate: {match.how}. {found.reason}")
    ledger.lock_contact(session, match.contact.id)
    return record_many(session, [(row, match, found)], now, config, source)[0]


def records(found: Classification, match: _Match) -> bool:
    """Whether acting on the message records a response (else it is logged, or a bounce)."""
    if found.kind in ("bounce", "auto_reply") or (
        found.kind == "out_of_office" and not found.until
    ):
        return False
    return match.contact is not None and match.application is not None


def record_many(
    session: Session,
    heard: Sequence[tuple[InboundMail, _Match, Classification]],
    now: datetime,
    config: Mapping[str, Any],
    source: FactSource | None = None,
) -> list[Outcome]:
    """Record the responses of matched messages (:func:`records`), in their order, with
    the effect of recording each in turn (api.scheduling.responses.record_responses); the
    caller holds their contacts' locks. ``source``: the facts a batch carries along."""
    said = []
    for row, match, found in heard:
        kind = found.kind if found.kind in HUMAN or found.kind == "out_of_office" else "replied"
        said.append(
            Said(
                contact=match.contact,
                application=match.application,
                round_=match.touch.round
                if match.touch
                else ledger.current_round(session, row.application_id),
                kind=kind,
                occurred_at=row.sent_at if row.sent_at and row.sent_at <= now else now,
                channel="email",
                decision_date=found.decision_date,
                until=found.until,
                source="email",
                message_id=row.message_id,
                text=row.text,
                classified_as=found.kind,
                confidence=found.confidence,
                inbound_id=row.id,
            )
        )
    recorded = record_responses(session, said, now=now, config=config, source=source)
    return [
        done(row, "recorded", f"Recorded as {s.kind}, {match.how}. {found.reason}", r.id)
        for (row, match, found), s, (r, _, _) in zip(heard, said, recorded, strict=True)
    ]


def _bounce(session, row, match: _Match, found: Classification, source) -> Outcome:
    return act_on_bounce(session, row, bounced_touch(session, row, match, found), found, source)


def bounced_touch(session, row: InboundMail, match: _Match, found: Classification):
    """The touch a bounce is about: the one its report names, else the one it answers
    (None: a bounce for no message Touchbase sent)."""
    bounce = found.bounce
    if bounce is not None and bounce.original_message_id:
        named = session.scalars(
            select(Touch).where(
                Touch.org_id == row.org_id, Touch.message_id == bounce.original_message_id
            )
        ).first()
        if named is not None:
            return named
    return match.touch


def act_on_bounce(
    session,
    row: InboundMail,
    touch: Touch | None,
    found: Classification,
    source,
    replans: list[tuple[int, str]] | None = None,
):
    """Act on a bounce about ``touch`` (:func:`bounced_touch`): a permanent one fails it
    and marks the address undeliverable, re-planning the contact; a transient one is noted.
    Either changes nothing outside the touch's candidate. ``replans``: where to put the
    (contact, actor) to re-plan instead, for the caller to re-plan many at once
    (api.scheduling.replan_contacts)."""
    if touch is None:
        return done(row, "unmatched", "A bounce for no message Touchbase sent.")
    bounce = found.bounce
    row.touch_id, row.contact_id, row.application_id = (
        touch.id,
        touch.contact_id,
        touch.application_id,
    )
    row.candidate_id = touch.candidate_id
    status = bounce.status if bounce else "unknown"
    diagnostic = (bounce.diagnostic if bounce else None) or "no diagnostic"
    if bounce is not None and bounce.permanent:
        reason = f"Bounced ({status}): {diagnostic}"
        return _permanent_bounce(session, row, touch, bounce, reason, source, replans)
    ledger.record_event(
        session,
        touch,
        "bounce",
        f"inbound:{row.id}",
        reason=f"A transient delivery problem ({status}): {diagnostic}",
        data={"dsn": status},
    )
    return done(row, "recorded", f"A transient bounce ({status}): noted on the touch.")


def _permanent_bounce(
    session, row, touch: Touch, bounce, reason: str, source, replans=None
) -> Outcome:
    """The touch failed (if it had gone out), and the address it went to is marked
    undeliverable when it is still the contact's (api.inbound.undeliverable)."""
    actor, data = f"inbound:{row.id}", {"dsn": bounce.status}
    said = "A permanent bounce"
    if touch.status in ("sent", "delivered", "unknown"):
        touch.status, touch.reason = "failed", reason
        ledger.record_event(session, touch, "failed", actor, reason=reason, data=data)
        said += ": the touch failed"
    else:
        ledger.record_event(session, touch, "bounce", actor, reason=reason, data=data)
    contact = session.get(Contact, touch.contact_id)
    address = contact.email if contact is not None else None
    if (
        contact is not None
        and touch.channel == "email"
        and undeliverable.mark_undeliverable(
            session,
            contact,
            bounce.recipient,
            f"{address} {reason[0].lower()}{reason[1:].rstrip('.')}.",
            row.received_at,
            actor,
            source,
            replan=replans is None,
        )
    ):
        if replans is not None:
            replans.append((contact.id, actor))
        said += f"; {address} is marked undeliverable: nothing more goes to it by email"
    return done(row, "recorded", f"{said}. {reason}")


def attach(
    session: Session,
    row: InboundMail,
    contact: Contact,
    application: Application,
    now: datetime,
    config: Mapping[str, Any],
) -> Outcome:
    """Record an unmatched message against the contact (and application) the candidate
    chose, through the same act path as a matched one, from what the row kept: the
    classification, the dates read and the reply's text. The caller checked that the row
    is unmatched and the contact and application are the candidate's."""
    touch = session.scalars(
        select(Touch)
        .where(Touch.application_id == application.id, Touch.contact_id == contact.id)
        .order_by(Touch.sent_at.desc().nulls_last(), Touch.id.desc())
    ).first()
    row.contact_id, row.candidate_id = contact.id, contact.candidate_id
    row.application_id, row.touch_id = application.id, touch.id if touch else None
    found = Classification(
        kind=row.classification or "replied",
        confidence=row.confidence or 0.5,
        text=row.text or "",
        reason=f"Classified {row.classification or 'replied'} when it arrived.",
        until=row.until,
        decision_date=row.decision_date,
    )
    match = _Match(contact, application, touch, "attached by hand")
    return act(session, row, match, found, now, config)
