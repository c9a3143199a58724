"""Fixtures for the inbound classifier's unit tests: raw messages built from a few headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from api.inbound.message import parse
from api.models import utcnow
from channels.testing import smtp_peer  # noqa: F401  (fixture, for the pipeline tests)
from tests.api.conftest import count, engine_of, row, snapshot  # noqa: F401  (fixtures)
from tests.dispatch.conftest import _no_real_twilio  # noqa: F401  (autouse fixture)

Raw = Callable[..., EmailMessage]

DEFAULT_HEADERS = {
    "From": "Bob Chen <bob.chen@example.com>",
    "To": "Ana Diaz <ana.diaz@example.org>",
    "Date": "Tue, 1 Dec 2026 09:00:00 -0500",
    "Subject": "Re: Thank you",
    "Message-ID": "<CAF7gQk9zz@mail.example.com>",
    "In-Reply-To": "<176480280000.4127.8812390213749102837.touchbase@example.org>",
}


def build(body: str, content_type: str = "text/plain", **headers: str | None) -> bytes:
    """Raw message bytes: the default headers, overridden (None removes one), then body."""
    fields = dict(DEFAULT_HEADERS)
    for name, value in headers.items():
        fields[name.replace("_", "-")] = value
    lines = [f"{k}: {v}" for k, v in fields.items() if v is not None]
    lines += ["MIME-Version: 1.0", f'Content-Type: {content_type}; charset="utf-8"', "", body]
    return "\n".join(lines).encode()


@pytest.fixture(autouse=True)
def _unread_columns_stay_unread(monkeypatch):
    """An inbound batch loads its touches without the columns re-planning never reads
    (api.scheduling.facts.UNREAD): here a read of one is an error, not a slow path."""
    monkeypatch.setattr("api.scheduling.facts.RAISE_UNREAD", True)


@pytest.fixture
def message() -> Raw:
    """message(body, content_type=..., Header_Name=value): a parsed EmailMessage."""

    def make(body: str, content_type: str = "text/plain", **headers: str | None) -> EmailMessage:
        return parse(build(body, content_type, **headers))

    return make


def _planned(scene, world):
    scene.plan()
    scene.admin = world.tokens["admin"]
    scene.thank_you = next(
        t for t in scene.touches() if t["step"] == "thank_you" and t["contact_id"] == scene.dana.id
    )
    return scene


@pytest.fixture
def mail(app, db, world, factory, call, request):
    """Dana's plan (thank-you, follow-up, call), the candidate's and an admin's tokens."""
    from tests.scheduling.conftest import Calendar

    smtp = request.getfixturevalue("smtp_peer")
    return _planned(Calendar(app, db, world, factory, call, smtp), world)


@pytest.fixture
def panel(app, db, world, factory, call, request):
    """Dana and Raj, both at acme.example, on one planned panel."""
    from tests.scheduling.conftest import Calendar

    smtp = request.getfixturevalue("smtp_peer")
    return _planned(Calendar(app, db, world, factory, call, smtp, with_raj=True), world)


@pytest.fixture
def note_office(app):
    """Four candidates with two planned interviews each, every thank-you sent."""
    from tests.inbound.seeding import seed_org

    return seed_org(app, 8, planned=8)


@pytest.fixture
def note_answers(note_office) -> list[bytes]:
    """A rejection or an invitation from one interviewer of each candidate of
    :func:`note_office`."""
    from tests.inbound.test_batch import NEXT_ROUND, REJECTION  # it imports build

    now = utcnow()
    firsts: dict[str, object] = {}
    for c in note_office.contacts:
        firsts.setdefault(c.candidate_email, c)
    raws = []
    for n, c in enumerate(firsts.values()):
        raws.append(
            build(
                REJECTION if n % 2 else NEXT_ROUND,
                From=f"{c.name} <{c.email}>",
                To=c.candidate_email,
                In_Reply_To=c.thank_you_id,
                Message_ID=f"<notes-{n}@mail.{c.company_domain}>",
                Date=format_datetime(now - timedelta(minutes=30 - n)),
            )
        )
    return raws
