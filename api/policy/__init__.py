"""The follow-up policy engine: pure decisions over plain records (R2, R4-R11, R15).

No database, no web framework, no clock: callers pass the history they loaded and ``now``.
Every datetime in and out is timezone-aware UTC; local reasoning happens in the contact's
IANA zone via :mod:`api.timewindow`. Times and dates coming in are held to the working
range (:mod:`api.timebounds`): a stored year 9999 is read as a bound, so no arithmetic here
leaves Python's datetime range.

What ``history`` should contain: every touch from the candidate to this contact (R7 spaces
touches to a *person*, across applications) and every touch to the other contacts of the
proposed touch's application (R9/R10 limit notes per application). ``responses`` likewise:
every response at the application from *any* of its contacts (a recruiter's rejection or
offer ends the interviewers' sequences too) plus this contact's out-of-office notices.
Extra records are filtered out, so passing more is safe; passing less silently weakens
R8-R10, except for the subset :mod:`api.ledger.relevant` loads, which decides exactly as
the whole history for touches judged from a given time on (tested over random ledgers).

Manual touches (channel ``"manual"`` or ``automated=False``) already happened or are the
candidate's own doing: they are always logged. :func:`evaluate` still tells the truth about
them (``allowed=False`` with the rule), and :func:`for_manual` turns a decision into the
flags to store on the logged touch. R8 and out-of-office never refuse manual touches, they
only flag them: answering someone who replied is a conversation, not pestering.

Scope of responses: a reply stops its author for that round; an offer or a next-round
invitation ends the round for the whole panel; a rejection closes the whole application
(R9), leaving room for one post-rejection note per application.

The engine is split by idea: :mod:`.vocabulary`, :mod:`.settings`, :mod:`.records`,
:mod:`.timing`, :mod:`.context`, one ``rules_*`` module per rule family, :mod:`.verdict`
and :mod:`.summaries`. This package re-exports their public names, so callers keep
importing from ``api.policy``.
"""

from __future__ import annotations

from api.policy.records import (
    ContactInfo,
    Decision,
    InterviewInfo,
    ProposedTouch,
    ResponseRecord,
    TouchRecord,
    for_manual,
    is_call,
    is_manual,
)
from api.policy.settings import (
    CHOICE_FIELDS,
    SETTING_NAMES,
    SETTING_RANGES,
    SETTING_RULES,
    PolicyError,
    PolicySettings,
    merge,
    validate_field,
    validate_overrides,
)
from api.policy.summaries import budget_summary, reexamine_panel, reexamine_pending, stop_state
from api.policy.timing import (
    adjust_to_window,
    effective_decision_date,
    follow_up_earliest,
    window_for,
)
from api.policy.verdict import RULE_PRIORITY, evaluate
from api.policy.vocabulary import (
    APPROVAL_MODES,
    BUDGET_EXEMPT_STEPS,
    BUILTIN_CHANNELS,
    COUNTING_STATUSES,
    PENDING_STATUSES,
    RESPONSE_KINDS,
    STATUSES,
    STEPS,
)

__all__ = [
    "APPROVAL_MODES",
    "BUDGET_EXEMPT_STEPS",
    "BUILTIN_CHANNELS",
    "CHOICE_FIELDS",
    "COUNTING_STATUSES",
    "PENDING_STATUSES",
    "RESPONSE_KINDS",
    "RULE_PRIORITY",
    "SETTING_NAMES",
    "SETTING_RANGES",
    "SETTING_RULES",
    "STATUSES",
    "STEPS",
    "ContactInfo",
    "Decision",
    "InterviewInfo",
    "PolicyError",
    "PolicySettings",
    "ProposedTouch",
    "ResponseRecord",
    "TouchRecord",
    "adjust_to_window",
    "budget_summary",
    "effective_decision_date",
    "evaluate",
    "follow_up_earliest",
    "for_manual",
    "is_call",
    "is_manual",
    "merge",
    "reexamine_panel",
    "reexamine_pending",
    "stop_state",
    "validate_field",
    "validate_overrides",
    "window_for",
]
