"""The length check (R12) and the SMS arithmetic it needs.

Words per step, and SMS segments (GSM-7 vs UCS-2) for text messages.
"""

from __future__ import annotations

from collections.abc import Iterator

from api.preflight.model import BLOCK, CheckContext, Finding, MessageLike
from api.preflight.text import _needs_body, _quote_list, _step_label, _unique, word_count

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
