"""The message check ("preflight"): rules R1, R3, R12, R13 on a rendered message.

Run when a touch is scheduled and again right before it is sent.  Pure module:
no Flask, no database, no I/O.

Usage::

    ctx = CheckContext(
        step="thank_you", channel="email",
        contact={"name": "Dana Jones", "company": "Initech"},
        other_contacts=["Raj Patel"], other_companies=["Globex"],
        notes={"specific_point": "moving billing to event sourcing"},
        limits={"thank_you_max_words": 150},
    )
    findings = run_checks(subject, body, ctx)
    if blocking(findings): ...   # refuse to schedule / send

Checks
------
A check is any callable ``check(message, ctx) -> Iterable[Finding]``:
``message`` has ``.subject`` and ``.body`` (plain strings, ``subject`` is ""
for SMS and calls) and ``ctx`` is the :class:`CheckContext`.  It yields nothing
when the message is fine.  Plugins pass extra checks through
``run_checks(..., extra_checks=[...])``; a plugin check that raises, or yields
something that is not a :class:`Finding`, is reported as a ``warn`` finding
named after it instead of breaking the whole check.

Built-in checks (stable names; rule; severity):

=========================  =====  ==============================================
``empty_body``             R13    block: nothing to send
``missing_subject``        R13    block: an email without a subject
``placeholders``           R13    block: ``[Company Name]``, ``{{ x }}``, ``{x}``,
                                  ``<NAME>``, ``XXX``, ``TODO``...
``wrong_person``           R1     block: the greeting names someone other than
                                  the contact; warn: the text mentions another of
                                  the candidate's contacts (may be legitimate,
                                  e.g. "please thank Raj for me")
``wrong_company``          R1     block: the text names the company of another
                                  application
``generic_greeting``       R13    block: "To whom it may concern", "Dear Sir or
                                  Madam"; warn: "Dear Hiring Manager", "Hi team"
``missing_greeting``       R13    warn: an email that does not open by name
``missing_specific_point`` R3     thank-you only; block: notes exist but nothing
                                  from them appears; warn: there are no notes
``missing_gratitude``      R3/R9  warn: a thank-you / post-rejection note that
                                  thanks nobody
``missing_enthusiasm``     R3     warn: a thank-you without renewed interest
``length``                 R12    block: more words than the step allows; an SMS
                                  over the segment limit
``emoji``                  R13    block: emojis or emoticons such as ``:)``
``exclamation_marks``      R13    block: more than one "!" in the message (R13
                                  lists "excessive exclamation marks" with emojis;
                                  one is tolerated, two are excessive)
``slang``                  R13    warn: "gonna", "thx", "u", "btw"...
``shouting``               R13    warn: words in capital letters
=========================  =====  ==============================================
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "BLOCK",
    "BUILTIN_CHECKS",
    "DEFAULT_LIMITS",
    "WARN",
    "Check",
    "CheckContext",
    "ContactInfo",
    "Finding",
    "Message",
    "Notes",
    "blocking",
    "is_gsm7",
    "run_checks",
    "sms_segments",
    "word_count",
]

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


# --------------------------------------------------------------------------- #
# Running
# --------------------------------------------------------------------------- #


def _check_name(check: Callable[..., Any]) -> str:
    return str(getattr(check, "check_name", None) or getattr(check, "__name__", repr(check)))


def run_checks(
    subject: str | None,
    body: str | None,
    ctx: CheckContext,
    extra_checks: Iterable[Check] = (),
) -> list[Finding]:
    """Run the built-in checks, then ``extra_checks``; return all findings.

    Findings come in check order.  Built-in checks never raise on any input;
    a failing extra check becomes a ``warn`` finding named after it.
    """
    message = Message(subject=subject or "", body=body or "")
    findings: list[Finding] = []
    for check in BUILTIN_CHECKS:
        findings.extend(check(message, ctx))
    for check in extra_checks:
        name = _check_name(check)
        try:
            produced = list(check(message, ctx) or ())
        except Exception as exc:
            findings.append(
                Finding(
                    check=name,
                    rule=None,
                    severity=WARN,
                    detail=f'The check "{name}" could not run ({type(exc).__name__}: {exc}).',
                )
            )
            continue
        for item in produced:
            if isinstance(item, Finding):
                findings.append(item)
            else:
                findings.append(
                    Finding(
                        check=name,
                        rule=None,
                        severity=WARN,
                        detail=f'The check "{name}" returned something that is not a finding.',
                    )
                )
    return findings


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that stop the touch from being scheduled or sent."""
    return [f for f in findings if f.severity == BLOCK]


