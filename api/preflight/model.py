"""The value types of the message check: findings, the message, the context.

Every check module speaks in these types, so they live apart from any check:
:class:`Finding`, :class:`Message`, :class:`ContactInfo`, :class:`Notes`,
:class:`CheckContext`, the severities and the default limits (R12).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Severity = Literal["block", "warn"]
BLOCK: Severity = "block"
WARN: Severity = "warn"

#: Default limits (R12).  Keys: ``<step>_max_words`` per step, ``max_words``
#: for steps without their own key, ``sms_max_segments`` for SMS.
DEFAULT_LIMITS: dict[str, int] = {
    "thank_you_max_words": 150,
    "follow_up_max_words": 200,
    "max_words": 200,
    "sms_max_segments": 2,
}


# --------------------------------------------------------------------------- #
# Value types
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Finding:
    """One problem with a message.

    ``check`` is the stable name of the check, ``rule`` the domain rule
    ("R13") or None, ``severity`` "block" (the touch cannot be scheduled or
    sent) or "warn", ``detail`` a sentence for the candidate.
    """

    check: str
    rule: str | None
    severity: Severity
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "rule": self.rule,
            "severity": self.severity,
            "detail": self.detail,
        }


class MessageLike(Protocol):
    subject: str
    body: str


@dataclass(frozen=True)
class Message:
    """The rendered message under check (``subject`` is "" for SMS / calls)."""

    subject: str = ""
    body: str = ""


_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor"})


def _name_parts(name: str) -> list[str]:
    parts = [p.strip(".,") for p in name.split()]
    return [p for p in parts if p and p.lower() not in _HONORIFICS]


@dataclass(frozen=True)
class ContactInfo:
    """The person the message goes to.  First/last name derive from ``name``."""

    name: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    salutation: str = ""

    def __post_init__(self) -> None:
        parts = _name_parts(self.name)
        if not self.first_name and parts:
            object.__setattr__(self, "first_name", parts[0])
        if not self.last_name and len(parts) > 1:
            object.__setattr__(self, "last_name", parts[-1])
        if not self.name and (self.first_name or self.last_name):
            full = " ".join(p for p in (self.first_name, self.last_name) if p)
            object.__setattr__(self, "name", full)

    @classmethod
    def coerce(cls, value: ContactInfo | Mapping[str, Any] | str | None) -> ContactInfo:
        if isinstance(value, ContactInfo):
            return value
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(name=value.strip())
        return cls(
            **{
                key: str(value.get(key) or "").strip()
                for key in ("name", "first_name", "last_name", "company", "salutation")
            }
        )

    @property
    def display(self) -> str:
        return self.name or "this contact"

    def tokens(self) -> set[str]:
        """Lower-case name parts, including both halves of "Mary-Jane"."""
        out: set[str] = set()
        for text in (self.name, self.first_name, self.last_name, self.salutation):
            for part in _name_parts(text):
                low = part.lower()
                out.add(low)
                out.update(p for p in re.split(r"[-'\u2019]", low) if len(p) > 1)
        return out


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = re.split(r"[,;\n]", value)
    else:
        items = value
    return tuple(t for t in (str(i).strip() for i in items if i is not None) if t)


@dataclass(frozen=True)
class Notes:
    """The candidate's notes on this interviewer."""

    specific_point: str = ""
    topics: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()

    @classmethod
    def coerce(cls, value: Notes | Mapping[str, Any] | None) -> Notes:
        if isinstance(value, Notes):
            return value
        if not value:
            return cls()
        return cls(
            specific_point=str(value.get("specific_point") or "").strip(),
            topics=_as_tuple(value.get("topics")),
            skills=_as_tuple(value.get("skills")),
        )

    def items(self) -> list[str]:
        return [t for t in (self.specific_point, *self.topics, *self.skills) if t]

    @property
    def is_empty(self) -> bool:
        return not self.items()


@dataclass(frozen=True)
class CheckContext:
    """What the checks know about the touch.

    ``contact`` and ``notes`` accept plain dicts; ``other_contacts`` are names
    (strings, or dicts with a "name") of the candidate's other contacts (the
    rest of the panel and anyone else), ``other_companies`` the companies of
    the candidate's other applications.  ``limits`` overrides
    :data:`DEFAULT_LIMITS` (policy settings).  ``candidate_name`` and
    ``position`` are optional and only reduce false positives.
    """

    step: str
    channel: str
    contact: ContactInfo = field(default_factory=ContactInfo)
    other_contacts: tuple[str, ...] = ()
    other_companies: tuple[str, ...] = ()
    notes: Notes = field(default_factory=Notes)
    limits: Mapping[str, int] = field(default_factory=dict)
    candidate_name: str = ""
    position: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "contact", ContactInfo.coerce(self.contact))
        object.__setattr__(self, "notes", Notes.coerce(self.notes))
        others = tuple(
            str(o.get("name") or "").strip() if isinstance(o, Mapping) else str(o).strip()
            for o in (self.other_contacts or ())
        )
        object.__setattr__(self, "other_contacts", tuple(o for o in others if o))
        object.__setattr__(self, "other_companies", _as_tuple(self.other_companies))
        limits = {k: int(v) for k, v in dict(self.limits or {}).items() if v is not None}
        object.__setattr__(self, "limits", {**DEFAULT_LIMITS, **limits})

    @classmethod
    def from_template_context(
        cls,
        context: Mapping[str, Mapping[str, Any]],
        *,
        other_contacts: Sequence[Any] = (),
        other_companies: Sequence[str] = (),
        limits: Mapping[str, int] | None = None,
        step: str | None = None,
        channel: str | None = None,
    ) -> CheckContext:
        """Build from a :func:`api.templating.build_context` namespace."""
        touch = context.get("touch", {})
        contact = dict(context.get("contact", {}))
        if not contact.get("company"):
            contact["company"] = context.get("application", {}).get("company", "")
        return cls(
            step=step or str(touch.get("step", "")),
            channel=channel or str(touch.get("channel", "")),
            contact=ContactInfo.coerce(contact),
            other_contacts=tuple(other_contacts),
            other_companies=tuple(other_companies),
            notes=Notes.coerce(context.get("notes")),
            limits=dict(limits or {}),
            candidate_name=str(context.get("candidate", {}).get("name", "")),
            position=str(context.get("application", {}).get("position", "")),
        )

    def max_words(self) -> int:
        return int(self.limits.get(f"{self.step}_max_words", self.limits["max_words"]))

    def max_sms_segments(self) -> int:
        return int(self.limits["sms_max_segments"])


Check = Callable[[MessageLike, CheckContext], Iterable[Finding]]
