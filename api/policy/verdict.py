"""The verdict on one touch: every check in priority order, and the search for the earliest
time at which all of them pass.

Rules can push each other (a gap moving a touch out of its window), so the earliest time
is a fix-point walk; the order of :data:`_CHECKS` is the order of :data:`RULE_PRIORITY`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from api.policy.context import _build_ctx, _Ctx, _Refusal
from api.policy.records import (
    ContactInfo,
    Decision,
    ProposedTouch,
    ResponseRecord,
    TouchRecord,
    is_manual,
)
from api.policy.rules_budget import _check_r1, _check_r6
from api.policy.rules_spacing import _check_cap, _check_r7, _check_r15
from api.policy.rules_stop import (
    _check_address,
    _check_dnc,
    _check_ooo,
    _check_opt_out,
    _check_r8,
    _check_r9,
    _check_r10,
    _check_undeliverable,
    _ooo_return,
    _r8_stop,
)
from api.policy.rules_timing import _check_follow_up, _check_r2, _check_r11
from api.policy.settings import PolicySettings
from api.timebounds import bounded

_Check = Callable[[_Ctx, datetime], "_Refusal | None"]

#: Checks in priority order; among permanent refusals the first listed is reported.
_CHECKS: tuple[_Check, ...] = (
    _check_dnc,
    _check_address,
    _check_opt_out,
    _check_undeliverable,
    _check_r9,
    _check_r10,
    _check_r8,
    _check_r1,
    _check_r6,
    _check_follow_up,
    _check_r2,
    _check_ooo,
    _check_r11,
    _check_r7,
    _check_r15,
    _check_cap,
)
#: Rule codes in the order of :data:`_CHECKS`, i.e. which permanent refusal is reported.
RULE_PRIORITY = (
    *("DNC", "ADDRESS", "OPT_OUT", "UNDELIVERABLE", "R9", "R10", "R8", "R1", "R6"),
    *("R5", "R4", "R2", "OOO", "R11", "R7", "R15", "CAP"),
)

_FIXPOINT_STEPS = 200


def _refusals(ctx: _Ctx, t: datetime) -> list[_Refusal]:
    return [r for check in _CHECKS if (r := check(ctx, t)) is not None]


def _earliest_allowed(ctx: _Ctx, refusals: list[_Refusal]) -> datetime | None:
    """Walk forward until every rule passes; rules may push each other (a gap moving a
    touch out of its window, a window opening landing near another touch)."""
    t = None
    for _ in range(_FIXPOINT_STEPS):
        if any(r.next_at is None for r in refusals):
            return None
        candidate = max(r.next_at for r in refusals)  # type: ignore[type-var]
        if t is not None and candidate <= t:
            return None  # no progress: a rule cannot name a later time
        t = candidate
        refusals = _refusals(ctx, t)
        if not refusals:
            return t
    return None


def _flags(ctx: _Ctx, t: datetime) -> tuple[str, ...]:
    flags = []
    p, pol = ctx.proposed, ctx.policy
    if p.step == "thank_you" and ctx.interview_end is not None:
        late = ctx.interview_end + timedelta(hours=pol.thank_you_late_hours)
        deadline = ctx.interview_end + timedelta(hours=pol.thank_you_deadline_hours)
        if t > late:
            flags.append("R2_LATE")
        elif t > deadline:
            flags.append("R2_OVERDUE")
    if ctx.manual and _r8_stop(ctx, t) is not None:
        flags.append("R8_RESPONDED")
    if ctx.manual and _ooo_return(ctx, t) is not None:
        flags.append("OOO")
    return tuple(flags)


def _allowed_detail(policy: PolicySettings, flags: tuple[str, ...]) -> str:
    if "R2_LATE" in flags:
        return (
            f"Allowed, but the thank-you is more than {policy.thank_you_late_hours} h after "
            "the interview: late beats never (R2)."
        )
    if "R2_OVERDUE" in flags:
        return (
            f"Allowed, but the thank-you misses the {policy.thank_you_deadline_hours} h "
            "target (R2)."
        )
    if "R8_RESPONDED" in flags:
        return "Allowed as a manual touch; the contact already responded (R8)."
    return "Allowed."


def evaluate(
    policy: PolicySettings,
    contact: ContactInfo,
    history: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    proposed: ProposedTouch,
    now: datetime,
    *,
    candidate_sends_today: int = 0,
    thank_you_anchor: datetime | None = None,
    interview_end: datetime | None = None,
    decision_date: date | None = None,
) -> Decision:
    """Check one touch against every rule; call at creation *and* at send time.

    - An automated touch cannot go out in the past, so it is judged at ``max(at, now)``;
      a manual one at its own ``at`` (it may be a back-filled log).
    - R15/R11 windows never refuse for good: the refusal carries the next opening, so the
      worker reschedules. At creation, call :func:`adjust_to_window` first.
    - ``candidate_sends_today``: the candidate's other counting automated touches on the
      touch's local day in the contact's zone (see ``timewindow.local_day_bounds``).
    - ``thank_you_anchor``: the thank-you time when it is not in ``history`` (sent before
      the product, or a non-interviewing recruiter: pass the interview end).
    - ``interview_end`` enables R2; ``decision_date`` is the application's expected date for
      R4, overridden by the latest decision_date response of the round.
    """
    now = bounded(now, "now")
    manual = is_manual(proposed)
    t = proposed.at if manual else max(proposed.at, now)
    ctx = _build_ctx(
        policy,
        contact,
        history,
        responses,
        proposed,
        t,
        candidate_sends_today,
        thank_you_anchor,
        interview_end,
        decision_date,
    )
    flags = _flags(ctx, t)
    refusals = _refusals(ctx, t)
    if not refusals:
        return Decision(True, None, _allowed_detail(policy, flags), None, flags)
    violations = tuple(r.rule for r in refusals)
    permanent = [r for r in refusals if r.next_at is None]
    if permanent:
        chosen = permanent[0]  # _CHECKS is in priority order
        next_at = None
    else:
        chosen = max(refusals, key=lambda r: r.next_at)  # first (higher priority) on ties
        next_at = _earliest_allowed(ctx, refusals)
    return Decision(False, chosen.rule, chosen.detail, next_at, flags, violations)
