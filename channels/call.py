"""The built-in call channel: a phone-call script and a Twilio click-to-call bridge.

How the bridge works (R11: the candidate talks to the contact in person):

1. ``send`` asks Twilio to call the **candidate** (``message.candidate_phone``)
   from the org's Twilio number, with ``url=message.metadata["twiml_url"]``
   and status callbacks to ``message.status_callback_url``.
2. When the candidate answers, Twilio POSTs to that URL (form fields
   ``CallSid``, ``AnsweredBy``..., signed: check them with
   ``channels.twilio_client.validate_twilio_request``). The endpoint answers
   with :func:`twiml_for_answer` (or :func:`bridge_twiml`): a short
   spoken brief, then ``<Dial>`` to the **contact** with the candidate's own
   number as caller id, so the contact sees (and can call back) the candidate.
   If the candidate's voicemail picked up (``AnsweredBy=machine_*``, with
   ``detect_voicemail`` on), it hangs up instead of bridging a voicemail.
3. Call status callbacks map to touch statuses with :func:`touch_status_for_call`.

Twilio accepts a caller id only if it is a number of the account or a
verified caller id: the candidate's phone must be verified in the Twilio
account (Console, "Verified Caller IDs"), otherwise the ``<Dial>`` fails
(Twilio error 13214) and :func:`bridge_twiml` should be given
``caller_id=<the Twilio number>``.

The script the candidate reads (:func:`render_call_script`) covers R11: who
you are, the position, the interview date, why you fit, when to expect news.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from marshmallow import fields, validate
from twilio.base.exceptions import TwilioException
from twilio.twiml.voice_response import VoiceResponse

from channels.base import Channel, Failed, Message, SendResult, Sent
from channels.hookspecs import hookimpl
from channels.phone import check_phone_number
from channels.twilio_client import (
    TwilioAccountSchema,
    classify_twilio_error,
    make_client,
    validate_e164,
)

STATUS_CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"]

# Twilio CallStatus / DialCallStatus -> touch status; absent: not final yet.
CALL_STATUS_TO_TOUCH = {
    "completed": "answered",
    "answered": "answered",
    "busy": "undelivered",
    "no-answer": "undelivered",
    "failed": "failed",
    "canceled": "cancelled",
}


class CallSettingsSchema(TwilioAccountSchema):
    from_number = fields.String(
        required=True,
        validate=validate_e164,
        metadata={"description": "Twilio number that calls the candidate (E.164)"},
    )
    ring_timeout = fields.Integer(
        load_default=30,
        validate=validate.Range(5, 60),
        metadata={"description": "Seconds to let each phone ring"},
    )
    detect_voicemail = fields.Boolean(
        load_default=True,
        metadata={"description": "Do not bridge when the candidate's voicemail answers"},
    )
    voice = fields.String(load_default="", metadata={"description": "Twilio <Say> voice"})
    language = fields.String(load_default="en-US", metadata={"description": "<Say> language"})


# --------------------------------------------------------------------------- script


def _format_date(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value:%A}, {value.day} {value:%B %Y}"
    return str(value)


def render_call_script(
    *,
    candidate_name: str,
    contact_name: str,
    company: str,
    position: str,
    interview_date: date | datetime | str,
    fit: str | Sequence[str] = (),
    interview_point: str | None = None,
) -> str:
    """The script the candidate reads on the call (R11): who you are, the
    position, the interview date, why you fit, and when to expect news.

    ``fit``: one reason or several (joined "a, b and c"); ``interview_point``:
    something specific from the interview to mention.
    """
    reasons = [fit] if isinstance(fit, str) else [r for r in fit if r]
    if len(reasons) > 1:
        fit_text = ", ".join(reasons[:-1]) + " and " + reasons[-1]
    else:
        fit_text = reasons[0] if reasons else ""
    when = _format_date(interview_date)
    lines = [
        f"Call script: {contact_name}, {company}",
        "",
        "1. Who you are",
        f'   "Hello {contact_name}, this is {candidate_name}. We met on {when}, when I '
        f'interviewed for the {position} position."',
        "2. Why you are calling",
    ]
    if interview_point:
        lines.append(f'   "Thank you again for our conversation about {interview_point}."')
    lines.append(f'   "I\'m still very interested in the {position} role at {company}."')
    if fit_text:
        lines += ["3. Why you fit", f'   "I believe I\'d be a strong fit because {fit_text}."']
    lines += [
        f"{4 if fit_text else 3}. Ask",
        '   "Could you tell me when I can expect to hear about the next steps?"',
        f"{5 if fit_text else 4}. Close",
        '   "Thank you for your time. I look forward to hearing from you."',
        "",
        "If you reach voicemail: hang up and try again later, within their business hours.",
        "Note the date they give you: Touchbase waits until it has passed before anything else.",
    ]
    return "\n".join(lines) + "\n"


def render_call_brief(
    contact_name: str, company: str | None = None, position: str | None = None
) -> str:
    """The few words Twilio says to the candidate before bridging."""
    about = f" at {company}" if company else ""
    role = f" about the {position} position" if position else ""
    return (
        f"Touchbase here. Connecting you now to {contact_name}{about}{role}. "
        "Your call script is in the app."
    )


# --------------------------------------------------------------------------- TwiML


def bridge_twiml(
    brief_text: str,
    contact_phone: str,
    candidate_phone: str,
    *,
    caller_id: str | None = None,
    dial_timeout: int = 30,
    action_url: str | None = None,
    voice: str | None = None,
    language: str | None = "en-US",
) -> str:
    """TwiML for the answered candidate leg: say ``brief_text``, then dial the
    contact with the candidate's number as caller id (``caller_id`` overrides
    it). ``action_url`` receives ``DialCallStatus`` when the contact leg ends."""
    response = VoiceResponse()
    response.say(brief_text, voice=voice or None, language=language or None)
    dial = response.dial(
        caller_id=caller_id or candidate_phone,
        timeout=dial_timeout,
        action=action_url,
        method="POST" if action_url else None,
        answer_on_bridge=True,
    )
    dial.number(contact_phone)
    return str(response)


def hangup_twiml(text: str | None = None) -> str:
    """TwiML that (optionally says ``text`` and) hangs up."""
    response = VoiceResponse()
    if text:
        response.say(text)
    response.hangup()
    return str(response)


def is_machine(answered_by: str | None) -> bool:
    """True for Twilio's ``AnsweredBy`` values meaning no person answered."""
    value = (answered_by or "").lower()
    return value.startswith("machine") or value == "fax"


