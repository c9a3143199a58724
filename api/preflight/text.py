"""Text helpers shared by the check families.

Counting words, quoting lists in findings, whole-word patterns and the
``_needs_body`` guard that keeps content checks quiet on an empty body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from api.preflight.model import Check, CheckContext, Finding, MessageLike

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
