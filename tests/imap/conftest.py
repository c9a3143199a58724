"""Fixtures for the IMAP side: a real Dovecot on loopback, a fresh mailbox user per test.

Without dovecot installed the tests skip, with the reason; in CI (``CI`` set) or with
``TOUCHBASE_REQUIRE_DOVECOT=1`` they fail instead, so a missing install cannot pass as green.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from api.inbound.mailbox import MailboxSettings
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
