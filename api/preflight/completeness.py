"""Checks that the message is complete enough to send (R13).

An empty body, an email without a subject, unfilled template placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from api.preflight.model import BLOCK, CheckContext, Finding, MessageLike
from api.preflight.text import _full_text, _needs_body, _quote_list, _unique


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
