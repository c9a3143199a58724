"""Secrets, message ids and the Standard Webhooks headers, signed with the
``standardwebhooks`` library (the one the portal verifies with)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

from api.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64, the form the libraries read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_msg_id() -> str:
    """The ``webhook-id`` of an event: the same on every delivery attempt of it."""
    return "msg_" + secrets.token_urlsafe(18)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [endpoint.secret]
    expires = endpoint.previous_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def headers(keys: list[str], msg_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """The three ``webhook-*`` headers; one signature per key, space-separated, as the
    specification allows while a secret is rotated."""
    signatures = " ".join(Webhook(key).sign(msg_id, timestamp, body) for key in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
