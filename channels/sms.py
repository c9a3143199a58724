"""The built-in SMS channel: Twilio Programmable Messaging, through the twilio library.

The message goes from the org's Twilio number (``from_number``) or Messaging
Service (``messaging_service_sid``) to the contact's phone (``to_address``,
E.164). ``status_callback_url`` from the message is passed on, so Twilio
reports delivery there (see :func:`touch_status_for_sms`).

Length (R12): the body is counted with :mod:`channels.segments` before any
request; a body over ``max_segments`` (default 2) is refused as
``Failed("too_long")`` without calling Twilio. With ``smart_encoding`` (on by
default) typographic quotes and dashes are replaced by their GSM-7 twins first,
so a curly apostrophe does not halve the capacity; the count is made on the
text actually sent.

Error mapping: see :func:`channels.twilio_client.classify_twilio_error`
(21610 opt-out -> ``Failed(opt_out=True)``, invalid numbers -> ``Failed``,
429/5xx -> ``RetryLater``, read timeout -> ``Unknown``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from channels.base import Channel, Failed, Message, SendResult, Sent
from channels.hookspecs import hookimpl
from channels.phone import check_phone_number
from channels.segments import SegmentInfo, count_segments, smart_normalize
from channels.twilio_client import (
    OPT_OUT_CODES,
    TwilioAccountSchema,
    classify_twilio_error,
    make_client,
    validate_e164,
)

DEFAULT_MAX_SEGMENTS = 2

# Twilio MessageStatus (status callbacks) -> touch status; None: not final yet.
SMS_STATUS_TO_TOUCH = {
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "cancelled",
}


class SmsSettingsSchema(TwilioAccountSchema):
    from_number = fields.String(
        load_default="",
        validate=validate_e164,
        metadata={"description": "Twilio phone number that sends (E.164)"},
    )
    messaging_service_sid = fields.String(
        load_default="",
        validate=validate.Regexp(r"^(MG[0-9a-fA-F]{32})?$", error="a Messaging Service SID: MG..."),
        metadata={"description": "Send through this Messaging Service instead"},
    )
    max_segments = fields.Integer(
        load_default=DEFAULT_MAX_SEGMENTS,
        validate=validate.Range(1, 10),
        metadata={"description": "Longest SMS allowed, in segments (R12)"},
    )
    smart_encoding = fields.Boolean(
        load_default=True,
        metadata={"description": "Replace curly quotes/dashes with GSM-7 ones before sending"},
    )

    @validates_schema
    def _needs_a_sender(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("from_number") and not data.get("messaging_service_sid"):
            raise ValidationError("from_number or messaging_service_sid is required", "from_number")


def sms_text(body: str, settings: Mapping[str, Any]) -> str:
    """The text that will be sent for ``body`` with these settings."""
    return smart_normalize(body) if settings.get("smart_encoding", True) else body


def touch_status_for_sms(message_status: str | None, error_code: str | int | None = None):
    """Touch status for a Twilio SMS status callback (``MessageStatus``,
    ``ErrorCode``): ``delivered``, ``undelivered``, ``failed``, ``cancelled``,
    or ``None`` while not final (queued, sending, sent...). Returns
    ``(status, opt_out)``; ``opt_out`` is True for error 21610."""
    status = SMS_STATUS_TO_TOUCH.get((message_status or "").lower())
    try:
        opt_out = int(error_code) in OPT_OUT_CODES if error_code not in (None, "") else False
    except (TypeError, ValueError):
        opt_out = False
    return status, opt_out


class SmsChannel(Channel):
    name = "sms"
    title = "SMS (Twilio)"
    address_kind = "phone"
    capabilities = frozenset({"delivery_receipts"})
    settings_schema = SmsSettingsSchema

    def check_address(self, address: str) -> str | None:
        return check_phone_number(address)

    def segments(self, body: str, settings: Mapping[str, Any] | None = None) -> SegmentInfo:
        """Segments ``body`` takes once prepared for sending with ``settings``."""
        return count_segments(sms_text(body, settings or {}))

    def send(self, message: Message, settings: Mapping[str, Any]) -> SendResult:
        error = check_phone_number(message.to_address)
        if error:
            return Failed("invalid_address", error)
        text = sms_text(message.body, settings)
        if not text.strip():
            return Failed("empty_body", "an SMS needs a body")
        info = count_segments(text)
        limit = settings.get("max_segments", DEFAULT_MAX_SEGMENTS)
        if info.segments > limit:
            return Failed(
                "too_long",
                f"{info.segments} SMS segments ({info.encoding}, {info.units} units), "
                f"at most {limit} allowed",
            )
        client = make_client(
            settings["account_sid"], settings["auth_token"], timeout=settings.get("timeout", 15.0)
        )
        return self._create(client, message, text, settings, info)

    def _create(
        self,
        client: Client,
        message: Message,
        text: str,
        settings: Mapping[str, Any],
        info: SegmentInfo,
    ) -> SendResult:
        kwargs: dict[str, Any] = {"to": message.to_address, "body": text}
        if settings.get("messaging_service_sid"):
            kwargs["messaging_service_sid"] = settings["messaging_service_sid"]
        if settings.get("from_number"):
            kwargs["from_"] = settings["from_number"]
        if message.status_callback_url:
            kwargs["status_callback"] = message.status_callback_url
        try:
            created = client.messages.create(**kwargs)
        except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
            return classify_twilio_error(exc, client)
        return Sent(
            created.sid or "",
            {"status": created.status, "segments": info.segments, "encoding": info.encoding},
        )


@hookimpl
def register_channels(register):
    register(SmsChannel())
