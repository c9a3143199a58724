"""Answers built from many evaluations: whether a contact's round is stopped, where its
budget stands per channel, and which pending touches a new response invalidates (R8's
re-examination of the panel).

They sit above :mod:`api.policy.verdict` and only call it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from api.policy.context import _build_ctx, _same_app
from api.policy.records import (
    ContactInfo,
    Decision,
    ProposedTouch,
    ResponseRecord,
    TouchRecord,
    is_manual,
)
from api.policy.rules_stop import _check_r8, _check_r9
from api.policy.settings import PolicySettings
from api.policy.verdict import evaluate
from api.policy.vocabulary import BUDGET_EXEMPT_STEPS, PENDING_STATUSES
from api.timebounds import bounded


def stop_state(
    policy: PolicySettings,
    contact: ContactInfo,
    responses: Sequence[ResponseRecord],
    application_id: int | None,
    round: int,
    at: datetime,
) -> tuple[str, str] | None:
    """(rule, reason) if automated touches to this contact in this round are over."""
    if contact.do_not_contact:
        return "DNC", "This contact is marked do-not-contact."
    at = bounded(at, "at")
    probe = ProposedTouch(contact.id, application_id, round, "custom", "email", at)
    ctx = _build_ctx(policy, contact, (), responses, probe, at, 0, None, None, None)
    for check in (_check_r9, _check_r8):
        refusal = check(ctx, at)
        if refusal is not None:
            return refusal.rule, refusal.detail
    return None


def budget_summary(
    policy: PolicySettings,
    contact: ContactInfo,
    history: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    round: int,
    now: datetime,
    *,
    application_id: int | None = None,
    thank_you_anchor: datetime | None = None,
    interview_end: datetime | None = None,
    decision_date: date | None = None,
) -> dict[str, Any]:
    """Where a contact stands in a round: budget used/left, stop, and per channel when the
    next automated touch could go (``None``: not at all). The probe step is the natural
    next one: thank-you until one exists, then follow-up; call for the call channel.
    ``blocked_reason`` says in a sentence why a channel is refused (an email address that
    bounced for good, an SMS opt-out, ...), beside the rule code in ``blocked_by``.
    ``application_id=None`` treats all given records as one application."""
    now = bounded(now, "now")
    counting = [
        h
        for h in history
        if h.counts
        and h.contact_id == contact.id
        and _same_app(h.application_id, application_id)
        and h.round == round
    ]
    used = sum(1 for h in counting if h.step not in BUDGET_EXEMPT_STEPS)
    stop = stop_state(policy, contact, responses, application_id, round, now)
    has_thank_you = any(h.step == "thank_you" for h in counting)
    next_at: dict[str, datetime | None] = {}
    blocked_by: dict[str, str | None] = {}
    blocked_reason: dict[str, str | None] = {}
    for channel in ("email", "sms", "call"):
        step = "call" if channel == "call" else ("follow_up" if has_thank_you else "thank_you")
        probe = ProposedTouch(contact.id, application_id, round, step, channel, now)
        decision = evaluate(
            policy,
            contact,
            history,
            responses,
            probe,
            now,
            thank_you_anchor=thank_you_anchor,
            interview_end=interview_end,
            decision_date=decision_date,
        )
        next_at[channel] = now if decision.allowed else decision.next_allowed_at
        blocked_by[channel] = decision.rule
        blocked_reason[channel] = decision.detail if decision.rule else None
    return {
        "round": round,
        "budget": policy.touch_budget,
        "used": used,
        "left": max(policy.touch_budget - used, 0),
        "stopped": stop is not None,
        "stopped_rule": stop[0] if stop else None,
        "stopped_reason": stop[1] if stop else None,
        "next_allowed_at": next_at,
        "blocked_by": blocked_by,
        "blocked_reason": blocked_reason,
    }


def reexamine_pending(
    policy: PolicySettings | Mapping[int, PolicySettings],
    contacts: Mapping[int, ContactInfo],
    history: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    now: datetime,
    *,
    decision_date: date | None = None,
) -> list[tuple[TouchRecord, Decision]]:
    """R8's "pending touches to the others are re-examined": re-check every pending
    automated touch in ``history`` and return those that no longer pass.

    Call it after recording a response, with the whole application's touches, responses
    and panel. A plain reply from one interviewer stops only that interviewer; an offer,
    rejection or next-round invitation refuses the others too. The caller cancels
    refusals without ``next_allowed_at`` and moves the others to it. Contacts missing from
    ``contacts`` are left alone.
    """
    out = []
    for touch in history:
        if touch.status not in PENDING_STATUSES or is_manual(touch) or touch.id is None:
            continue
        contact = contacts.get(touch.contact_id)
        if contact is None:
            continue
        pol = policy if isinstance(policy, PolicySettings) else policy[touch.contact_id]
        proposed = ProposedTouch(
            touch.contact_id,
            touch.application_id,
            touch.round,
            touch.step,
            touch.channel,
            touch.at,
            touch.automated,
            touch_id=touch.id,
        )
        decision = evaluate(
            pol, contact, history, responses, proposed, now, decision_date=decision_date
        )
        if not decision.allowed:
            out.append((touch, decision))
    return out


#: The name the domain rules use for R8's re-examination of the rest of the panel.
reexamine_panel = reexamine_pending
