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
R8-R10.

Manual touches (channel ``"manual"`` or ``automated=False``) already happened or are the
candidate's own doing: they are always logged. :func:`evaluate` still tells the truth about
them (``allowed=False`` with the rule), and :func:`for_manual` turns a decision into the
flags to store on the logged touch. R8 and out-of-office never refuse manual touches, they
only flag them: answering someone who replied is a conversation, not pestering.

Scope of responses: a reply stops its author for that round; an offer or a next-round
invitation ends the round for the whole panel; a rejection closes the whole application
(R9), leaving room for one post-rejection note per application.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from api import policy_bounds
from api.timebounds import bounded, clamp_day
from api.timewindow import (
    Window,
    format_hhmm,
    in_window,
    is_valid_zone,
    local_date,
    local_day_bounds,
    local_midnight,
    next_opening,
    parse_hhmm,
    to_utc,
    zone,
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


class PolicyError(ValueError):
    """An invalid setting; ``field`` names it so the API can answer 422 precisely."""

    def __init__(self, field: str, message: str, layer: str | None = None) -> None:
        self.field = field
        self.layer = layer
        where = f"{layer} setting " if layer else ""
        super().__init__(f"{where}{field}: {message}")


# --- settings ----------------------------------------------------------------------------

#: Inclusive (min, max) of every numeric setting.
SETTING_RANGES: dict[str, tuple[int, int]] = {
    "touch_budget": (1, 10),
    "min_gap_hours": (0, 720),
    "thank_you_due_hours": (0, 48),
    "thank_you_deadline_hours": (1, 72),
    "thank_you_late_hours": (1, 168),
    "follow_up_wait_days": (1, 30),
    "decision_grace_days": (0, 14),
    "daily_cap": (1, 100),
    "sms_max_segments": (1, 10),
    "thank_you_max_words": (10, 1000),
    "follow_up_max_words": (10, 1000),
    "draft_deadline_hours": (1, 720),
}

#: The domain rule behind each setting, for API documentation and refusal texts.
SETTING_RULES: dict[str, str] = {
    "touch_budget": "R6",
    "min_gap_hours": "R7",
    "thank_you_due_hours": "R2",
    "thank_you_deadline_hours": "R2",
    "thank_you_late_hours": "R2",
    "follow_up_wait_days": "R5",
    "decision_grace_days": "R4",
    "stop_on_response": "R8",
    "send_window_start": "R15",
    "send_window_end": "R15",
    "call_window_start": "R11",
    "call_window_end": "R11",
    "business_days": "R15",
    "observe_holidays": "R15",
    "daily_cap": "CAP",
    "sms_max_segments": "R12",
    "thank_you_max_words": "R12",
    "follow_up_max_words": "R12",
    "approval": "APPROVAL",
    "draft_deadline_hours": "APPROVAL",
}

_BOOL_FIELDS = frozenset({"stop_on_response", "observe_holidays"})
#: Settings that take one of a few words.
CHOICE_FIELDS: dict[str, tuple[str, ...]] = {"approval": APPROVAL_MODES}
_WINDOW_FIELDS = frozenset(
    {"send_window_start", "send_window_end", "call_window_start", "call_window_end"}
)


def validate_field(name: str, value: Any) -> Any:
    """Check one setting on its own and return its normalised value.

    Integers must be real ints (not bools, not floats); windows are "HH:MM" strings (a
    ``datetime.time`` is accepted and normalised); business days are weekday numbers
    0 (Mon) to 6 (Sun), stored as a sorted tuple.
    """
    if name in SETTING_RANGES:
        lo, hi = SETTING_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(name, f"must be an integer, got {value!r}")
        if not lo <= value <= hi:
            raise PolicyError(name, f"must be between {lo} and {hi}, got {value}")
        return value
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise PolicyError(name, f"must be true or false, got {value!r}")
        return value
    if name in CHOICE_FIELDS:
        if value not in CHOICE_FIELDS[name]:
            raise PolicyError(
                name, f"must be one of {', '.join(CHOICE_FIELDS[name])}, got {value!r}"
            )
        return value
    if name in _WINDOW_FIELDS:
        if isinstance(value, time):
            value = format_hhmm(value)
        try:
            parse_hhmm(value)
        except ValueError as exc:
            raise PolicyError(name, str(exc)) from None
        return value
    if name == "business_days":
        if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            raise PolicyError(name, f"must be a list of weekday numbers, got {value!r}")
        days = list(value)
        if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise PolicyError(name, f"weekdays are numbers 0 (Mon) to 6 (Sun), got {days!r}")
        if not days:
            raise PolicyError(name, "needs at least one business day")
        return tuple(sorted(set(days)))
    raise PolicyError(name, "unknown setting")


def validate_overrides(mapping: Mapping[str, Any] | None, layer: str | None = None) -> dict:
    """Validate a partial override layer field by field; ``None`` values mean "not set".

    Cross-field constraints (window order, deadline <= late) are only checked once the
    layers are merged, because a single layer may legitimately change just one end.
    """
    out = {}
    for name, value in (mapping or {}).items():
        if value is None:
            continue
        try:
            out[name] = validate_field(name, value)
        except PolicyError as exc:
            raise PolicyError(exc.field, str(exc).split(": ", 1)[1], layer) from None
    return out


@dataclass(frozen=True)
class PolicySettings:
    """The numbers behind the rules, with the domain defaults. Validated on construction."""

    touch_budget: int = 3  # R6
    min_gap_hours: int = 48  # R7
    thank_you_due_hours: int = 2  # R2
    thank_you_deadline_hours: int = 24  # R2
    thank_you_late_hours: int = 48  # R2
    follow_up_wait_days: int = 7  # R5
    decision_grace_days: int = 2  # R4
    stop_on_response: bool = True  # R8
    send_window_start: str = "08:00"  # R15
    send_window_end: str = "18:00"  # R15
    call_window_start: str = "08:00"  # R11
    call_window_end: str = "18:00"  # R11
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # R15, 0 = Monday
    observe_holidays: bool = True  # R15
    daily_cap: int = 10  # automated sends per candidate per local day
    sms_max_segments: int = 2  # R12
    thank_you_max_words: int = 150  # R12
    follow_up_max_words: int = 200  # R12
    approval: str = "required"  # planner touches are drafts until the candidate approves
    draft_deadline_hours: int = 24  # a draft (not a thank-you: R2) expires this long after its time

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, validate_field(f.name, getattr(self, f.name)))
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; the field named is the one a user most likely got wrong."""
        if self.thank_you_due_hours > self.thank_you_deadline_hours:
            raise PolicyError(
                "thank_you_due_hours", "must not be later than thank_you_deadline_hours"
            )
        if self.thank_you_deadline_hours > self.thank_you_late_hours:
            raise PolicyError(
                "thank_you_deadline_hours", "must not be later than thank_you_late_hours"
            )
        for prefix in ("send", "call"):
            start = getattr(self, f"{prefix}_window_start")
            end = getattr(self, f"{prefix}_window_end")
            if parse_hhmm(start) >= parse_hhmm(end):
                raise PolicyError(
                    f"{prefix}_window_end", f"must be after {prefix}_window_start ({start})"
                )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> PolicySettings:
        """Build from a plain dict (JSON/DB), defaults for absent or ``None`` values."""
        return cls(**validate_overrides(mapping))

    def to_mapping(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["business_days"] = list(self.business_days)
        return data

    @property
    def send_window(self) -> Window:
        return Window.parse(self.send_window_start, self.send_window_end)

    @property
    def call_window(self) -> Window:
        return Window.parse(self.call_window_start, self.call_window_end)

    @property
    def min_gap(self) -> timedelta:
        return timedelta(hours=self.min_gap_hours)


SETTING_NAMES = tuple(f.name for f in dataclasses.fields(PolicySettings))


def merge(
    org: Mapping[str, Any] | None,
    candidate: Mapping[str, Any] | None,
    contact: Mapping[str, Any] | None,
    own: Mapping[str, Any] | None = None,
) -> tuple[PolicySettings, dict[str, str]]:
    """Layer overrides (org default -> candidate -> contact) and report where each came from.

    ``None`` values in a layer mean "not overridden here", matching nullable columns.
    ``own``, the candidate's own rules for the contact, can only tighten what the staff
    layers give (source ``"own"`` where it does): see :mod:`api.policy_bounds`.
    """
    values: dict[str, Any] = {}
    sources = dict.fromkeys(SETTING_NAMES, "default")
    for layer, mapping in (("org", org), ("candidate", candidate), ("contact", contact)):
        for name, value in validate_overrides(mapping, layer).items():
            values[name] = value
            sources[name] = layer
    try:
        settings = PolicySettings(**values)
    except PolicyError as exc:
        raise PolicyError(exc.field, str(exc).split(": ", 1)[1], sources[exc.field]) from None
    if own:
        values, tightened = policy_bounds.combine(
            settings.to_mapping(), validate_overrides(own, "own")
        )
        settings = PolicySettings(**values)
        sources.update(dict.fromkeys(tightened, "own"))
    return settings, sources


# --- records -----------------------------------------------------------------------------


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


def window_for(policy: PolicySettings, step: str, channel: str) -> Window:
    return policy.call_window if is_call(step, channel) else policy.send_window


def for_manual(decision: Decision) -> tuple[str, ...]:
    """Flags to store on a logged manual touch: its warnings plus every rule it breaks."""
    seen = dict.fromkeys(decision.flags + decision.violations)
    return tuple(seen)


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


# --- evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refusal:
    rule: str
    detail: str
    next_at: datetime | None  # None: waiting does not help


@dataclass(frozen=True)
class _Ctx:
    policy: PolicySettings
    contact: ContactInfo
    proposed: ProposedTouch
    contact_touches: tuple[TouchRecord, ...]  # counting, to this contact, minus itself
    round_touches: tuple[TouchRecord, ...]  # ... and in this application and round
    app_touches: tuple[TouchRecord, ...]  # counting, any contact of this application
    contact_responses: tuple[ResponseRecord, ...]  # from this contact, any application
    app_responses: tuple[ResponseRecord, ...]  # any contact of this application
    candidate_sends_today: int
    cap_day: date
    thank_you_anchor: datetime | None
    interview_end: datetime | None
    decision_date: date | None
    manual: bool

    @property
    def window(self) -> Window:
        return window_for(self.policy, self.proposed.step, self.proposed.channel)

    def opening(self, at: datetime, window: Window | None = None) -> datetime:
        return next_opening(
            at,
            self.contact.tz,
            window or self.window,
            self.policy.business_days,
            self.contact.country,
            self.policy.observe_holidays,
        )


def _same_app(record_app: int, app: int | None) -> bool:
    return app is None or record_app == app


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


_Check = Callable[[_Ctx, datetime], "_Refusal | None"]

#: Checks in priority order; among permanent refusals the first listed is reported.
_CHECKS: tuple[_Check, ...] = (
    _check_dnc,
    _check_address,
    _check_opt_out,
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
    *("DNC", "ADDRESS", "OPT_OUT", "R9", "R10", "R8", "R1", "R6"),
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


def _build_ctx(
    policy: PolicySettings,
    contact: ContactInfo,
    history: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    proposed: ProposedTouch,
    t: datetime,
    candidate_sends_today: int,
    thank_you_anchor: datetime | None,
    interview_end: datetime | None,
    decision_date: date | None,
) -> _Ctx:
    if proposed.contact_id != contact.id:
        raise ValueError(
            f"proposed touch is for contact {proposed.contact_id}, not contact {contact.id}"
        )
    app = proposed.application_id
    counting = [
        h for h in history if h.counts and (proposed.touch_id is None or h.id != proposed.touch_id)
    ]
    contact_touches = tuple(h for h in counting if h.contact_id == contact.id)
    return _Ctx(
        policy=policy,
        contact=contact,
        proposed=proposed,
        contact_touches=contact_touches,
        round_touches=tuple(
            h
            for h in contact_touches
            if _same_app(h.application_id, app) and h.round == proposed.round
        ),
        app_touches=tuple(h for h in counting if _same_app(h.application_id, app)),
        contact_responses=tuple(r for r in responses if r.contact_id == contact.id),
        app_responses=tuple(r for r in responses if _same_app(r.application_id, app)),
        candidate_sends_today=candidate_sends_today,
        cap_day=local_date(t, contact.tz),
        thank_you_anchor=bounded(thank_you_anchor) if thank_you_anchor else None,
        interview_end=bounded(interview_end) if interview_end else None,
        decision_date=clamp_day(decision_date),
        manual=is_manual(proposed),
    )


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


# --- summaries and re-examination ----------------------------------------------------------


def stop_state(
    policy: PolicySettings,
    contact: ContactInfo,
    responses: Sequence[ResponseRecord],
    application_id: int | None,
    round: int,
    at: datetime,
) -> tuple[str, str] | None:
    """(rule, reason) if automated touches to this contact in this round are over."""
    if contact.do_not_contact:
        return "DNC", "This contact is marked do-not-contact."
    at = bounded(at, "at")
    probe = ProposedTouch(contact.id, application_id, round, "custom", "email", at)
    ctx = _build_ctx(policy, contact, (), responses, probe, at, 0, None, None, None)
    for check in (_check_r9, _check_r8):
        refusal = check(ctx, at)
        if refusal is not None:
            return refusal.rule, refusal.detail
    return None


def budget_summary(
    policy: PolicySettings,
    contact: ContactInfo,
    history: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    round: int,
    now: datetime,
    *,
    application_id: int | None = None,
    thank_you_anchor: datetime | None = None,
    interview_end: datetime | None = None,
    decision_date: date | None = None,
) -> dict[str, Any]:
    """Where a contact stands in a round: budget used/left, stop, and per channel when the
    next automated touch could go (``None``: not at all). The probe step is the natural
    next one: thank-you until one exists, then follow-up; call for the call channel.
    ``application_id=None`` treats all given records as one application."""
    now = bounded(now, "now")
    counting = [
        h
        for h in history
        if h.counts
        and h.contact_id == contact.id
        and _same_app(h.application_id, application_id)
        and h.round == round
    ]
    used = sum(1 for h in counting if h.step not in BUDGET_EXEMPT_STEPS)
    stop = stop_state(policy, contact, responses, application_id, round, now)
    has_thank_you = any(h.step == "thank_you" for h in counting)
    next_at: dict[str, datetime | None] = {}
    blocked_by: dict[str, str | None] = {}
    for channel in ("email", "sms", "call"):
        step = "call" if channel == "call" else ("follow_up" if has_thank_you else "thank_you")
        probe = ProposedTouch(contact.id, application_id, round, step, channel, now)
        decision = evaluate(
            policy,
            contact,
            history,
            responses,
            probe,
            now,
            thank_you_anchor=thank_you_anchor,
            interview_end=interview_end,
            decision_date=decision_date,
        )
        next_at[channel] = now if decision.allowed else decision.next_allowed_at
        blocked_by[channel] = decision.rule
    return {
        "round": round,
        "budget": policy.touch_budget,
        "used": used,
        "left": max(policy.touch_budget - used, 0),
        "stopped": stop is not None,
        "stopped_rule": stop[0] if stop else None,
        "stopped_reason": stop[1] if stop else None,
        "next_allowed_at": next_at,
        "blocked_by": blocked_by,
    }


def reexamine_pending(
    policy: PolicySettings | Mapping[int, PolicySettings],
    contacts: Mapping[int, ContactInfo],
    history: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    now: datetime,
    *,
    decision_date: date | None = None,
) -> list[tuple[TouchRecord, Decision]]:
    """R8's "pending touches to the others are re-examined": re-check every pending
    automated touch in ``history`` and return those that no longer pass.

    Call it after recording a response, with the whole application's touches, responses
    and panel. A plain reply from one interviewer stops only that interviewer; an offer,
    rejection or next-round invitation refuses the others too. The caller cancels
    refusals without ``next_allowed_at`` and moves the others to it. Contacts missing from
    ``contacts`` are left alone.
    """
    out = []
    for touch in history:
        if touch.status not in PENDING_STATUSES or is_manual(touch) or touch.id is None:
            continue
        contact = contacts.get(touch.contact_id)
        if contact is None:
            continue
        pol = policy if isinstance(policy, PolicySettings) else policy[touch.contact_id]
        proposed = ProposedTouch(
            touch.contact_id,
            touch.application_id,
            touch.round,
            touch.step,
            touch.channel,
            touch.at,
            touch.automated,
            touch_id=touch.id,
        )
        decision = evaluate(
            pol, contact, history, responses, proposed, now, decision_date=decision_date
        )
        if not decision.allowed:
            out.append((touch, decision))
    return out


#: The name the domain rules use for R8's re-examination of the rest of the panel.
reexamine_panel = reexamine_pending
