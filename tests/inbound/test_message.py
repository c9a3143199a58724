"""Parsing raw inbound bytes, and the facts read from the headers and body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.inbound.message import (
    NotAMessage,
    body_text,
    html_to_text,
    in_reply_to,
    message_id,
    parse,
    references,
    sender,
    sent_at,
)
from tests.inbound.conftest import Raw, build


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"hello world", b"just text\n\nand more"])
def test_a_body_that_is_not_a_message_is_refused(raw: bytes) -> None:
    with pytest.raises(NotAMessage):
        parse(raw)


def test_text_instead_of_bytes_is_refused() -> None:
    with pytest.raises(NotAMessage, match="bytes"):
        parse("From: a@example.com\n\nhi")  # type: ignore[arg-type]


def test_a_message_with_headers_parses() -> None:
    assert parse(build("Hi Ana"))["Subject"] == "Re: Thank you"


def test_message_id_keeps_its_angle_brackets(message: Raw) -> None:
    assert message_id(message("hi")) == "<CAF7gQk9zz@mail.example.com>"


def test_message_id_is_none_when_missing(message: Raw) -> None:
    assert message_id(message("hi", Message_ID=None)) is None


def test_in_reply_to_is_a_list(message: Raw) -> None:
    assert in_reply_to(message("hi")) == [
        "<176480280000.4127.8812390213749102837.touchbase@example.org>"
    ]


def test_references_lists_every_id_oldest_first(message: Raw) -> None:
    msg = message("hi", References="<a.1@example.org>\n <b.2@example.org> <c.3@example.org>")
    assert references(msg) == ["<a.1@example.org>", "<b.2@example.org>", "<c.3@example.org>"]


def test_references_is_empty_when_missing(message: Raw) -> None:
    assert references(message("hi")) == []


def test_sender_is_the_lower_cased_address(message: Raw) -> None:
    assert sender(message("hi", From='"Chen, Bob" <Bob.Chen@Example.COM>')) == (
        "bob.chen@example.com"
    )


def test_raw_utf8_in_the_sender_and_message_id_is_read_as_utf8() -> None:
    """RFC 6532 headers are raw UTF-8: what is read of them is text the database stores
    (the parser keeps such bytes as surrogate escapes, which no database accepts)."""
    raw = build("hi", From="José <josé@exämple.com>", Message_ID="<café@example.com>")
    msg = parse(raw)
    assert (sender(msg), message_id(msg)) == ("josé@exämple.com", "<café@example.com>")


def test_date_is_aware_utc(message: Raw) -> None:
    assert sent_at(message("hi")) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "not a date", "Tue, 41 Foo 2026 99:00:00"])
def test_a_missing_or_bad_date_is_none(message: Raw, value: str | None) -> None:
    assert sent_at(message("hi", Date=value)) is None


def test_body_prefers_the_plain_text_part() -> None:
    raw = (
        b"From: bob.chen@example.com\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nplain words\n"
        b"--b\nContent-Type: text/html\n\n<p>html words</p>\n--b--\n"
    )
    assert body_text(parse(raw)).strip() == "plain words"


def test_an_html_only_body_is_converted_to_text(message: Raw) -> None:
    html = "<html><head><style>p{x:y}</style></head><body><p>Hi&nbsp;Ana,</p><p>Yes.</p></body>"
    assert body_text(message(html, content_type="text/html")) == "Hi Ana,\n\nYes."


def test_html_blockquotes_become_quoted_lines() -> None:
    text = html_to_text("<div>Sure!</div><blockquote><div>Earlier words</div></blockquote>")
    assert text.splitlines() == ["Sure!", "> Earlier words"]


def test_html_line_breaks_are_kept() -> None:
    assert html_to_text("<div>Best,<br>Bob</div>") == "Best,\nBob"
