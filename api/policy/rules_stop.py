"""The checks that stop a touch for good: do-not-contact, missing address, SMS opt-out,
an email address that bounced for good, rejection (R9), next-round replies (R10),
responses (R8), and out-of-office (which waits).

They come first in the priority order, because a permanent refusal is reported before any
timing concern.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from api.policy.context import _Ctx, _Refusal
from api.policy.records import ResponseRecord
from api.policy.timing import _fmt
from api.policy.vocabulary import BUDGET_EXEMPT_STEPS
from api.timewindow import local_midnight


def _check_dnc(ctx: _Ctx, t: datetime) -> _Refusal | None:
    if ctx.contact.do_not_contact:
        return _Refusal("DNC", "This contact is marked do-not-contact.", None)
    return None


def _check_address(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """Only automated touches need an address: the product has to deliver them."""
    if ctx.manual:
        return None
    channel, c = ctx.proposed.channel, ctx.contact
    if channel in ("sms", "call") and not c.phone:
        return _Refusal("ADDRESS", f"No phone number on file for a {channel} touch.", None)
    if channel == "email" and not c.email:
        return _Refusal("ADDRESS", "No email address on file for an email touch.", None)
    return None


def _check_opt_out(ctx: _Ctx, t: datetime) -> _Refusal | None:
    if ctx.proposed.channel == "sms" and ctx.contact.sms_opted_out:
        return _Refusal("OPT_OUT", "This contact opted out of SMS.", None)
    return None


def _check_undeliverable(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """A permanent bounce of the contact's address: no waiting helps until it changes."""
    reason = ctx.contact.email_undeliverable
    if ctx.proposed.channel == "email" and reason and not ctx.manual:
        return _Refusal(
            "UNDELIVERABLE",
            f"Email cannot reach this contact: {reason} Give them another address to write.",
            None,
        )
    return None


def _check_r9(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """R9: a rejection closes the whole application, every round; one note may follow."""
    rejections = [r for r in ctx.app_responses if r.kind == "rejected" and r.occurred_at <= t]
    if ctx.proposed.step == "post_rejection":
        if not rejections:
            return _Refusal(
                "R9", "R9: a post-rejection note answers a rejection; none exists.", None
            )
        if any(h.step == "post_rejection" for h in ctx.app_touches):
            return _Refusal(
                "R9", "R9: the one post-rejection note for this application already exists.", None
            )
        return None
    if rejections:
        first = min(r.occurred_at for r in rejections)
        return _Refusal(
            "R9",
            f"R9: the application was rejected on {_fmt(first, ctx.contact.tz)}; only one "
            "post-rejection note may follow.",
            None,
        )
    return None


def _check_r10(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """R10: a next_round_reply answers an invitation received in the previous round."""
    p = ctx.proposed
    if p.step != "next_round_reply":
        return None
    invited = [
        r
        for r in ctx.app_responses
        if r.kind == "next_round" and r.round == p.round - 1 and r.occurred_at <= t
    ]
    if not invited:
        return _Refusal("R10", f"R10: there is no invitation to round {p.round} to answer.", None)
    if any(h.step == "next_round_reply" and h.round == p.round for h in ctx.app_touches):
        return _Refusal("R10", f"R10: the invitation to round {p.round} is already answered.", None)
    return None


def _r8_stop(ctx: _Ctx, t: datetime) -> ResponseRecord | None:
    """The response that ends the automated sequence for this touch, if any (R8).

    A reply stops its author for that round; an offer stops the application from its round
    on; an invitation to the next round stops the current round application-wide. Replies
    from other panel members do not stop this contact (the caller re-examines them).
    """
    p = ctx.proposed
    if not ctx.policy.stop_on_response or p.step in BUDGET_EXEMPT_STEPS:
        return None
    stops = [
        r
        for r in ctx.app_responses
        if r.occurred_at <= t
        and (
            (r.kind == "replied" and r.contact_id == ctx.contact.id and r.round == p.round)
            or (r.kind == "offer" and r.round <= p.round)
            or (r.kind == "next_round" and r.round == p.round)
        )
    ]
    return min(stops, key=lambda r: r.occurred_at) if stops else None


_STOP_WORDS = {
    "replied": "the contact replied",
    "offer": "an offer was made",
    "next_round": "an invitation to the next round arrived",
}


def _check_r8(ctx: _Ctx, t: datetime) -> _Refusal | None:
    if ctx.manual:
        return None  # flagged instead, see _flags
    stop = _r8_stop(ctx, t)
    if stop is None:
        return None
    return _Refusal(
        "R8",
        f"R8: {_STOP_WORDS[stop.kind]} on {_fmt(stop.occurred_at, ctx.contact.tz)}, which ends "
        f"the automated sequence for round {stop.round}.",
        None,
    )


def _ooo_return(ctx: _Ctx, t: datetime) -> datetime | None:
    """When an out-of-office contact is back: the local day after ``until``."""
    backs = [
        local_midnight(r.until + timedelta(days=1), ctx.contact.tz)
        for r in ctx.contact_responses
        if r.kind == "out_of_office" and r.until is not None and r.occurred_at <= t
    ]
    later = [b for b in backs if b > t]
    return max(later) if later else None


def _check_ooo(ctx: _Ctx, t: datetime) -> _Refusal | None:
    if ctx.manual:
        return None
    back = _ooo_return(ctx, t)
    if back is None:
        return None
    return _Refusal(
        "OOO", f"The contact is out of office until {_fmt(back, ctx.contact.tz)}.", back
    )
