"""Twilio plumbing: the redirectable HTTP client, Retry-After, webhook signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from werkzeug.datastructures import MultiDict

from channels.twilio_client import (
    API_BASE_ENV,
    RewritingHttpClient,
    make_client,
    parse_retry_after,
    sign_twilio_request,
    validate_twilio_request,
)

TOKEN = "12345678901234567890123456789012"
URL = "https://touchbase.example.org/v1/callbacks/twilio/sms/202"
PARAMS = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": "+14155550100"}


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's documented algorithm, written out independently of the library."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --------------------------------------------------------------------------- webhooks


def test_a_request_signed_by_twilio_is_accepted():
    signature = twilio_signature(TOKEN, URL, PARAMS)

    assert validate_twilio_request(TOKEN, URL, PARAMS, signature) is True


def test_a_forged_signature_is_refused():
    forged = twilio_signature("another-accounts-token-0000000000", URL, PARAMS)

    assert validate_twilio_request(TOKEN, URL, PARAMS, forged) is False


def test_a_tampered_parameter_is_refused():
    signature = twilio_signature(TOKEN, URL, PARAMS)

    tampered = {**PARAMS, "MessageStatus": "failed"}
    assert validate_twilio_request(TOKEN, URL, tampered, signature) is False


def test_a_signature_for_another_url_is_refused():
    signature = twilio_signature(TOKEN, URL, PARAMS)

    assert validate_twilio_request(TOKEN, URL.replace("202", "203"), PARAMS, signature) is False


def test_a_missing_signature_is_refused():
    assert validate_twilio_request(TOKEN, URL, PARAMS, None) is False
    assert validate_twilio_request(TOKEN, URL, PARAMS, "") is False


def test_werkzeug_form_data_validates_like_a_dict():
    signature = twilio_signature(TOKEN, URL, PARAMS)

    assert validate_twilio_request(TOKEN, URL, MultiDict(PARAMS), signature) is True


def test_sign_twilio_request_produces_what_twilio_sends():
    assert sign_twilio_request(TOKEN, URL, PARAMS) == twilio_signature(TOKEN, URL, PARAMS)


# --------------------------------------------------------------------------- HTTP client


def test_twilio_urls_are_rewritten_to_the_configured_base():
    client = RewritingHttpClient("http://127.0.0.1:8099/")

    rewritten = client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")

    assert rewritten == "http://127.0.0.1:8099/2010-04-01/Accounts/AC1/Messages.json"


def test_regional_twilio_hosts_are_rewritten_too():
    client = RewritingHttpClient("http://127.0.0.1:8099")

    assert (
        client.rewrite("https://api.dublin.ie1.twilio.com/x?a=1") == "http://127.0.0.1:8099/x?a=1"
    )


def test_other_hosts_are_left_alone():
    client = RewritingHttpClient("http://127.0.0.1:8099")

    assert client.rewrite("https://twilio.com.evil.test/x") == "https://twilio.com.evil.test/x"


def test_without_a_base_nothing_is_rewritten():
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"

    assert RewritingHttpClient(None).rewrite(url) == url


def test_make_client_reads_the_base_from_the_environment(monkeypatch):
    monkeypatch.setenv(API_BASE_ENV, "http://127.0.0.1:8099")

    client = make_client("AC" + "1" * 32, "token")

    assert client.http_client.api_base == "http://127.0.0.1:8099"


def test_make_client_sets_connect_and_read_timeouts():
    client = make_client("AC" + "1" * 32, "token", timeout=7, connect_timeout=2, api_base="")

    assert client.http_client.timeout == (2, 7)


def test_a_non_positive_timeout_is_refused():
    with pytest.raises(ValueError):
        RewritingHttpClient(None, timeout=0)


# --------------------------------------------------------------------------- Retry-After


def test_retry_after_in_seconds():
    assert parse_retry_after("120") == 120.0


def test_retry_after_as_an_http_date():
    now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)

    assert parse_retry_after(later, now=now.timestamp()) == 90.0


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_an_absent_or_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value) is None
