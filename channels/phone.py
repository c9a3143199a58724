"""Phone number checks shared by the phone channels (E.164, via phonenumbers)."""

from __future__ import annotations

import phonenumbers


def check_phone_number(number: str | None) -> str | None:
    """``None`` for a valid international number written in E.164 (``+14155550100``),
    else what is wrong. Numbers are stored in E.164; formatting is the UI's job."""
    if not isinstance(number, str) or not number.strip():
        return "a phone number is required"
    if not number.startswith("+") or not number[1:].isdigit():
        return "write the number in E.164 form: + country code and digits, like +14155550100"
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        return f"not a phone number: {exc}"
    if not phonenumbers.is_valid_number(parsed):
        return "not a valid phone number for its country"
    return None
