"""The greeting line: its parsing (R1, R13) and the greeting checks (R13).

:func:`_parse_greeting` reads the names a message opens with (``wrong_person``
uses it too); ``generic_greeting`` and ``missing_greeting`` judge the opening.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from api.preflight.model import (
    _HONORIFICS,
    BLOCK,
    WARN,
    CheckContext,
    ContactInfo,
    Finding,
    MessageLike,
)
from api.preflight.text import _needs_body

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
