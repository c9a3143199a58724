"""Log lines name touches by id, never people: what a provider said is redacted first.

A provider's reply is kept whole on the touch (the candidate reads why a send failed), but
it may echo the recipient (``550 5.1.1 <dana@acme.example>: Recipient address rejected``)
or a phone number; a log line, which outlives an erasure in whatever collects the logs,
keeps only the shape of it.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")
_PHONE = re.compile(r"\+\d[\d ().-]{6,}\d")


def redact(text: str | None) -> str | None:
    """``text`` with email addresses as ``<email>`` and phone numbers (``+...``) as ``<phone>``."""
    if not text:
        return text
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))
