"""Fixtures for the IMAP side: a real Dovecot on loopback, a fresh mailbox user per test.

Without dovecot installed the tests skip, with the reason; in CI (``CI`` set) or with
``TOUCHBASE_REQUIRE_DOVECOT=1`` they fail instead, so a missing install cannot pass as green.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from channels.imap import MailboxSettings
from channels.testing import smtp_peer  # noqa: F401  (fixture)
from tests.api.conftest import count, engine_of, row, snapshot  # noqa: F401  (fixtures)
from tests.dispatch.conftest import _no_real_twilio  # noqa: F401  (autouse fixture)
from tests.imap_server import DovecotServer, ImapUser, dovecot_binary


def _dovecot_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("TOUCHBASE_REQUIRE_DOVECOT") == "1"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the session; tests keep apart by each using its own user."""
    if dovecot_binary() is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd)"
        if _dovecot_required():
            pytest.fail(f"{reason}, and CI / TOUCHBASE_REQUIRE_DOVECOT=1 requires it")
        pytest.skip(reason)
    with DovecotServer() as server:
        yield server


@pytest.fixture
def mailbox_user(dovecot) -> ImapUser:
    """A user of its own, with an empty INBOX (and the auto-created Sent and Drafts)."""
    return dovecot.add_user()


@pytest.fixture
def mailbox_settings(dovecot, mailbox_user) -> Callable[..., MailboxSettings]:
    """``mailbox_settings(folder=..., password=...)``: settings to read ``mailbox_user``."""

    def make(**changes) -> MailboxSettings:
        values = {
            "host": dovecot.host,
            "port": dovecot.port,
            "tls": "none",
            "user": mailbox_user.name,
            "password": mailbox_user.password,
            "timeout": 10.0,
        }
        return MailboxSettings(**(values | changes))

    return make


class Inbox:
    """Dana's plan (tests.scheduling.conftest.Calendar) with the candidate's own IMAP
    mailbox on the test Dovecot, configured over HTTP, and a poller on the scene's clock."""

    def __init__(self, scene, dovecot: DovecotServer, user: ImapUser, admin: str) -> None:
        self.scene, self.dovecot, self.user, self.admin = scene, dovecot, user, admin
        self.app = scene.app

    def configure(self, **changes) -> dict:
        values = {
            "imap_host": self.dovecot.host,
            "imap_port": self.dovecot.port,
            "imap_security": "none",
            "imap_username": self.user.name,
            "imap_password": self.user.password,
            "imap_poll_seconds": 1,
        } | changes
        url = f"/v1/users/{self.scene.candidate.id}/channels/email/settings"
        return self.scene._call("put", url, self.admin, json=values)

    def poller(self, owner: str = "poller-a"):
        from api.inbound.poller import MailboxPoller

        sessions = self.app.extensions["touchbase.sessionmaker"]
        return MailboxPoller(sessions, self.app.config, owner, clock=self.scene.clock)

    def poll(self, owner: str = "poller-a"):
        """One pass of a poller, as if the mailbox were due now."""
        self.make_due()
        return self.poller(owner).poll_due()

    def make_due(self) -> None:
        from sqlalchemy import update

        from api.models import Mailbox, utcnow

        with self.app.extensions["touchbase.engine"].begin() as conn:
            conn.execute(update(Mailbox).values(next_poll_at=utcnow() - timedelta(days=3650)))

    def mailbox(self):
        from api.models import Mailbox

        with self.app.extensions["touchbase.sessionmaker"]() as session:
            rows = session.query(Mailbox).all()
            assert len(rows) == 1, rows
            session.expunge(rows[0])
            return rows[0]


@pytest.fixture
def inbox(app, db, world, factory, call, request, dovecot, mailbox_user) -> Inbox:
    from tests.scheduling.conftest import Calendar

    scene = Calendar(app, db, world, factory, call, request.getfixturevalue("smtp_peer"))
    scene.plan()
    scene.thank_you = next(t for t in scene.touches() if t["step"] == "thank_you")
    box = Inbox(scene, dovecot, mailbox_user, world.tokens["admin"])
    answer = box.configure()
    assert answer.status_code == 200, answer.get_json()
    return box