def twiml_for_answer(
    params: Mapping[str, Any],
    brief_text: str,
    contact_phone: str,
    candidate_phone: str,
    **bridge_options: Any,
) -> str:
    """TwiML for Twilio's request to ``twiml_url`` (``params``: its form fields):
    hang up if a machine answered the candidate's phone, else bridge."""
    if is_machine(params.get("AnsweredBy")):
        return hangup_twiml()
    return bridge_twiml(brief_text, contact_phone, candidate_phone, **bridge_options)


def touch_status_for_call(call_status: str | None, answered_by: str | None = None) -> str | None:
    """Touch status for a call status callback (``CallStatus``) or the Dial
    action (``DialCallStatus``): ``answered``, ``undelivered`` (busy, no
    answer, voicemail), ``failed``, ``cancelled``; ``None`` while not final
    (queued, initiated, ringing, in-progress)."""
    status = CALL_STATUS_TO_TOUCH.get((call_status or "").lower())
    if status == "answered" and is_machine(answered_by):
        return "undelivered"
    return status


# --------------------------------------------------------------------------- channel


class CallChannel(Channel):
    name = "call"
    title = "Phone call (Twilio bridge)"
    address_kind = "phone"
    capabilities = frozenset({"delivery_receipts"})
    settings_schema = CallSettingsSchema

    def check_address(self, address: str) -> str | None:
        return check_phone_number(address)

    def send(self, message: Message, settings: Mapping[str, Any]) -> SendResult:
        error = check_phone_number(message.to_address)
        if error:
            return Failed("invalid_address", error)
        error = check_phone_number(message.candidate_phone)
        if error:
            return Failed("invalid_message", f"candidate_phone: {error}")
        if message.candidate_phone == message.to_address:
            return Failed("invalid_message", "the candidate and the contact have the same number")
        twiml_url = message.metadata.get("twiml_url")
        if not twiml_url:
            return Failed("invalid_message", 'metadata["twiml_url"] is required')
        kwargs: dict[str, Any] = {
            "to": message.candidate_phone,
            "from_": settings["from_number"],
            "url": twiml_url,
            "method": "POST",
            "timeout": settings.get("ring_timeout", 30),
        }
        if message.status_callback_url:
            kwargs.update(
                status_callback=message.status_callback_url,
                status_callback_event=STATUS_CALLBACK_EVENTS,
                status_callback_method="POST",
            )
        if settings.get("detect_voicemail", True):
            kwargs["machine_detection"] = "Enable"
        client = make_client(
            settings["account_sid"], settings["auth_token"], timeout=settings.get("timeout", 15.0)
        )
        try:
            call = client.calls.create(**kwargs)
        except (TwilioException, OSError) as exc:
            result = classify_twilio_error(exc, client)
            if isinstance(result, Failed):
                # The number Twilio refused is the candidate's, not the contact's.
                reason = f"calling the candidate: {result.reason}"
                result = replace(result, reason=reason, opt_out=False)
            return result
        return Sent(call.sid or "", {"status": call.status, "called": message.candidate_phone})


@hookimpl
def register_channels(register):
    register(CallChannel())
