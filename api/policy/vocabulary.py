"""The fixed words of the policy engine: touch steps, channels, statuses, response kinds.

They live apart from the rules so that models, schemas and the engine share one spelling
of each, and so that which statuses count toward budget and spacing is decided in one place.
"""

from __future__ import annotations

STEPS = ("thank_you", "follow_up", "call", "post_rejection", "next_round_reply", "custom")
BUILTIN_CHANNELS = ("email", "sms", "call", "manual")
STATUSES = (
    "draft",
    "scheduled",
    "sending",
    "sent",
    "delivered",
    "failed",
    "skipped",
    "cancelled",
    "unknown",
)
#: Statuses that use up budget and spacing. Pending ones reserve their slot (a draft too: it
#: is a planned touch awaiting the candidate's approval); "unknown" (a send whose outcome was
#: lost) counts because it may well have reached the person.
COUNTING_STATUSES = frozenset({"draft", "scheduled", "sending", "sent", "delivered", "unknown"})
#: Not yet on its way: these are the touches the caller may still cancel or move. Only
#: "scheduled" ones are ever claimed by the worker; a draft waits for approval.
PENDING_STATUSES = frozenset({"draft", "scheduled"})
#: Whether planner touches wait for the candidate's approval (drafts) or are scheduled.
APPROVAL_MODES = ("required", "auto")
RESPONSE_KINDS = ("replied", "decision_date", "next_round", "rejected", "offer", "out_of_office")
#: R9's single note and R10's prompt answer are replies to the company, not chasing (R6).
BUDGET_EXEMPT_STEPS = frozenset({"post_rejection", "next_round_reply"})
