"""The message check ("preflight"): rules R1, R3, R12, R13 on a rendered message.

Run when a touch is scheduled and again right before it is sent.  Pure package:
no Flask, no database, no I/O.  One module per check family; this package
re-exports the public names so callers import from ``api.preflight``.

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

from api.preflight.completeness import empty_body as empty_body
from api.preflight.completeness import missing_subject as missing_subject
from api.preflight.completeness import placeholders as placeholders
from api.preflight.greeting import generic_greeting as generic_greeting
from api.preflight.greeting import missing_greeting as missing_greeting
from api.preflight.length import is_gsm7, sms_segments
from api.preflight.length import length as length
from api.preflight.model import (
    BLOCK,
    DEFAULT_LIMITS,
    WARN,
    Check,
    CheckContext,
    ContactInfo,
    Finding,
    Message,
    Notes,
)
from api.preflight.model import MessageLike as MessageLike
from api.preflight.model import Severity as Severity
from api.preflight.recipient import wrong_company as wrong_company
from api.preflight.recipient import wrong_person as wrong_person
from api.preflight.runner import BUILTIN_CHECKS, blocking, run_checks
from api.preflight.text import word_count
from api.preflight.thank_you import missing_enthusiasm as missing_enthusiasm
from api.preflight.thank_you import missing_gratitude as missing_gratitude
from api.preflight.thank_you import missing_specific_point as missing_specific_point
from api.preflight.tone import emoji as emoji
from api.preflight.tone import exclamation_marks as exclamation_marks
from api.preflight.tone import shouting as shouting
from api.preflight.tone import slang as slang

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
