"""The checks that count touches in a round: one thank-you per round (R1) and the touch
budget (R6).

Both refuse for good; steps that answer the company (R9's note, R10's reply) are outside
the budget.
"""

from __future__ import annotations

from datetime import datetime

from api.policy.context import _Ctx, _Refusal
from api.policy.vocabulary import BUDGET_EXEMPT_STEPS


def _check_r1(ctx: _Ctx, t: datetime) -> _Refusal | None:
    if ctx.proposed.step == "thank_you" and any(h.step == "thank_you" for h in ctx.round_touches):
        return _Refusal("R1", "R1: this contact already has a thank-you note for this round.", None)
    return None


def _check_r6(ctx: _Ctx, t: datetime) -> _Refusal | None:
    if ctx.proposed.step in BUDGET_EXEMPT_STEPS:
        return None
    used = sum(1 for h in ctx.round_touches if h.step not in BUDGET_EXEMPT_STEPS)
    budget = ctx.policy.touch_budget
    if used >= budget:
        return _Refusal(
            "R6",
            f"R6: all {budget} touches for round {ctx.proposed.round} with this contact are "
            "used or reserved; time to let it go.",
            None,
        )
    return None
