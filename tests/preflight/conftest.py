"""Factories for the message-check (preflight) and templating tests.

The running example: Alex Kim interviewed on a panel at Initech with Dana Jones
(Ms. Jones, engineering manager) and Raj Patel; Alex also knows Dana Smith
(same first name as Dana Jones) and has other applications at Globex and
Umbrella Corporation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from api.preflight import CheckContext, Finding, run_checks
from api.templating import build_context

GOOD_SUBJECT = "Thank you for the Senior Backend Engineer interview"

GOOD_THANK_YOU = """Dear Ms. Jones,

Thank you for taking the time to meet with me about the Senior Backend Engineer role \
at Initech. I especially enjoyed our conversation about moving the billing service to \
event sourcing.

Our discussion made me even more excited about the opportunity to join your team.

Best regards,
Alex Kim"""


@pytest.fixture
def make_ctx() -> Callable[..., CheckContext]:
    """A CheckContext for a thank-you email to Dana Jones; override any field."""

    def factory(**overrides: Any) -> CheckContext:
        fields: dict[str, Any] = {
            "step": "thank_you",
            "channel": "email",
            "contact": {
                "name": "Dana Jones",
                "company": "Initech",
                "salutation": "Ms. Jones",
            },
            "other_contacts": ["Raj Patel", "Dana Smith"],
            "other_companies": ["Globex", "Umbrella Corporation"],
            "notes": {
                "specific_point": "moving the billing service to event sourcing",
                "topics": ["incident response"],
                "skills": ["PostgreSQL"],
            },
            "limits": {},
            "candidate_name": "Alex Kim",
            "position": "Senior Backend Engineer",
        }
        fields.update(overrides)
        return CheckContext(**fields)

    return factory


@pytest.fixture
def good_body() -> str:
    """A thank-you note that passes every check."""
    return GOOD_THANK_YOU


@pytest.fixture
def good_subject() -> str:
    return GOOD_SUBJECT


@pytest.fixture
def findings(make_ctx: Callable[..., CheckContext]) -> Callable[..., list[Finding]]:
    """Run all checks on a message; ``check=`` keeps only that check's findings.

    ``findings(body, subject=..., check="emoji", **ctx_overrides)``
    """

    def run(
        body: str,
        *,
        subject: str = GOOD_SUBJECT,
        check: str | None = None,
        **ctx_overrides: Any,
    ) -> list[Finding]:
        result = run_checks(subject, body, make_ctx(**ctx_overrides))
        return [f for f in result if check is None or f.check == check]

    return run


@pytest.fixture
def with_middle() -> Callable[[str], str]:
    """The good thank-you with one extra sentence in the middle."""

    def build(sentence: str) -> str:
        head, tail = GOOD_THANK_YOU.split("\n\nOur discussion", 1)
        return f"{head} {sentence}\n\nOur discussion{tail}"

    return build


@pytest.fixture
def make_template_context() -> Callable[..., dict[str, dict[str, Any]]]:
    """A realistic template context (build_context) for a step and channel."""

    def factory(step: str = "thank_you", channel: str = "email", **overrides: Any):
        parts: dict[str, Any] = {
            "candidate": {
                "name": "Alex Kim",
                "email": "alex.kim@example.com",
                "phone": "+1 415 555 0142",
            },
            "contact": {
                "name": "Dana Jones",
                "honorific": "Ms.",
                "title": "Engineering Manager",
                "company": "Initech",
            },
            "application": {"company": "Initech", "position": "Senior Backend Engineer"},
            "interview": {"date": date(2025, 3, 4), "round": 1, "format": "video"},
            "notes": {
                "specific_point": "moving the billing service to event sourcing",
                "topics": ["incident response", "on-call rotation"],
                "skills": ["Python", "PostgreSQL"],
            },
            "touch": {"step": step, "channel": channel},
            "previous": {"subject": "Thank you for the Senior Backend Engineer interview"},
        }
        parts.update(overrides)
        return build_context(**parts)

    return factory
