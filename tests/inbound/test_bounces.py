"""Delivery status notifications (RFC 3464) and non-standard failure notices."""

from __future__ import annotations

from email.message import EmailMessage

from api.inbound.bounces import parse_bounce
from api.inbound.message import parse
from tests.inbound.conftest import Raw

TWO_RECIPIENTS = b"""From: MAILER-DAEMON@mx.example.org
To: ana.diaz@example.org
Date: Tue, 1 Dec 2026 13:30:05 +0000
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; ok@example.com
Action: delayed
Status: 4.4.1
Diagnostic-Code: smtp; 421 4.4.1 connection timed out

Final-Recipient: rfc822; Gone@Example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>:
    user unknown

--B
Content-Type: text/rfc822-headers

From: Ana Diaz <ana.diaz@example.org>
Message-ID: <176459580000.4127.1.touchbase@example.org>

--B--
"""

DELIVERED = TWO_RECIPIENTS.replace(
    b"Action: delayed\nStatus: 4.4.1", b"Action: delivered\nStatus: 2.0.0"
).replace(b"Action: failed\nStatus: 5.1.1", b"Action: relayed\nStatus: 2.0.0")


def dsn(raw: bytes = TWO_RECIPIENTS) -> EmailMessage:
    return parse(raw)


def test_every_recipient_block_is_read() -> None:
    bounce = parse_bounce(dsn())
    assert bounce is not None
    assert [(r.recipient, r.status, r.action) for r in bounce.recipients] == [
        ("ok@example.com", "4.4.1", "delayed"),
        ("gone@example.com", "5.1.1", "failed"),
    ]


def test_the_permanent_failure_is_the_one_reported() -> None:
    bounce = parse_bounce(dsn())
    assert bounce is not None
    assert (bounce.recipient, bounce.status, bounce.permanent) == (
        "gone@example.com",
        "5.1.1",
        True,
    )


def test_the_diagnostic_is_unfolded() -> None:
    bounce = parse_bounce(dsn())
    assert bounce is not None
    assert bounce.diagnostic == "smtp; 550 5.1.1 <gone@example.com>: user unknown"


def test_the_original_message_id_comes_from_the_attached_headers() -> None:
    bounce = parse_bounce(dsn())
    assert bounce is not None
    assert bounce.original_message_id == "<176459580000.4127.1.touchbase@example.org>"


def test_a_report_of_successful_delivery_is_not_a_bounce() -> None:
    assert parse_bounce(dsn(DELIVERED)) is None


def test_a_failure_notice_without_status_that_says_delay_is_transient(message: Raw) -> None:
    msg = message(
        "Your message to bob@example.com has been delayed. We will retry for 2 days.",
        From="Mail Delivery Subsystem <mailer-daemon@mail.example.com>",
        Subject="Delivery Status Notification (Delay)",
    )
    bounce = parse_bounce(msg)
    assert bounce is not None
    assert (bounce.status, bounce.permanent, bounce.standard) == ("4.0.0", False, False)


def test_a_failure_notice_reads_the_status_from_its_text(message: Raw) -> None:
    msg = message(
        "Delivery has failed to these recipients or groups:\n\nbob@example.com\n"
        "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
        From="postmaster@example.com",
        Subject="Undeliverable: Thank you",
    )
    bounce = parse_bounce(msg)
    assert bounce is not None
    assert (bounce.status, bounce.recipient) == ("5.1.1", "bob@example.com")


def test_the_failure_notice_falls_back_on_the_threading_ids(message: Raw) -> None:
    msg = message(
        "** Address not found **\nYour message wasn't delivered to bob@example.com.",
        From="Mail Delivery Subsystem <mailer-daemon@mail.example.com>",
        Subject="Delivery Status Notification (Failure)",
    )
    bounce = parse_bounce(msg)
    assert bounce is not None
    assert bounce.original_message_id == (
        "<176480280000.4127.8812390213749102837.touchbase@example.org>"
    )


def test_a_person_writing_about_an_undeliverable_parcel_is_not_a_bounce(message: Raw) -> None:
    msg = message(
        "The parcel was undeliverable, so I resent it.", Subject="Re: Undeliverable: parcel"
    )
    assert parse_bounce(msg) is None


def test_a_subject_alone_from_a_person_is_not_a_bounce(message: Raw) -> None:
    assert parse_bounce(message("Thanks!", Subject="Re: Mail delivery failed")) is None
