"""Fixtures for the inbound classifier's unit tests: raw messages built from a few headers."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest

from api.inbound.message import parse
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
