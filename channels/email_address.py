"""The one rule for an email address: where the API takes one and where the email channel
sends to one, so the two can never disagree.

email-validator does the syntax (RFC 5322/6531, IDNA domains) better than a pattern would.
Never DNS: deliverability is the SMTP server's answer at send time, and a check that needs
the network would fail offline. Internationalised addresses are accepted: the email
channel sends them with SMTPUTF8 (a server that does not offer it answers
``smtp:smtputf8_unsupported``), and writes them to the outbox as they are. Special-use
domains (``localhost``, ``.local``, ``.test``, ``.invalid``...) cannot receive mail and are
refused; ``.example`` is allowed, as email-validator allows it, for documentation.
"""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254  # RFC 5321 path limit, and the columns' size


@functools.lru_cache(maxsize=4096)
def email_address_problem(address: str) -> str | None:
    """``None`` for an address mail can be sent to, else what is wrong with it. Cached:
    the worker checks the same senders over and over."""
    if not isinstance(address, str) or not address:
        return "an email address is required"
    if len(address) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    try:
        validate_email(
            address,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        return str(exc)
    return None
