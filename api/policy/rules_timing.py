"""The checks that tie a touch to the interview calendar: no thank-you before the interview
ends (R2), follow-ups after the decision date or a week (R4/R5), and calls only after an
email follow-up and inside the call window (R11).

Their refusals usually carry the time at which the touch would pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from api.policy.context import _Ctx, _Refusal
from api.policy.records import is_call
from api.policy.timing import _fmt, effective_decision_date, follow_up_earliest
from api.timewindow import in_window


def _check_r2(ctx: _Ctx, t: datetime) -> _Refusal | None:
    if ctx.proposed.step == "thank_you" and ctx.interview_end and t < ctx.interview_end:
        return _Refusal(
            "R2",
            f"R2: a thank-you cannot go out before the interview ends at "
            f"{_fmt(ctx.interview_end, ctx.contact.tz)}.",
            ctx.interview_end,
        )
    return None


def _thank_you_anchor(ctx: _Ctx) -> datetime | None:
    if ctx.thank_you_anchor is not None:
        return ctx.thank_you_anchor
    times = [h.at for h in ctx.round_touches if h.step == "thank_you"]
    return min(times) if times else None


def _check_follow_up(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """R4/R5: a follow-up needs a thank-you and waits for the decision date or a week."""
    if ctx.proposed.step != "follow_up":
        return None
    anchor = _thank_you_anchor(ctx)
    if anchor is None:
        return _Refusal(
            "R5", "R5: a follow-up needs a thank-you note sent or scheduled first.", None
        )
    decision = effective_decision_date(
        ctx.app_responses, None, ctx.proposed.round, ctx.decision_date, t
    )
    earliest, rule, why = follow_up_earliest(ctx.policy, ctx.contact.tz, anchor, decision)
    if t < earliest:
        return _Refusal(rule, f"{why}: not before {_fmt(earliest, ctx.contact.tz)}.", earliest)
    return None


def _check_r11(ctx: _Ctx, t: datetime) -> _Refusal | None:
    """R11: call only after an email follow-up, and only in the call window."""
    p = ctx.proposed
    if not is_call(p.step, p.channel):
        return None
    email_follow_ups = sorted(
        h.at for h in ctx.round_touches if h.step == "follow_up" and h.channel == "email"
    )
    if not any(at < t for at in email_follow_ups):
        if not email_follow_ups:
            return _Refusal(
                "R11", "R11: a call comes only after an unanswered email follow-up.", None
            )
        after = email_follow_ups[0] + timedelta(minutes=1)
        return _Refusal(
            "R11",
            f"R11: the email follow-up is only due at {_fmt(email_follow_ups[0], ctx.contact.tz)}"
            "; the call comes after it.",
            after,
        )
    c, pol = ctx.contact, ctx.policy
    if not in_window(t, c.tz, pol.call_window, pol.business_days, c.country, pol.observe_holidays):
        nxt = ctx.opening(t, pol.call_window)
        return _Refusal(
            "R11",
            f"R11: calls only {pol.call_window} on business days in the contact's zone; next "
            f"opening {_fmt(nxt, c.tz)}.",
            nxt,
        )
    return None