# --------------------------------------------------------------------------- #
# Text helpers
# --------------------------------------------------------------------------- #

_STEP_LABELS = {
    "thank_you": "a thank-you note",
    "follow_up": "a follow-up",
    "call": "a call script",
    "post_rejection": "a note after a rejection",
    "next_round_reply": "a reply to a next-round invitation",
    "custom": "this message",
}


def _step_label(step: str) -> str:
    return _STEP_LABELS.get(step, "this message")


def _full_text(message: MessageLike) -> str:
    return f"{message.subject}\n{message.body}" if message.subject else message.body


def _quote_list(items: Sequence[str], limit: int = 3) -> str:
    """'"a"', '"a" and "b"', '"a", "b", "c" and 2 more'."""
    shown = [f'"{i}"' for i in items[:limit]]
    more = len(items) - limit
    if more > 0:
        return f"{', '.join(shown)} and {more} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def word_count(text: str) -> int:
    """Words as a reader counts them: whitespace-separated runs with a letter
    or digit ("\u2014" alone is not a word)."""
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


def _bounded(literal: str, flags: int = 0) -> re.Pattern[str]:
    """``literal`` as a whole word or phrase (no letter/digit just before/after)."""
    words = [re.escape(w) for w in literal.split()]
    return re.compile(r"(?<![\w])" + r"\s+".join(words) + r"(?![\w])", flags)


