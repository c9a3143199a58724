"""The numbers behind the rules (:class:`PolicySettings`), their validation and layering.

Every setting is checked on its own (:func:`validate_field`), a layer of overrides field by
field, and the merged whole across fields; :func:`merge` stacks the org, candidate and
contact layers and the candidate's own tighter rules, reporting where each value came from.
:class:`PolicyError` names the bad field so the API can answer 422 precisely.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cached_property
from typing import Any

from api import policy_bounds
from api.policy.vocabulary import APPROVAL_MODES
from api.timewindow import Window, format_hhmm, parse_hhmm


class PolicyError(ValueError):
    """An invalid setting; ``field`` names it so the API can answer 422 precisely."""

    def __init__(self, field: str, message: str, layer: str | None = None) -> None:
        self.field = field
        self.layer = layer
        where = f"{layer} setting " if layer else ""
        super().__init__(f"{where}{field}: {message}")


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

    @cached_property  # settings are frozen; re-planning asks thousands of times
    def send_window(self) -> Window:
        return Window.parse(self.send_window_start, self.send_window_end)

    @cached_property
    def call_window(self) -> Window:
        return Window.parse(self.call_window_start, self.call_window_end)

    @property
    def min_gap(self) -> timedelta:
        return timedelta(hours=self.min_gap_hours)


SETTING_NAMES = tuple(f.name for f in dataclasses.fields(PolicySettings))


#: Layers merged before, by their JSON: re-planning a batch merges the same few layers for
#: thousands of contacts, and a merge validates every field.
_MERGED: dict[str, tuple[PolicySettings, dict[str, str]]] = {}
_MERGED_MAX = 4096


def merge(
    org: Mapping[str, Any] | None,
    candidate: Mapping[str, Any] | None,
    contact: Mapping[str, Any] | None,
    own: Mapping[str, Any] | None = None,
) -> tuple[PolicySettings, dict[str, str]]:
    """:func:`merge_layers`, remembered for layers seen before (settings are frozen)."""
    try:
        key = json.dumps([org, candidate, contact, own], sort_keys=True)
    except (TypeError, ValueError):  # not JSON (a caller's own objects): merge each time
        return merge_layers(org, candidate, contact, own)
    found = _MERGED.get(key)
    if found is None:
        found = merge_layers(org, candidate, contact, own)
        if len(_MERGED) >= _MERGED_MAX:
            _MERGED.clear()
        _MERGED[key] = found
    return found[0], dict(found[1])


def merge_layers(
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
