"""The ordering rules of SMS opt-out changes (api.inbound_sms), as pure functions.

STOP/START are ordered by the order the server first saw them (their inbound log id),
whatever the order their transactions commit in; a 21610 refusal is ordered by time
against the contact's last change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.inbound_sms import message_kind, opt_change_applies, refusal_applies

SENT = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "seq", "applies"),
    [(None, 1, True), (3, 4, True), (4, 4, False), (5, 4, False)],
)
def test_a_stop_or_start_applies_only_if_seen_after_the_one_that_set_the_state(
    current, seq, applies
):
    assert opt_change_applies(current, seq) is applies


@pytest.mark.parametrize(
    ("changed_at", "handed_at", "applies"),
    [
        (None, SENT, True),
        (SENT - timedelta(minutes=1), SENT, True),
        (SENT, SENT, True),
        (SENT + timedelta(minutes=1), SENT, False),
        (SENT, None, True),
    ],
)
def test_a_21610_refusal_applies_unless_the_state_was_set_after_the_send(
    changed_at, handed_at, applies
):
    assert refusal_applies(changed_at, handed_at) is applies


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("STOP", "opt_out"),
        (" stop. ", "opt_out"),
        ("Unsubscribe!", "opt_out"),
        ("START", "opt_in"),
        ("yes", "opt_in"),
        ("Please stop texting me", "reply"),
        ("   ", "other"),
    ],
)
def test_what_an_inbound_text_is(body, kind):
    assert message_kind(body) == kind
