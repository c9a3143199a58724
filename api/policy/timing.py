"""Time arithmetic shared by the rules and the planners: send/call windows (R15/R11), the
decision date that applies (R4) and the earliest first follow-up (R4/R5).

Public helpers here are used by callers too (the cadence planner moves touches into their
window before asking :func:`api.policy.evaluate`), so they stand apart from the checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from api.policy.records import ContactInfo, ResponseRecord, is_call
from api.policy.settings import PolicySettings
from api.timebounds import bounded, clamp_day
from api.timewindow import Window, local_midnight, next_opening, to_utc, zone


def window_for(policy: PolicySettings, step: str, channel: str) -> Window:
    return policy.call_window if is_call(step, channel) else policy.send_window


def adjust_to_window(
    policy: PolicySettings,
    contact: ContactInfo,
    at: datetime,
    *,
    step: str = "follow_up",
    channel: str = "email",
) -> datetime:
    """R15/R11: move an automated touch to the next opening of its window in the contact's
    zone; a time already inside is returned unchanged. Callers apply this before
    :func:`evaluate` instead of refusing the user's time."""
    return next_opening(
        bounded(at, "at"),
        contact.tz,
        window_for(policy, step, channel),
        policy.business_days,
        contact.country,
        policy.observe_holidays,
    )


def _fmt(at: datetime, tz: str) -> str:
    local = at.astimezone(zone(tz))
    name = local.tzname()
    return f"{local:%a %Y-%m-%d %H:%M} {name}" + ("" if name == tz else f" ({tz})")


def effective_decision_date(
    responses: Sequence[ResponseRecord],
    application_id: int | None,
    round: int,
    fallback: date | None = None,
    at: datetime | None = None,
) -> date | None:
    """R4's decision date: the latest one a contact gave for this round, else the fallback
    (the interview's or application's expected decision date)."""
    given = [
        r
        for r in responses
        if r.kind == "decision_date"
        and r.decision_date is not None
        and (application_id is None or r.application_id == application_id)
        and r.round == round
        and (at is None or r.occurred_at <= at)
    ]
    if given:
        return max(given, key=lambda r: r.occurred_at).decision_date
    return fallback


def follow_up_earliest(
    policy: PolicySettings,
    tz: str,
    thank_you_at: datetime,
    decision_date: date | None,
) -> tuple[datetime, str, str]:
    """Earliest first follow-up as (time, rule, why).

    R4: the start of local day ``decision_date + decision_grace_days`` in the contact's
    zone. A decision date whose grace had already run out when the thank-you went out gives
    no usable timeline, so R5 applies instead: thank-you + ``follow_up_wait_days``.
    """
    thank_you_at = bounded(thank_you_at, "thank_you_at")
    decision_date = clamp_day(decision_date)
    if decision_date is not None:
        grace_day = decision_date + timedelta(days=policy.decision_grace_days)
        earliest = local_midnight(grace_day, tz)
        if earliest > thank_you_at:
            why = (
                f"R4: decision expected on {decision_date.isoformat()}, follow-up waits "
                f"{policy.decision_grace_days} day(s) past it"
            )
            return earliest, "R4", why
    # Days on the contact's calendar: a week after a 12:00 thank-you is 12:00 local, even
    # across a daylight-saving change.
    local = thank_you_at.astimezone(zone(tz)).replace(tzinfo=None)
    later = local + timedelta(days=policy.follow_up_wait_days)
    earliest = max(
        to_utc(later.replace(tzinfo=zone(tz), fold=0), "follow-up"),
        to_utc(later.replace(tzinfo=zone(tz), fold=1), "follow-up"),
    )
    why = f"R5: no usable decision date, wait {policy.follow_up_wait_days} days after thank-you"
    return earliest, "R5", why
