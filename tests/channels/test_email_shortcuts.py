"""The email channel's shortcut (header folding) agrees with the standard library's slow
path it skips. (The address check has no shortcut any more: it is the API's own rule,
see tests/api/test_email_addresses.py.)"""

from __future__ import annotations

import dataclasses
from email.policy import compat32

from hypothesis import given, settings
from hypothesis import strategies as st

from channels import make_message_id
from channels.email import WIRE_COMPAT, build_email

COMPAT32 = compat32.clone(linesep="\r\n", max_line_length=998)
NAMES = st.sampled_from(["From", "To", "Subject", "Message-ID", "References", "X-Long-Header"])
# printable ASCII with the whitespace folding cares about, and some non-ASCII
VALUES = st.text(alphabet=st.sampled_from([*"ab=?;,<>@. \t\r\n", "\u00e9"]), max_size=120)


@settings(max_examples=500, deadline=None)
@given(name=NAMES, value=VALUES, width=st.sampled_from([20, 40, 78, 998]))
def test_a_header_folds_as_compat32_folds_it(name, value, width):
    ours = WIRE_COMPAT.clone(max_line_length=width)
    theirs = COMPAT32.clone(max_line_length=width)

    assert ours.fold_binary(name, value) == theirs.fold_binary(name, value)


def test_a_plain_header_within_the_line_length_is_written_as_it_is():
    assert WIRE_COMPAT.fold_binary("Subject", "Thank you, Dana") == b"Subject: Thank you, Dana\r\n"


def test_a_header_longer_than_the_line_length_is_folded_as_compat32_does():
    value = " ".join(["word"] * 30)
    narrow = WIRE_COMPAT.clone(max_line_length=40)

    folded = narrow.fold_binary("Subject", value)

    assert b"\r\n " in folded
    assert folded == COMPAT32.clone(max_line_length=40).fold_binary("Subject", value)


def test_a_whole_email_is_the_same_bytes_as_under_compat32(email_message):
    follow_up = dataclasses.replace(
        email_message,
        subject="Following up on the Data Analyst role",
        in_reply_to=make_message_id("touchbase.test"),
        references=(make_message_id("touchbase.test"),),
    )
    for message in (email_message, follow_up):
        msg = build_email(message)

        assert msg.as_bytes(policy=WIRE_COMPAT) == msg.as_bytes(policy=COMPAT32)
