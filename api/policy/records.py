"""The plain, frozen records the engine reasons over: touches, responses, contacts,
interviews, the touch being proposed and the verdict on it.

They validate their vocabulary and hold their times to the working range on construction,
so the rules can trust them; the ledger builds them from database rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from api.policy.vocabulary import COUNTING_STATUSES, RESPONSE_KINDS, STATUSES, STEPS
from api.timebounds import bounded, clamp_day
from api.timewindow import is_valid_zone


def _check_choice(kind: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {kind} {value!r}; expected one of {', '.join(allowed)}")


@dataclass(frozen=True)
class TouchRecord:
    """A touch already in the system. ``at`` is scheduled_for while pending, else when it
    went out or happened."""

    id: int | None
    contact_id: int
    application_id: int
    round: int
    step: str
    channel: str
    status: str
    at: datetime
    automated: bool = True

    def __post_init__(self) -> None:
        _check_choice("step", self.step, STEPS)
        _check_choice("status", self.status, STATUSES)
        object.__setattr__(self, "at", bounded(self.at, "TouchRecord.at"))

    @property
    def counts(self) -> bool:
        return self.status in COUNTING_STATUSES


@dataclass(frozen=True)
class ResponseRecord:
    """Something the contact did. ``decision_date`` for kind decision_date, ``until`` (last
    day away) for out_of_office."""

    id: int | None
    contact_id: int
    application_id: int
    round: int
    kind: str
    occurred_at: datetime
    decision_date: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        _check_choice("response kind", self.kind, RESPONSE_KINDS)
        object.__setattr__(self, "occurred_at", bounded(self.occurred_at, "occurred_at"))
        object.__setattr__(self, "decision_date", clamp_day(self.decision_date))
        object.__setattr__(self, "until", clamp_day(self.until))


@dataclass(frozen=True)
class ContactInfo:
    id: int
    tz: str
    country: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_channel: str | None = None
    do_not_contact: bool = False
    sms_opted_out: bool = False
    #: Why email cannot reach them (a permanent bounce of their address), or None.
    email_undeliverable: str | None = None

    def __post_init__(self) -> None:
        if not is_valid_zone(self.tz):  # fail early rather than at send time
            raise ValueError(f"unknown IANA time zone {self.tz!r}")


@dataclass(frozen=True)
class InterviewInfo:
    id: int
    application_id: int
    round: int
    ends_at: datetime
    decision_expected_on: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ends_at", bounded(self.ends_at, "ends_at"))
        object.__setattr__(self, "decision_expected_on", clamp_day(self.decision_expected_on))


@dataclass(frozen=True)
class ProposedTouch:
    """A touch to check. ``touch_id`` is set when re-checking a stored touch (at send time,
    on reschedule) so that it is not counted against itself."""

    contact_id: int
    application_id: int | None
    round: int
    step: str
    channel: str
    at: datetime
    automated: bool = True
    touch_id: int | None = None

    def __post_init__(self) -> None:
        _check_choice("step", self.step, STEPS)
        if not self.channel:
            raise ValueError("channel must be a non-empty name")
        object.__setattr__(self, "at", bounded(self.at, "ProposedTouch.at"))


@dataclass(frozen=True)
class Decision:
    """The verdict on one touch.

    ``rule`` is the refusing rule (permanent refusals win, else the one pushing furthest);
    ``next_allowed_at`` is the earliest time at which *all* rules would pass, or ``None``
    when no waiting helps. ``violations`` lists every refusing rule, for flagging manual
    touches; ``flags`` are warnings on an allowed touch (e.g. R2_LATE).
    """

    allowed: bool
    rule: str | None
    detail: str
    next_allowed_at: datetime | None = None
    flags: tuple[str, ...] = ()
    violations: tuple[str, ...] = ()


def is_manual(proposed: ProposedTouch | TouchRecord) -> bool:
    return proposed.channel == "manual" or not proposed.automated


def is_call(step: str, channel: str) -> bool:
    """Phone calls follow R11's window and preconditions whether logged by step or channel."""
    return step == "call" or channel == "call"


def for_manual(decision: Decision) -> tuple[str, ...]:
    """Flags to store on a logged manual touch: its warnings plus every rule it breaks."""
    seen = dict.fromkeys(decision.flags + decision.violations)
    return tuple(seen)
