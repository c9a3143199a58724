"""A candidate's own rules for a contact: stricter than the staff levels, never looser.

Staff set the org level (admins), the candidate level and a contact level (admins and
advisors). A candidate may add rules of their own for one of their contacts, but only to
make a limit stricter. The combination happens in :func:`combine`, at every merge, not only
when a rule is saved: each value in force is *the stricter of the level above and the
candidate's own*, so a later staff change can never turn an old candidate value into a
loosening, whatever is stored.

"Stricter" for every setting (:data:`STRICTER`):

- smaller: the touch budget (R6), the daily cap, the word and SMS-segment limits (R12), and
  the three R2 hours: they are deadlines, and a stricter deadline is an earlier one (the
  thank-you is due, overdue and late sooner; pushing them back would hide lateness from
  the advisor);
- larger: the minimum gap (R7), the follow-up wait (R5), the decision grace (R4);
- on, never off: ``stop_on_response`` (R8), ``observe_holidays`` (R15);
- narrower windows (R11, R15): a start no earlier, an end no later;
- business days (R15): a subset;
- ``approval``: ``required`` over ``auto`` (a candidate may ask to read every planned touch
  first, never waive a review staff asked for); ``draft_deadline_hours``: smaller (a draft
  left unread expires sooner rather than going out later).

Pure functions over plain mappings (``PolicySettings.to_mapping()`` and validated
overrides), so the engine, the API and the worker share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.timewindow import parse_hhmm

SMALLER, LARGER, ON, LATER, EARLIER, SUBSET, REQUIRED = (
    "smaller",
    "larger",
    "on",
    "later",
    "earlier",
    "subset",
    "required",
)

#: The stricter direction of every policy setting.
STRICTER: dict[str, str] = {
    "touch_budget": SMALLER,
    "daily_cap": SMALLER,
    "sms_max_segments": SMALLER,
    "thank_you_max_words": SMALLER,
    "follow_up_max_words": SMALLER,
    "thank_you_due_hours": SMALLER,
    "thank_you_deadline_hours": SMALLER,
    "thank_you_late_hours": SMALLER,
    "min_gap_hours": LARGER,
    "follow_up_wait_days": LARGER,
    "decision_grace_days": LARGER,
    "stop_on_response": ON,
    "observe_holidays": ON,
    "send_window_start": LATER,
    "call_window_start": LATER,
    "send_window_end": EARLIER,
    "call_window_end": EARLIER,
    "business_days": SUBSET,
    "approval": REQUIRED,
    "draft_deadline_hours": SMALLER,
}

_HINTS = {
    SMALLER: "may be at most {value}",
    LARGER: "may be at least {value}",
    ON: "may only be turned on, not off",
    LATER: "may start no earlier than {value}",
    EARLIER: "may end no later than {value}",
    SUBSET: "may only leave out days of {value}",
    REQUIRED: "may only require approval, not waive it",
}


def stricter(name: str, above: Any, own: Any) -> Any:
    """The stricter of two valid values of one setting (business days: the common days,
    possibly none; :func:`combine` deals with that)."""
    direction = STRICTER[name]
    if direction == SMALLER:
        return min(above, own)
    if direction == LARGER:
        return max(above, own)
    if direction == ON:
        return bool(above or own)
    if direction == LATER:
        return max(above, own, key=parse_hhmm)
    if direction == EARLIER:
        return min(above, own, key=parse_hhmm)
    if direction == REQUIRED:
        return "required" if "required" in (above, own) else above
    return sorted(set(above) & set(own))


def _same(name: str, a: Any, b: Any) -> bool:
    if STRICTER[name] == SUBSET:
        return sorted(set(a)) == sorted(set(b))
    return a == b


def is_looser(name: str, above: Any, own: Any) -> bool:
    """Whether ``own`` would loosen ``above`` in at least one respect."""
    return not _same(name, stricter(name, above, own), own)


def combine(
    above: Mapping[str, Any], own: Mapping[str, Any]
) -> tuple[dict[str, Any], frozenset[str]]:
    """The values in force: each of the candidate's own values, where it is stricter than
    the staff value ``above``; and the names where the candidate's own is what is in force.

    Never looser than ``above`` and always a valid policy when ``above`` is: a window the
    two levels leave empty, or no common business day, falls back to the staff value; the R2
    hours are kept in order (due <= deadline <= late) by pulling the earlier ones forward.
    """
    values = dict(above)
    for name, value in own.items():
        values[name] = stricter(name, above[name], value)
    for prefix in ("send", "call"):
        start, end = f"{prefix}_window_start", f"{prefix}_window_end"
        if parse_hhmm(values[start]) >= parse_hhmm(values[end]):
            values[start], values[end] = above[start], above[end]
    if not values["business_days"]:
        values["business_days"] = above["business_days"]
    values["business_days"] = sorted(values["business_days"])
    values["thank_you_deadline_hours"] = min(
        values["thank_you_deadline_hours"], values["thank_you_late_hours"]
    )
    values["thank_you_due_hours"] = min(
        values["thank_you_due_hours"], values["thank_you_deadline_hours"]
    )
    own_in_force = frozenset(n for n in values if not _same(n, values[n], above[n]))
    return values, own_in_force


@dataclass(frozen=True)
class Loosening:
    """A candidate's value that would loosen the limit in force: which one, where from."""

    field: str
    level: str  # "org" or "candidate" or "contact" (staff's contact level)
    in_force: Any

    @property
    def reason(self) -> str:
        level = {
            "org": "the organisation's policy",
            "candidate": "the candidate level (set by staff)",
            "contact": "this contact's staff-set policy",
        }[self.level]
        hint = _HINTS[STRICTER[self.field]].format(value=self.in_force)
        return (
            f"Looser than {self.in_force!r} in force from {level}; a candidate's own rule "
            f"{hint}. Ask an advisor or admin to loosen it."
        )


def loosenings(
    above: Mapping[str, Any], sources: Mapping[str, str], own: Mapping[str, Any]
) -> list[Loosening]:
    """Every value of ``own`` that is looser than the staff value in force, with the level
    it comes from (a built-in default counts as the organisation's)."""
    return [
        Loosening(name, "org" if sources[name] == "default" else sources[name], above[name])
        for name, value in own.items()
        if is_looser(name, above[name], value)
    ]
