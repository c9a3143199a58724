"""SMS segment counting (GSM 03.38 / UCS-2), as carriers and Twilio count them.

A text made only of GSM-7 characters is sent in 7-bit septets: 160 per single
message, 153 per part of a multi-part message (7 go to the concatenation
header). The extension characters ``^ { } \\ [ ~ ] | €`` and form feed take two
septets (escape + char) and are never split across parts. Any other character
switches the whole message to UCS-2: 70 UTF-16 code units single, 67 per part;
a character outside the BMP (most emoji) takes two code units, never split.

The policy (R12: "SMS <= 2 segments") and the preflight use :func:`count_segments`;
the SMS channel refuses, before calling Twilio, a body over its ``max_segments``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# Typographic characters that force UCS-2 although a GSM-7 look-alike exists.
# Twilio's "smart encoding" makes the same kind of replacements.
SMART_REPLACEMENTS = {
    "\u2018": "'",  # left single quote
    "\u2019": "'",  # right single quote / apostrophe
    "\u201a": "'",  # low single quote
    "\u201b": "'",
    "\u2032": "'",  # prime
    "\u201c": '"',  # left double quote
    "\u201d": '"',  # right double quote
    "\u201e": '"',  # low double quote
    "\u2033": '"',  # double prime
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # ellipsis
    "\u00a0": " ",  # no-break space
    "\u2009": " ",  # thin space
    "\u202f": " ",
    "\u200b": "",  # zero-width space
    "\u2022": "-",  # bullet
}


@dataclass(frozen=True)
class SegmentInfo:
    """How a text would be sent as SMS."""

    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    """Number of SMS parts (0 for an empty text)."""
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2) in the whole text."""
    per_segment: int
    """Capacity of one part at this length (160/153 or 70/67)."""
    non_gsm: tuple[str, ...] = ()
    """The characters that forced UCS-2, in order of first appearance."""


def gsm_units(char: str) -> int | None:
    """Septets ``char`` takes in GSM-7, or ``None`` if it is not GSM-7."""
    if char in GSM7_BASIC:
        return 1
    if char in GSM7_EXTENSION:
        return 2
    return None


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` exists in GSM-7 (basic or extension)."""
    return all(gsm_units(c) is not None for c in text)


def smart_normalize(text: str) -> str:
    """Replace typographic quotes, dashes, ellipses and odd spaces with GSM-7
    equivalents, so a text is not pushed into UCS-2 (half the capacity) by a
    curly apostrophe. Other characters are left alone."""
    return "".join(SMART_REPLACEMENTS.get(c, c) for c in text)


def _pack(costs: list[int], single: int, multi: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:  # a character is never split across parts
            segments += 1
            used = 0
        used += cost
    return segments


def count_segments(text: str) -> SegmentInfo:
    """Count the SMS segments of ``text`` (see the module docstring for the rules)."""
    gsm_costs = [gsm_units(c) for c in text]
    if all(cost is not None for cost in gsm_costs):
        costs = [c for c in gsm_costs if c is not None]
        segments = _pack(costs, GSM7_SINGLE, GSM7_MULTI)
        per = GSM7_SINGLE if segments <= 1 else GSM7_MULTI
        return SegmentInfo("GSM-7", segments, sum(costs), per)
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    segments = _pack(costs, UCS2_SINGLE, UCS2_MULTI)
    per = UCS2_SINGLE if segments <= 1 else UCS2_MULTI
    non_gsm = tuple(dict.fromkeys(c for c, cost in zip(text, gsm_costs, strict=True) if not cost))
    return SegmentInfo("UCS-2", segments, sum(costs), per, non_gsm)
