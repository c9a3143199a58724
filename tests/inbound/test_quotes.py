"""Stripping quoted history and signatures: the classifier reads only the new words."""

from __future__ import annotations

from api.inbound.quotes import strip_reply

GMAIL = """Sounds good, see you then.

On Tue, Dec 1, 2026 at 9:00 AM Ana Diaz <ana.diaz@example.org> wrote:
> Unfortunately I can't make Thursday.
> Ana
"""

GMAIL_WRAPPED = """Sounds good, see you then.

On Tue, Dec 1, 2026 at 9:00 AM Ana Diaz
<ana.diaz@example.org> wrote:

> Unfortunately I can't make Thursday.
"""

OUTLOOK = """Sounds good, see you then.

________________________________
From: Ana Diaz <ana.diaz@example.org>
Sent: Tuesday, December 1, 2026 9:00 AM
To: Bob Chen <bob.chen@example.com>
Subject: Thursday

Unfortunately I can't make Thursday.
"""

ORIGINAL_MESSAGE = """Sounds good, see you then.

-----Original Message-----
From: Ana Diaz <ana.diaz@example.org>
Sent: Tuesday, December 1, 2026 9:00 AM

Unfortunately I can't make Thursday.
"""

APPLE = """Sounds good, see you then.

Sent from my iPhone

> On 1 Dec 2026, at 09:00, Ana Diaz <ana.diaz@example.org> wrote:
>
> Unfortunately I can't make Thursday.
"""


def test_gmail_quote_is_stripped() -> None:
    assert strip_reply(GMAIL) == "Sounds good, see you then."


def test_gmail_quote_header_wrapped_over_two_lines_is_stripped() -> None:
    assert strip_reply(GMAIL_WRAPPED) == "Sounds good, see you then."


def test_outlook_from_sent_block_is_stripped() -> None:
    assert strip_reply(OUTLOOK) == "Sounds good, see you then."


def test_outlook_original_message_is_stripped() -> None:
    assert strip_reply(ORIGINAL_MESSAGE) == "Sounds good, see you then."


def test_apple_mail_quote_and_mobile_footer_are_stripped() -> None:
    assert strip_reply(APPLE) == "Sounds good, see you then."


def test_quoted_lines_left_inline_are_dropped() -> None:
    text = "Yes.\n> Unfortunately I can't.\nSee you Friday."
    assert "Unfortunately" not in strip_reply(text)


def test_a_short_signature_is_stripped() -> None:
    text = "Works for me.\n\nBest regards,\nBob Chen\nEngineering Manager | Example Corp\n"
    assert strip_reply(text) == "Works for me."


def test_a_reply_that_opens_with_thanks_is_not_taken_for_a_signature() -> None:
    text = "Hi Ana,\n\nThank you, it was a pleasure. I passed your portfolio link to Dan.\n\nCarla"
    assert "portfolio link" in strip_reply(text)


def test_an_rfc3676_signature_separator_ends_the_reply() -> None:
    assert strip_reply("Yes please.\n-- \nBob\n+1 555 0100") == "Yes please."


def test_empty_text_stays_empty() -> None:
    assert strip_reply("  \n ") == ""


def test_a_reply_without_quotes_is_kept_whole() -> None:
    text = "Hi Ana,\n\nWe'd like to invite you to a second round."
    assert strip_reply(text) == text
