"""Where the Idempotency-Key is honoured (every POST a principal makes) and where it is not
(Twilio's signed callbacks, the raw inbound email), as the OpenAPI document says too."""

from __future__ import annotations

import re
from datetime import timedelta

from api.idempotency import keys
from api.idempotency.keys import KEY_PATTERN, key_problem
from api.models import utcnow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MESSAGE = (
    b"From: Recruiter <recruiter@acme.example>\r\n"
    b"To: candidate@example.org\r\n"
    b"Subject: Re: Thank you\r\n"
    b"Message-ID: <idem-1@acme.example>\r\n"
    b"Date: Wed, 5 Jun 2030 09:00:00 -0400\r\n"
    b"\r\n"
    b"Thank you, it was a pleasure.\r\n"
)


def test_a_raw_email_retried_with_a_key_is_heard_once_by_its_message_id(
    keyed, world, new_key, key_rows
):
    key = new_key()
    headers = {"Content-Type": "message/rfc822"}
    first = keyed("/v1/inbound/email", world.tokens["admin"], key, data=MESSAGE, headers=headers)
    again = keyed("/v1/inbound/email", world.tokens["admin"], key, data=MESSAGE, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json()["outcome"] == "duplicate"
    assert REPLAYED not in again.headers
    assert key_rows() == []


def test_a_twilio_callback_ignores_the_key(call, keyed, new_key, key_rows):
    """No principal to scope a key to: answered exactly as without it."""
    form = {"From": "+14155550100", "Body": "STOP"}
    path = "/v1/webhooks/twilio/sms/inbound"
    plain = call("POST", path, data=form)
    with_key = keyed(path, None, new_key(), data=form)
    assert (with_key.status_code, with_key.get_json()) == (plain.status_code, plain.get_json())
    assert REPLAYED not in with_key.headers
    assert key_rows() == []


def test_the_worker_purges_expired_keys_only(keyed, world, new_key, key_rows, app):
    keyed("/v1/contacts", world.tokens["candidate"], new_key(), json={"name": "Ana"})
    keyed("/v1/contacts", world.tokens["advisor"], new_key(), json={"name": "Bo"})
    sessions = app.extensions["touchbase.sessionmaker"]
    later = utcnow() + timedelta(hours=24, seconds=1)
    assert keys.purge(sessions, utcnow()) == 0
    assert len(key_rows()) == 2
    assert keys.purge(sessions, later) == 2
    assert key_rows() == []


def _post_operations(app):
    spec = app.extensions["touchbase.api"].spec.to_dict()
    for path, item in spec["paths"].items():
        if "post" in item:
            yield path, item["post"], spec


def _key_parameter(operation) -> dict | None:
    found = [
        p for p in operation.get("parameters", []) if (p["name"], p["in"]) == (HEADER, "header")
    ]
    return found[0] if found else None


def _documents_the_key(operation) -> bool:
    return _key_parameter(operation) is not None


def test_every_post_with_a_bearer_token_documents_the_header(app):
    checked = 0
    for path, operation, _spec in _post_operations(app):
        if operation.get("security") == [] or path == "/v1/inbound/email":
            continue
        checked += 1
        assert _documents_the_key(operation), path
        assert {"409", "422"} <= set(operation["responses"]), path
        success = [r for s, r in operation["responses"].items() if s.startswith("2")]
        assert all(REPLAYED in r.get("headers", {}) for r in success), path
    assert checked >= 15  # a guard against a test that checks nothing


def test_the_header_is_documented_with_its_limits_and_the_replay_header(app):
    spec = app.extensions["touchbase.api"].spec.to_dict()
    parameter = _key_parameter(spec["paths"]["/v1/contacts"]["post"])
    assert parameter["required"] is False
    assert (parameter["schema"]["minLength"], parameter["schema"]["maxLength"]) == (1, 255)
    assert spec["components"]["headers"]["IdempotentReplayed"]["schema"]["enum"] == ["true"]


def test_callbacks_and_the_raw_email_do_not_document_the_header(app):
    skipped = [
        path
        for path, operation, _spec in _post_operations(app)
        if operation.get("security") == [] or path == "/v1/inbound/email"
    ]
    assert "/v1/inbound/email" in skipped
    assert any(path.startswith("/v1/webhooks/twilio") for path in skipped)
    for path, operation, _spec in _post_operations(app):
        if path in skipped:
            assert not _documents_the_key(operation), path
            assert "x-touchbase-idempotency" not in operation, path


def test_the_documented_pattern_is_the_rule_the_server_applies():
    for value in ["a", "4f1c2b8e-2d0a", "a b", " a", "a ", "", "é", "a\tb", "~" * 255]:
        assert (re.fullmatch(KEY_PATTERN, value) is not None) == (key_problem(value) is None), value
