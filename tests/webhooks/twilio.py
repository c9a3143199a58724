"""What Twilio sends: form parameters, signed with twilio's real RequestValidator."""

from __future__ import annotations

from api.models import ChannelSetting, TouchEvent
from channels.twilio_client import sign_twilio_request

PUBLIC_URL = "http://127.0.0.1:8000"  # the app fixture's PUBLIC_URL
ORG_TOKEN = "org-auth-token-0123456789abcdef"
CANDIDATE_TOKEN = "candidate-auth-token-fedcba9876543210"
ACCOUNT_SID = "AC" + "ab" * 16
TWILIO_NUMBER = "+15005550006"
CONTACT_PHONE = "+14155550100"
MESSAGE_SID = "SM" + "1" * 32  # the `sms` fixture's provider id
CALL_SID = "CA" + "2" * 32  # the `call_touch` fixture's provider id
INBOUND = "/v1/webhooks/twilio/sms/inbound"


def signed_post(client, path, params, token=ORG_TOKEN, *, url=None, signature=None):
    """POST `params` as Twilio does, signed for `url` (default: the public URL of `path`)."""
    if signature is None:
        signature = sign_twilio_request(token, url or PUBLIC_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def twilio_settings(factory, org_id, candidate_id=None, token=ORG_TOKEN, **extra):
    """The Twilio account (sms and call settings) of an org, or of one candidate."""
    for channel in ("sms", "call"):
        values = {"account_sid": ACCOUNT_SID, "auth_token": token, "from_number": TWILIO_NUMBER}
        values.update(extra)
        factory.s.add(
            ChannelSetting(org_id=org_id, candidate_id=candidate_id, channel=channel, values=values)
        )
    factory.s.commit()


def status_path(touch_id: int) -> str:
    return f"/v1/webhooks/twilio/messages/{touch_id}/status"


def call_path(touch_id: int, what: str = "status") -> str:
    return f"/v1/webhooks/twilio/calls/{touch_id}/{what}"


def message(status: str, **extra) -> dict[str, str]:
    """An SMS status callback about the `sms` fixture's message."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": MESSAGE_SID,
        "MessageStatus": status,
        "To": CONTACT_PHONE,
        "From": TWILIO_NUMBER,
    }
    params.update(extra)
    return params


def call_params(**extra) -> dict[str, str]:
    """A call status callback (or TwiML request) about the `call_touch` fixture's call."""
    params = {"AccountSid": ACCOUNT_SID, "CallSid": CALL_SID, "CallStatus": "in-progress"}
    params.update(extra)
    return params


def inbound(body: str, sender: str = CONTACT_PHONE, **extra) -> dict[str, str]:
    """An inbound SMS from `sender` to the org's Twilio number."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": "SM" + "9" * 32,
        "From": sender,
        "To": TWILIO_NUMBER,
        "Body": body,
    }
    params.update(extra)
    return params


def events(count, touch_id, kind=None):
    return count(TouchEvent, touch_id=touch_id, **({"kind": kind} if kind else {}))
