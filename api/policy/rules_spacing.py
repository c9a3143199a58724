"""The checks that spread touches out: the gap between touches to one person (R7), the send
window on business days (R15) and the candidate's daily cap.

They never refuse for good; each names the next time that would pass.
"""

from __future__ import annotations

from datetime import datetime

from api.policy.context import _Ctx, _Refusal
from api.policy.records import ProposedTouch, TouchRecord, is_call
from api.policy.timing import _fmt
from api.timewindow import in_window, local_date, local_day_bounds


def _gap_exempt(p: ProposedTouch, h: TouchRecord) -> bool:
    """R7 does not space the thank-you and the follow-up of a round (R4/R5 do), nor the
    prompt answer to a next-round invitation (R10)."""
    if h.step == "next_round_reply" or p.step == "next_round_reply":
        return True
    same_round = h.application_id == p.application_id and h.round == p.round
    return same_round and {p.step, h.step} == {"thank_you", "follow_up"}


def _check_r7(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """R7 in both directions: a touch also may not crowd a later, already scheduled one."""
    gap = ctx.policy.min_gap
    if not gap:
        return None
    others = sorted(
        (h for h in ctx.contact_touches if not _gap_exempt(ctx.proposed, h)),
        key=lambda h: h.at,
    )
    clashes = [h for h in others if abs(t - h.at) < gap]
    if not clashes:
        return None
    nxt = t
    moved = True
    while moved:  # each pass moves past at least one touch, so this terminates
        moved = False
        for h in others:
            if abs(nxt - h.at) < gap:
                nxt = h.at + gap
                moved = True
    near = min(clashes, key=lambda h: abs(t - h.at))
    return _Refusal(
        "R7",
        f"R7: the {near.step.replace('_', '-')} at {_fmt(near.at, ctx.contact.tz)} is closer "
        f"than {ctx.policy.min_gap_hours} h; touches to one person need that gap.",
        nxt,
    )


def _check_r15(ctx: _Ctx, t: datetime) -> _Refusal | None:
    p, c, pol = ctx.proposed, ctx.contact, ctx.policy
    if is_call(p.step, p.channel):
        return None  # R11 owns the call window
    if in_window(t, c.tz, pol.send_window, pol.business_days, c.country, pol.observe_holidays):
        return None
    nxt = ctx.opening(t)
    return _Refusal(
        "R15",
        f"R15: outside the contact's send window ({pol.send_window} on business days); next "
        f"opening {_fmt(nxt, c.tz)}.",
        nxt,
    )


def _check_cap(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """Daily cap, counted by the caller for the local day (contact zone) of the touch."""
    if ctx.manual or local_date(t, ctx.contact.tz) != ctx.cap_day:
        return None
    if ctx.candidate_sends_today < ctx.policy.daily_cap:
        return None
    _, day_end = local_day_bounds(t, ctx.contact.tz)
    nxt = ctx.opening(day_end)
    return _Refusal(
        "CAP",
        f"The daily cap of {ctx.policy.daily_cap} automated sends is reached; next opening "
        f"{_fmt(nxt, ctx.contact.tz)}.",
        nxt,
    )
