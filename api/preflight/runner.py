"""The entry points: :func:`run_checks`, :func:`blocking`, the built-in list.

Kept apart from :mod:`.model` because it imports every check family, which
themselves import the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from api.preflight.completeness import empty_body, missing_subject, placeholders
from api.preflight.greeting import generic_greeting, missing_greeting
from api.preflight.length import length
from api.preflight.model import BLOCK, WARN, Check, CheckContext, Finding, Message
from api.preflight.recipient import wrong_company, wrong_person
from api.preflight.thank_you import missing_enthusiasm, missing_gratitude, missing_specific_point
from api.preflight.tone import emoji, exclamation_marks, shouting, slang


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