def _needs_body(check: Callable[[MessageLike, CheckContext], Iterator[Finding]]) -> Check:
    """Content checks say nothing about an empty body (``empty_body`` does)."""

    def wrapper(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
        if not (message.body or "").strip():
            return iter(())
        return check(message, ctx)

    wrapper.__name__ = check.__name__
    wrapper.__doc__ = check.__doc__
    return wrapper


# --------------------------------------------------------------------------- #
# Structure: empty body, subject
# --------------------------------------------------------------------------- #


def empty_body(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if not (message.body or "").strip():
        yield Finding("empty_body", "R13", BLOCK, "The message is empty: there is nothing to send.")


def missing_subject(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.channel == "email" and not (message.subject or "").strip():
        yield Finding(
            "missing_subject",
            "R13",
            BLOCK,
            "The email has no subject line; add one so the recipient knows what it is about.",
        )


# --------------------------------------------------------------------------- #
# Placeholders (R13)
# --------------------------------------------------------------------------- #

_PLACEHOLDER_PATTERNS = (
    re.compile(r"\[[^\[\]\n]{0,60}[A-Za-z][^\[\]\n]{0,60}\]"),  # [Company Name]
    re.compile(r"\{\{.*?\}\}|\{%.*?%\}"),  # {{ name }}, {% if %}
    re.compile(r"\$\{[^}\n]{1,40}\}"),  # ${name}
    re.compile(r"(?<!\$)\{[A-Za-z_][\w .'\u2019-]{0,40}\}"),  # {name}
    re.compile(r"%\(\w+\)[sd]"),  # %(name)s
    re.compile(r"<[A-Za-z][A-Za-z _'\u2019-]{0,40}>"),  # <NAME>
    re.compile(r"(?<![\w])[Xx]{3,}(?![\w])"),  # XXX
    re.compile(r"(?<![\w])(?:TODO|FIXME|TKTK)(?![\w])"),
)


@_needs_body
def placeholders(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    text = _full_text(message)
    found = _unique(m.group(0) for p in _PLACEHOLDER_PATTERNS for m in p.finditer(text))
    if found:
        noun = "placeholder" if len(found) == 1 else "placeholders"
        yield Finding(
            "placeholders",
            "R13",
            BLOCK,
            f"The message still contains the unfilled {noun} {_quote_list(found)}; "
            f"replace {'it' if len(found) == 1 else 'them'} with the real text before sending.",
        )


# --------------------------------------------------------------------------- #
# Greeting parsing (R1, R13)
# --------------------------------------------------------------------------- #

_GREETING = re.compile(
    r"^\s*(?P<word>dear|hi|hello|hey|hiya|greetings|good\s+(?:morning|afternoon|evening))\b"
    r"(?P<rest>[^\n]*)",
    re.IGNORECASE,
)
_GENERIC_WORDS = frozenset(
    {
        "all",
        "everyone",
        "everybody",
        "there",
        "team",
        "hiring",
        "manager",
        "managers",
        "recruiter",
        "recruiters",
        "recruiting",
        "recruitment",
        "talent",
        "acquisition",
        "hr",
        "folks",
        "friends",
        "guys",
        "colleagues",
        "sir",
        "madam",
        "sirs",
        "whom",
        "committee",
        "panel",
        "department",
        "the",
        "of",
        "or",
    }
)
_CONNECTORS = frozenset({"and", "&", "/", "or"})


@dataclass(frozen=True)
class _NameGroup:
    display: str  # as written, e.g. "Mr. Patel"
    tokens: tuple[str, ...]  # lower-case name parts without honorifics, e.g. ("patel",)
    titled: bool = False  # written with an honorific ("Mr.", "Dr.")


@dataclass(frozen=True)
class _Greeting:
    line: str
    line_index: int
    groups: tuple[_NameGroup, ...]


def _first_line(body: str) -> tuple[int, str]:
    for index, line in enumerate(body.split("\n")):
        if line.strip():
            return index, line
    return -1, ""


def _parse_greeting(body: str) -> _Greeting | None:
    index, line = _first_line(body)
    match = _GREETING.match(line)
    if not match:
        return None
    rest = match.group("rest")
    groups: list[_NameGroup] = []
    if rest[:1] in (" ", "\t"):
        # The names end at the first comma / colon / ! / ? / dash.
        names_text = re.split(r"[,:;!?()]|\s[-\u2013\u2014]\s", rest, maxsplit=1)[0]
        current_display: list[str] = []
        current_tokens: list[str] = []

        def close() -> None:
            if current_tokens:
                titled = any(d.strip(".").lower() in _HONORIFICS for d in current_display)
                groups.append(_NameGroup(" ".join(current_display), tuple(current_tokens), titled))
            current_display.clear()
            current_tokens.clear()

        for raw in names_text.split():
            bare = raw.strip(".,'\u2019\"")
            low = bare.lower()
            if low in _CONNECTORS or raw in _CONNECTORS:
                close()
                continue
            if not bare:
                continue
            if low in _HONORIFICS:
                current_display.append(raw)
                continue
            if not bare[0].isupper():
                break  # "Dana and team", "Dana, I wanted" -> stop at lower-case words
            current_display.append(bare)
            if len(low) > 1:  # an initial ("J.") says too little to compare
                current_tokens.append(low)
            if raw.endswith(".") and len(bare) > 1:
                break  # end of a sentence: "Hello Dana. I wanted..."
        close()
    return _Greeting(line=line.strip(), line_index=index, groups=tuple(groups))


def _company_tokens(*companies: str) -> set[str]:
    out: set[str] = set()
    for company in companies:
        out.update(w.lower() for w in re.findall(r"[\w&]+", company))
    return out


def _nickname_of(token: str, first_name: str) -> bool:
    """A short form of the first name: "Dan" for "Dana" or "Daniel"."""
    first = first_name.lower()
    if len(token) < 3 or len(first) < 3:
        return False
    return first.startswith(token) or token.startswith(first)


def _matches_contact(group: _NameGroup, contact: ContactInfo) -> bool:
    own = contact.tokens()
    if all(t in own for t in group.tokens):
        return True
    if group.titled and not contact.last_name and len(group.tokens) == 1:
        return True  # "Dear Ms. Jones" to a contact known only as "Dana": cannot tell
    return len(group.tokens) == 1 and _nickname_of(group.tokens[0], contact.first_name)


def _other_contact_for(group: _NameGroup, others: Sequence[str]) -> str | None:
    for other in others:
        tokens = ContactInfo(name=other).tokens()
        if all(t in tokens for t in group.tokens):
            return other
    return None


# --------------------------------------------------------------------------- #
# Wrong person / company (R1)
# --------------------------------------------------------------------------- #

# First names that are also ordinary words: too ambiguous to flag on their own.
_WORDLIKE_NAMES = frozenset(
    {
        "will",
        "may",
        "june",
        "april",
        "august",
        "mark",
        "bill",
        "grace",
        "hope",
        "joy",
        "faith",
        "rose",
        "summer",
        "dawn",
        "art",
        "pat",
        "rob",
        "frank",
        "jack",
        "guy",
        "chase",
        "hunter",
        "page",
        "sky",
        "rich",
        "max",
        "drew",
        "miles",
        "ray",
        "ivy",
        "iris",
        "holly",
        "amber",
        "ruby",
        "pearl",
        "crystal",
        "angel",
        "charity",
        "honor",
        "justice",
        "earl",
        "carol",
        "eve",
        "jean",
        "lance",
        "penny",
        "sandy",
        "sage",
        "victor",
        "young",
        "white",
        "black",
        "brown",
        "green",
        "long",
        "king",
        "bishop",
        "baker",
        "cook",
        "wood",
    }
)


def _person_patterns(other: str, ctx: CheckContext) -> tuple[re.Pattern[str], ...]:
    contact = ctx.contact
    return _patterns_for(
        other,
        contact.last_name.lower(),
        frozenset(contact.tokens()),
        ContactInfo(name=ctx.candidate_name).first_name.lower(),
        frozenset(_company_tokens(contact.company)),
    )


@functools.lru_cache(maxsize=4096)
def _patterns_for(
    other: str,
    contact_last: str,
    contact_tokens: frozenset[str],
    candidate_first: str,
    company_tokens: frozenset[str],
) -> tuple[re.Pattern[str], ...]:
    """Cached: the worker checks every note of a panel against the same few contacts."""
    person = ContactInfo(name=other)
    parts = _name_parts(other)
    patterns = [_bounded(" ".join(parts), re.IGNORECASE)] if len(parts) > 1 else []
    last = person.last_name
    if last and last.lower() != contact_last and last.lower() not in _WORDLIKE_NAMES:
        patterns.append(
            re.compile(
                r"(?<![\w])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+" + re.escape(last) + r"(?![\w])",
                re.IGNORECASE,
            )
        )
    first = person.first_name
    if (
        first
        and len(first) >= 3
        and first.lower() not in contact_tokens
        and first.lower() != candidate_first
        and first.lower() not in _WORDLIKE_NAMES
        and first.lower() not in company_tokens
    ):
        patterns.append(_bounded(first))  # case-sensitive: a name is capitalised
    return tuple(patterns)


@_needs_body
def wrong_person(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    contact = ctx.contact
    if not contact.name:
        return
    greeting = _parse_greeting(message.body)
    company_words = _company_tokens(contact.company, *ctx.other_companies)
    if greeting:
        for group in greeting.groups:
            if all(t in _GENERIC_WORDS or t in company_words for t in group.tokens):
                continue  # "Dear Hiring Manager", "Hi Initech team": not a person
            if _matches_contact(group, contact):
                continue
            other = _other_contact_for(group, ctx.other_contacts)
            who = (
                f" ({other}, another of your contacts)" if other and other != group.display else ""
            )
            yield Finding(
                "wrong_person",
                "R1",
                BLOCK,
                f'The greeting names "{group.display}"{who} but this note goes to {contact.name}.',
            )

    lines = message.body.split("\n")
    if greeting:
        lines = lines[greeting.line_index + 1 :]
    text = "\n".join([message.subject, *lines])
    own_full = " ".join(_name_parts(contact.name)).lower()
    lowered = text.lower()
    for other in _unique(ctx.other_contacts):
        parts = _name_parts(other)
        if not any(part.lower() in lowered for part in parts):
            continue  # every pattern needs one of the names: most contacts stop here
        if " ".join(parts).lower() in (own_full, ""):
            continue
        if ctx.candidate_name and other.lower() == ctx.candidate_name.lower():
            continue
        for pattern in _person_patterns(other, ctx):
            match = pattern.search(text)
            if match:
                mention = match.group(0)
                like = "" if mention.lower() == other.lower() else f", which looks like {other}"
                yield Finding(
                    "wrong_person",
                    "R1",
                    WARN,
                    f'The message mentions "{mention}"{like}, another of your contacts, but it '
                    f"goes to {contact.name}. Make sure it was written for {contact.name} and "
                    "not copied from another note.",
                )
                break


_LEGAL_SUFFIX = re.compile(
    r"[\s,]+(?:inc|incorporated|llc|l\.l\.c|ltd|limited|corp|corporation|co|company|gmbh|ag|sa|"
    r"s\.a|bv|b\.v|plc|pty|srl|sas|oy|ab|as|kg|nv|n\.v|llp|lp)\.?$",
    re.IGNORECASE,
)


def _company_variants(name: str) -> list[str]:
    name = " ".join(name.split())
    variants = [name]
    stripped = _LEGAL_SUFFIX.sub("", name).strip()
    if stripped and stripped != name and len(stripped) >= 2:
        variants.append(stripped)
    return variants


def _company_pattern(variant: str) -> re.Pattern[str]:
    # A single capitalised word ("Target", "Apple", "Square") is matched
    # case-sensitively so the ordinary word ("target", "apple") does not count.
    single_word = re.fullmatch(r"[A-Z][a-z]+", variant) is not None
    return _bounded(variant, 0 if single_word else re.IGNORECASE)


@_needs_body
def wrong_company(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    own = ctx.contact.company
    own_variants = {v.lower() for v in _company_variants(own)} if own else set()
    text = _full_text(message)
    # Blank out what legitimately belongs to this touch first: "Acme" must not
    # be found inside "Acme Robotics" when Acme Robotics is the right company,
    # nor inside the position title or the notes on this interviewer.
    legit = [*own_variants, ctx.position, *ctx.notes.items()]
    for phrase in sorted((p for p in legit if p.strip()), key=len, reverse=True):
        text = _bounded(phrase, re.IGNORECASE).sub(" ", text)
    for other in _unique(ctx.other_companies):
        variants = _company_variants(other)
        if own_variants & {v.lower() for v in variants}:
            continue
        for variant in variants:
            match = _company_pattern(variant).search(text)
            if match:
                target = f"{ctx.contact.name} at {own}" if own else ctx.contact.display
                yield Finding(
                    "wrong_company",
                    "R1",
                    BLOCK,
                    f'The message mentions "{match.group(0)}", the company of another of your '
                    f"applications, but this note goes to {target}.",
                )
                break


# --------------------------------------------------------------------------- #
# Greetings (R13)
# --------------------------------------------------------------------------- #

_IMPERSONAL = (
    re.compile(r"to\s+whom\s+it\s+may\s+concern", re.IGNORECASE),
    re.compile(r"(?<![\w])dear\s+(?:sir|madam)(?:\s*(?:or|/)\s*(?:sir|madam))?(?![\w])", re.I),
    re.compile(r"(?<![\w])(?:sir\s*(?:or|/)\s*madam|madam\s*(?:or|/)\s*sir)(?![\w])", re.I),
)
_ROLE_GREETING = re.compile(
    r"^\s*(?:dear|hi|hello|hey|greetings|good\s+(?:morning|afternoon|evening))\s*,?\s+"
    r"(?:the\s+)?(?:(?-i:[A-Z])[\w&.'\u2019-]*\s+){0,3}?"
    r"(?:hiring\s+manager|hiring\s+team|recruit\w*|team|all|everyone|everybody|there|folks|"
    r"hr|talent\s+\w+|committee|panel)(?![\w])",
    re.IGNORECASE,
)


def _suggestion(contact: ContactInfo) -> str:
    return f'"Dear {contact.salutation or contact.name},"'


@_needs_body
def generic_greeting(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    who = ctx.contact.name
    fix = f"address {who} by name, e.g. {_suggestion(ctx.contact)}" if who else "use a name"
    for pattern in _IMPERSONAL:
        match = pattern.search(message.body)
        if match:
            yield Finding(
                "generic_greeting",
                "R13",
                BLOCK,
                f'The message opens with "{match.group(0)}", which is impersonal; {fix}.',
            )
            return
    _, line = _first_line(message.body)
    match = _ROLE_GREETING.match(line)
    if match:
        yield Finding(
            "generic_greeting",
            "R13",
            WARN,
            f'The greeting "{match.group(0).strip()}" does not name the person; {fix}.',
        )


@_needs_body
def missing_greeting(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    contact = ctx.contact
    if ctx.channel != "email" or not contact.name:
        return
    _, line = _first_line(message.body)
    if _GREETING.match(line) or any(p.search(line) for p in _IMPERSONAL):
        return
    words = {w.lower() for w in re.findall(r"[\w'\u2019-]+", line)}
    if words & contact.tokens():
        return
    yield Finding(
        "missing_greeting",
        "R13",
        WARN,
        f"The email does not open by addressing {contact.name} by name; "
        f"start with a greeting such as {_suggestion(contact)}.",
    )


# --------------------------------------------------------------------------- #
# Thank-you content (R3, R9)
# --------------------------------------------------------------------------- #

_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours
    really great good lot lots new like want wants need needs get got make made use used using
    well way part time thing things next step steps team teams role roles company companies
    position job jobs work working worked interview interviews interviewer discussion discussed
    discuss conversation talked talk talking mentioned mention chat chatted opportunity
    experience project projects their we'll i'm it's especially enjoyed thank thanks learning
    learned hear hearing"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#]*")


def _significant_words(text: str, exclude: set[str]) -> list[str]:
    out: list[str] = []
    for raw in _TOKEN.findall(text):
        low = raw.lower()
        if low in _STOPWORDS or low in exclude:
            continue
        # Short words count only when written like a term: "Go", "AI", "K8s", "C#".
        if len(low) >= 4 or (len(low) >= 2 and (raw[0].isupper() or not low.isalpha())):
            out.append(low)
    return _unique(out)


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if shorter < 4 or not a.isalpha() or not b.isalpha():
        return False
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    return prefix >= max(4, math.ceil(0.75 * shorter))


def _mentions(item_words: list[str], body_words: set[str]) -> bool:
    needed = min(2, len(item_words))
    hits = sum(1 for w in item_words if any(_similar(w, b) for b in body_words))
    return needed > 0 and hits >= needed


@_needs_body
def missing_specific_point(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.step != "thank_you":
        return
    who = ctx.contact.display
    exclude = {w.lower() for w in _TOKEN.findall(" ".join((ctx.contact.name, ctx.candidate_name)))}
    exclude |= {w.lower() for w in _TOKEN.findall(f"{ctx.contact.company} {ctx.position}")}
    items = [(item, _significant_words(item, exclude)) for item in ctx.notes.items()]
    items = [(item, words) for item, words in items if words]
    if not items:
        yield Finding(
            "missing_specific_point",
            "R3",
            WARN,
            f"There are no usable interview notes on {who}, so nothing confirms that this "
            "thank-you mentions something specific from your conversation. Add a specific "
            "point to your notes, or make sure the note mentions one.",
        )
        return
    body_words = {w.lower() for w in _TOKEN.findall(_full_text(message))}
    if any(_mentions(words, body_words) for _, words in items):
        return
    example = items[0][0]
    yield Finding(
        "missing_specific_point",
        "R3",
        BLOCK,
        f"The thank-you does not mention anything from your notes on {who} "
        f'(for example "{example}"); refer to a specific point from your conversation.',
    )


_GRATITUDE = re.compile(r"(?<![\w])(?:thank|grateful|gratitude|appreciat)", re.IGNORECASE)
_ENTHUSIASM = re.compile(
    r"(?<![\w])(?:excit|enthusias|eager|keen|look(?:ing)?\s+forward|interest|thrill|delight|"
    r"passion|motivat|energi[sz]|inspir|would\s+(?:love|welcome)|glad\s+to\s+join|"
    r"can'?t\s+wait|happy\s+to\s+(?:join|contribute))",
    re.IGNORECASE,
)


@_needs_body
def missing_gratitude(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.step not in ("thank_you", "post_rejection"):
        return
    if _GRATITUDE.search(message.body):
        return
    if ctx.step == "thank_you":
        detail = f"The thank-you never thanks {ctx.contact.display} for their time."
        rule = "R3"
    else:
        detail = (
            f"The note does not thank {ctx.contact.display} for the opportunity; after a "
            "rejection, one short, polite thank-you is what to send."
        )
        rule = "R9"
    yield Finding("missing_gratitude", rule, WARN, detail)


@_needs_body
def missing_enthusiasm(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.step != "thank_you" or _ENTHUSIASM.search(message.body):
        return
    yield Finding(
        "missing_enthusiasm",
        "R3",
        WARN,
        "The thank-you does not say that you are still interested in, or excited about, "
        "the role; add a sentence renewing your interest.",
    )


# --------------------------------------------------------------------------- #
# Length (R12)
# --------------------------------------------------------------------------- #

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM 03.38 alphabet (with extension)."""
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def _pack(units: list[int], single: int, multi: int) -> int:
    total = sum(units)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in units:  # a 2-unit character is never split across segments
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


def sms_segments(text: str) -> int:
    """Number of SMS segments for ``text``.

    GSM-7: 160 characters in one segment, 153 per segment when concatenated;
    extension characters (``^{}\\[~]|€``) take two.  Anything else (emojis,
    curly quotes, most accents) switches the whole message to UCS-2: 70 / 67
    UTF-16 code units (a character outside the BMP takes two).
    """
    if is_gsm7(text):
        return _pack([2 if ch in _GSM7_EXTENDED else 1 for ch in text], 160, 153)
    return _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)


@_needs_body
def length(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    words = word_count(message.body)
    limit = ctx.max_words()
    if words > limit:
        yield Finding(
            "length",
            "R12",
            BLOCK,
            f"The message has {words} words; {_step_label(ctx.step)} should stay within "
            f"{limit} words. Keep it short.",
        )
    if ctx.channel == "sms":
        segments = sms_segments(message.body)
        max_segments = ctx.max_sms_segments()
        if segments > max_segments:
            if is_gsm7(message.body):
                room = 160 if max_segments == 1 else 153 * max_segments
                why = ""
            else:
                room = 70 if max_segments == 1 else 67 * max_segments
                odd = _unique(
                    ch for ch in message.body if ch not in _GSM7_BASIC and ch not in _GSM7_EXTENDED
                )
                why = (
                    f" It contains characters outside the basic SMS alphabet "
                    f"({_quote_list(odd)}), which makes each segment much shorter."
                )
            yield Finding(
                "length",
                "R12",
                BLOCK,
                f"The text message needs {segments} SMS segments; keep it within "
                f"{max_segments} (about {room} characters).{why}",
            )


# --------------------------------------------------------------------------- #
# Tone (R13)
# --------------------------------------------------------------------------- #

_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),  # pictographs, emoticons, transport, flags, supplemental symbols
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x231A, 0x231B),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x20E3, 0x20E3),  # keycap
    (0xFE0F, 0xFE0F),  # emoji presentation selector
)
_EMOTICON = re.compile(r"(?<![\w:;=])[:;=][-^']?[)(\]\[DPp](?![\w])|(?<![\w])[xX]D(?![\w])")


# One character class, so a long message is scanned in C rather than char by char.
_EMOJI_CHAR = re.compile(
    "["
    + "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in _EMOJI_RANGES)
    + "]"
)
_EMOJI_MODIFIERS = ("\ufe0f", "\u20e3")  # only ever part of another emoji


def _is_emoji(ch: str) -> bool:
    return _EMOJI_CHAR.fullmatch(ch) is not None


@_needs_body
def emoji(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    text = _full_text(message)
    found = _unique(
        m.group(0) for m in _EMOJI_CHAR.finditer(text) if m.group(0) not in _EMOJI_MODIFIERS
    )
    found += _unique(m.group(0) for m in _EMOTICON.finditer(text))
    if found:
        yield Finding(
            "emoji",
            "R13",
            BLOCK,
            f"The message contains {_quote_list(found)}; leave out emojis and emoticons to "
            "keep a professional tone.",
        )


@_needs_body
def exclamation_marks(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    count = _full_text(message).count("!")
    if count > 1:
        yield Finding(
            "exclamation_marks",
            "R13",
            BLOCK,
            f"The message has {count} exclamation marks; use at most one to keep a "
            "professional tone.",
        )


_SLANG_WORDS = (
    "gonna",
    "wanna",
    "gotta",
    "kinda",
    "sorta",
    "lol",
    "lmao",
    "rofl",
    "omg",
    "thx",
    "thnx",
    "tnx",
    "pls",
    "plz",
    "btw",
    "imo",
    "imho",
    "tbh",
    "idk",
    "brb",
    "ttyl",
    "cuz",
    "coz",
    "gr8",
    "l8r",
    "ya",
    "yeah",
    "yep",
    "yup",
    "nope",
    "hey",
    "dude",
    "awesome",
    "xoxo",
)
_SLANG = re.compile(
    r"(?<![\w'\u2019-])(?:" + "|".join(_SLANG_WORDS) + r")(?![\w'\u2019-])", re.IGNORECASE
)
# "u" / "ur" only in lower case, and not in abbreviations like "u.s.".
_SLANG_LOWER = re.compile(r"(?<![\w'\u2019.-])(?:u|ur)(?![\w'\u2019-]|\.\w)")


@_needs_body
def slang(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    text = _full_text(message)
    hits = [m.group(0) for m in _SLANG.finditer(text)]
    hits += [m.group(0) for m in _SLANG_LOWER.finditer(text)]
    found = _unique(h for h in hits)
    if found:
        yield Finding(
            "slang",
            "R13",
            WARN,
            f"The message uses informal language ({_quote_list(found)}); rephrase it in a "
            "professional tone.",
        )


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


@_needs_body
def shouting(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    known = {
        w.lower()
        for w in _WORD.findall(
            " ".join(
                (
                    ctx.contact.name,
                    ctx.contact.company,
                    ctx.candidate_name,
                    ctx.position,
                    *ctx.notes.items(),
                    *ctx.other_companies,
                )
            )
        )
    }
    shouted: list[str] = []
    run: list[str] = []

    def flush() -> None:
        # Shouting: three capitalised words in a row ("THANK YOU SO"), or one
        # long one ("EXCITED"); short acronyms ("AWS", "SQL") are fine.
        if not run:
            return
        letters = sum(len(w) for w in run)
        if (len(run) >= 3 and letters >= 10) or any(len(w) >= 6 for w in run):
            shouted.append(" ".join(run))
        run.clear()

    for line in _full_text(message).split("\n"):
        for word in _WORD.findall(line):
            letters = len(word) if word.isalpha() else sum(c.isalpha() for c in word)
            if letters < 2:
                continue  # "I", "A"
            if word.isupper() and word.lower() not in known and word not in ("TODO", "FIXME"):
                run.append(word)
            else:
                flush()
        flush()
    found = _unique(shouted)
    if found:
        yield Finding(
            "shouting",
            "R13",
            WARN,
            f"Parts of the message are in capital letters ({_quote_list(found)}), which reads "
            "as shouting; write them in normal case.",
        )


#: Built-in checks, in the order they run.
BUILTIN_CHECKS: tuple[Check, ...] = (
    empty_body,
    missing_subject,
    placeholders,
    wrong_person,
    wrong_company,
    generic_greeting,
    missing_greeting,
    missing_specific_point,
    missing_gratitude,
    missing_enthusiasm,
    length,
    emoji,
    exclamation_marks,
    slang,
    shouting,
)
