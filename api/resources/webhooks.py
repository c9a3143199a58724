"""Twilio webhooks: SMS and call status callbacks, the call bridge's TwiML, inbound SMS.

No bearer token: Twilio signs every request (X-Twilio-Signature) with the auth token of
the account that sent the message, and each request here is checked with twilio's own
RequestValidator against the public URL Twilio called (`TOUCHBASE_PUBLIC_URL` + path +
query), using the auth token of the effective sms/call settings of the touch's candidate
(their own, else their organisation's). A missing or wrong signature answers 403 and
changes nothing.

Decision on unknown touches: the token that checks a signature belongs to the touch's
organisation or candidate, so a touch id that does not exist has no token to check
against and answers 403, exactly like a forged request (an unsigned caller learns
nothing about which ids exist). 404 is answered only after the signature was verified,
for a touch that is not of the endpoint's channel. With no auth token configured the
answer is also 403. An id outside 1..2^31-1 matches no route at all: a plain 404, before
any of this runs (no such id can exist).

A status callback (and the bridge's TwiML request) is about the touch in its URL only if
that touch was handed to the provider, as the provider message the callback names: the
touch is sending, unknown, sent, delivered or failed, and its recorded provider id equals
the callback's MessageSid/CallSid (required fields: Twilio always sends them). One case
has no provider id yet: a touch still 'sending' (the worker has not written Twilio's
answer down) or 'unknown' (the worker died between the provider call and that write).
The URL with the touch id is given to Twilio only at send time, after the touch was
committed 'sending', so a callback signed for that URL may settle it, and the SID it
names is recorded as the touch's provider id; from then on only that SID counts. A touch
never handed over (scheduled, cancelled, skipped, a manual touch) or one with another
provider id is never moved by a callback. (What remains: a touch id reused after a
database restore while Twilio still reports an old message to it, for a touch that is
'sending' or 'unknown' at that moment.)

Decision on stray callbacks: such a signed callback answers 200 with empty TwiML and
changes nothing (no event, no provider status, no opt-out; a warning is logged). It is
authentic and was understood, only about a message this touch does not know: a 4xx/5xx
would show as an error (11200) in the Twilio console and be sent again where retries are
configured, to the same answer. The bridge's TwiML answers a stray call with a hang-up
instead of dialling the contact.

Callbacks are idempotent and order-insensitive: a touch only ever moves forward
(sending -> unknown -> sent -> delivered or failed), a delivered or failed touch stays
so, the provider status never goes back (delivered is not undone by a late "sent"), and
an event is recorded only when something changed. Error 21610 (the contact opted out)
opts the contact out only from the callback that fails the touch, so a replay of it
cannot undo a later START.

Inbound SMS: each MessageSid is acted on at most once, and STOP/START are ordered by the
order the server first saw them (see api.inbound_sms). A replay answers 200 and changes
nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import inbound_sms, ledger
from api.auth import public
from api.channel_settings import effective_raw
from api.db import get_session
from api.models import Application, ChannelSetting, Contact, Touch, User, utcnow
from api.problems import Problem
from api.resources.common import Blueprint
from api.schemas.channels import CallFormSchema, InboundSmsFormSchema, MessageStatusFormSchema

log = logging.getLogger("touchbase.webhooks")

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/webhooks",
    description="Callbacks from Twilio (delivery and call status, the call bridge, inbound "
    "SMS). No token: each request must carry Twilio's signature (X-Twilio-Signature).",
)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
BRIDGE_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Touchbase here. '
    "Connecting you now to Dana Jones at Acme Corp about the Data Engineer position.</Say>"
    '<Dial action="https://touchbase.example/v1/webhooks/twilio/calls/42/status" '
    'answerOnBridge="true" callerId="+14155550123" method="POST" timeout="30">'
    "<Number>+14155550100</Number></Dial></Response>"
)
ACTOR = "twilio"

# A touch only moves up this ladder; delivered and failed are final, like cancelled/skipped.
TOUCH_RANK = {"scheduled": 0, "sending": 1, "unknown": 2, "sent": 3, "delivered": 4, "failed": 4}
SETTLED = frozenset({"delivered", "failed", "cancelled", "skipped"})
# A touch in these statuses was handed to the provider (the worker's fence committed it).
HANDED_OVER = frozenset({"sending", "unknown", "sent", "delivered", "failed"})
# ...and in these its provider id may not be written down yet (see the module docstring).
MAY_LEARN_ITS_SID = frozenset({"sending", "unknown"})

SMS_PROGRESS = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "partially_delivered": 3,
    "read": 4,
}
CALL_PROGRESS = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "failed": 4,
    "canceled": 4,
}
# Call statuses meaning Twilio placed the call (the candidate's phone is ringing or on).
CALL_PLACED = frozenset({"initiated", "ringing", "in-progress"})
NOT_SIGNED = "The request is not signed by Twilio for this account (X-Twilio-Signature)."


# -- signatures ---------------------------------------------------------------------------


def public_url() -> str:
    """The URL Twilio called, as it saw it: the public base, the path, the query."""
    url = current_app.config["PUBLIC_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signed_with(token: str | None) -> bool:
    from channels.twilio_client import validate_twilio_request

    if not token:
        return False
    return validate_twilio_request(
        str(token), public_url(), request.form, request.headers.get("X-Twilio-Signature")
    )


def not_signed() -> Problem:
    log.warning("refused an unsigned or forged Twilio request to %s", request.path)
    return Problem(403, NOT_SIGNED)


def _settings(session: Session, org_id: int, candidate_id: int | None, channel: str) -> dict:
    return effective_raw(session, org_id, candidate_id, channel, current_app.config)


def signed_touch(touch_id: int, channel: str) -> tuple[Touch, dict[str, Any]]:
    """The touch (locked) and its channel settings, once the signature is verified."""
    session = get_session()
    touch = session.scalars(select(Touch).where(Touch.id == touch_id).with_for_update()).first()
    if touch is None:
        raise not_signed()  # no touch, no organisation, no token: see the module docstring
    settings = _settings(session, touch.org_id, touch.candidate_id, channel)
    if not signed_with(settings.get("auth_token")):
        raise not_signed()
    if touch.channel != channel:
        raise Problem(404, f"No such {channel} touch.")
    return touch, settings


def is_about(touch: Touch, sid: str) -> bool:
    """Whether a callback about provider message `sid` is about `touch`: handed over, and
    as that message (or, with no provider id yet, still sending or unknown)."""
    if touch.status not in HANDED_OVER:
        return False
    if touch.provider_id:
        return sid == touch.provider_id
    return touch.status in MAY_LEARN_ITS_SID


def learn_sid(touch: Touch, sid: str, data: dict[str, Any]) -> bool:
    """Record `sid` as the provider id of a touch that had none (checked by is_about)."""
    if touch.provider_id:
        return False
    touch.provider_id = sid
    data["provider_id"] = sid
    return True


def stray(session: Session, touch: Touch, sid: str) -> None:
    """A signed callback not about this touch: log it, change nothing."""
    log.warning(
        "ignored a signed Twilio callback for touch %s (%s, provider id %s) about %s",
        touch.id,
        touch.status,
        touch.provider_id,
        sid,
    )
    session.rollback()  # release the row lock


def twiml(xml: str = EMPTY_TWIML) -> Response:
    return Response(xml, status=200, mimetype="text/xml")


# -- moving a touch forward -----------------------------------------------------------------


def advance(
    session: Session,
    touch: Touch,
    status: str | None,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Move the touch to `status` unless that would be a step back; record the event."""
    if status is None or touch.status in SETTLED:
        return False
    if TOUCH_RANK[status] <= TOUCH_RANK.get(touch.status, 0):
        return False
    previous = touch.status
    touch.status = status
    if status in ("sent", "delivered") and touch.sent_at is None:
        touch.sent_at = utcnow()
    if status == "failed":
        touch.reason = reason
    ledger.record_event(
        session, touch, status, ACTOR, reason=reason, data={"from": previous, **(data or {})}
    )
    return True


def note_provider_status(touch: Touch, value: str | None, ladder: dict[str, int]) -> bool:
    """Keep the furthest provider status seen (a late 'sent' never replaces 'delivered')."""
    value = (value or "").strip().lower()[:32]
    if not value or value == touch.provider_status:
        return False
    if touch.provider_status is not None and ladder.get(value, -1) <= ladder.get(
        touch.provider_status, -1
    ):
        return False
    touch.provider_status = value
    return True


# -- inbound SMS helpers --------------------------------------------------------------------


def _serves(settings: dict[str, Any], to: str, service_sid: str | None) -> bool:
    if to and settings.get("from_number") == to:
        return True
    return bool(service_sid) and settings.get("messaging_service_sid") == service_sid


def inbound_contacts(session: Session, sender: str, to: str, service_sid: str | None):
    """Contacts with the sender's phone whose candidate's SMS number is `to`, and whether
    the signature checked out with one of the accounts that number belongs to."""
    cache: dict[tuple[int, int | None], tuple[bool, bool]] = {}

    def verdict(org_id: int, candidate_id: int | None) -> tuple[bool, bool]:
        key = (org_id, candidate_id)
        if key not in cache:
            settings = _settings(session, org_id, candidate_id, "sms")
            serves = _serves(settings, to, service_sid)
            cache[key] = (serves, serves and signed_with(settings.get("auth_token")))
        return cache[key]

    contacts = session.scalars(
        select(Contact).where(Contact.phone == sender).order_by(Contact.id)
    ).all()
    found = [c for c in contacts if sender and verdict(c.org_id, c.candidate_id) == (True, True)]
    if found:
        return found, True
    # No known contact wrote: still answer Twilio (200) when the number is one of ours and
    # the signature is that account's. Only settings rows that name the number are tried.
    rows = session.execute(
        select(ChannelSetting.org_id, ChannelSetting.candidate_id, ChannelSetting.values).where(
            ChannelSetting.channel == "sms"
        )
    ).all()
    return [], any(
        verdict(org_id, candidate_id)[1]
        for org_id, candidate_id, values in rows
        if _serves(values or {}, to, service_sid)
    )


# -- routes ---------------------------------------------------------------------------------


@blp.route("/twilio/messages/<int:touch_id>/status")
class MessageStatus(MethodView):
    @public
    @blp.arguments(MessageStatusFormSchema, location="form")
    @blp.response(200, description="Empty TwiML", content_type="text/xml", example=EMPTY_TWIML)
    @blp.alt_response(403, response="FORBIDDEN", description="Not signed by Twilio")
    @blp.doc(operationId="receive_twilio_message_status")
    def post(self, form, touch_id):
        """Twilio SMS status callback: delivered or failed

        Moves the touch only if it was handed to Twilio as the message `MessageSid`
        (its provider id; a touch still sending or unknown, with none recorded, takes
        this one). Any other signed callback, for a touch never sent or about another
        message, answers 200 and changes nothing; so does a replay.
        """
        from channels.sms import touch_status_for_sms

        session = get_session()
        touch, _ = signed_touch(touch_id, "sms")
        sid = form["MessageSid"]
        if not is_about(touch, sid):
            stray(session, touch, sid)
            return twiml()
        provider_status = (form.get("MessageStatus") or "").strip().lower()
        error_code = (form.get("ErrorCode") or "").strip() or None
        mapped, opt_out = touch_status_for_sms(provider_status, error_code)
        status = {
            "delivered": "delivered",
            "undelivered": "failed",
            "failed": "failed",
            "cancelled": "failed",
        }.get(mapped or "")
        if status is None and provider_status == "sent":
            status = "sent"
        reason = None
        if status == "failed":
            code = f"twilio:{error_code}: " if error_code else ""
            reason = f"{code}Twilio reported the SMS {provider_status}."
            if opt_out:
                reason += " The contact has opted out of SMS (replied STOP)."
        data = {"provider_status": provider_status, "error_code": error_code}
        learned = learn_sid(touch, sid, data)
        moved = advance(session, touch, status, reason=reason, data=data)
        noted = note_provider_status(touch, provider_status, SMS_PROGRESS)
        if (noted or learned) and not moved:
            ledger.record_event(session, touch, "provider_status", ACTOR, data=data)
        if opt_out and moved and touch.status == "failed":  # not on a replay: see above
            contact = session.get(Contact, touch.contact_id)
            if inbound_sms.opt_out_refused(session, contact, touch, utcnow()):
                ledger.record_event(
                    session,
                    touch,
                    "opted_out",
                    ACTOR,
                    reason="Twilio error 21610: the contact replied STOP; no more SMS to them.",
                )
        session.commit()
        return twiml()


@blp.route("/twilio/calls/<int:touch_id>/twiml")
class CallTwiml(MethodView):
    @public
    @blp.arguments(CallFormSchema, location="form")
    @blp.response(
        200, description="TwiML for the bridge", content_type="text/xml", example=BRIDGE_EXAMPLE
    )
    @blp.alt_response(403, response="FORBIDDEN", description="Not signed by Twilio")
    @blp.doc(operationId="bridge_twilio_call")
    def post(self, form, touch_id):
        """Call bridge TwiML: brief the candidate, then dial the contact

        Only for the call the touch was handed to Twilio as (`CallSid`, as for the status
        callbacks); any other signed request is answered with a hang-up.
        """
        from channels.call import hangup_twiml, render_call_brief, twiml_for_answer

        session = get_session()
        touch, settings = signed_touch(touch_id, "call")
        if not is_about(touch, form["CallSid"]):
            stray(session, touch, form["CallSid"])
            return twiml(hangup_twiml("This is not a call Touchbase placed. Goodbye."))
        contact = session.get(Contact, touch.contact_id)
        candidate = session.get(User, touch.candidate_id)
        application = session.get(Application, touch.application_id)
        if touch.status in ("cancelled", "skipped") or contact.do_not_contact:
            return twiml(hangup_twiml("This call was cancelled in Touchbase. Goodbye."))
        if not contact.phone:
            return twiml(hangup_twiml("There is no phone number for this contact. Goodbye."))
        brief = render_call_brief(
            contact.name, contact.company or application.company, application.position
        )
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        xml = twiml_for_answer(
            request.form,
            brief,
            contact.phone,
            candidate.phone or settings.get("from_number") or "",
            dial_timeout=int(settings.get("ring_timeout") or 30),
            action_url=f"{base}/v1/webhooks/twilio/calls/{touch.id}/status",
            voice=settings.get("voice") or None,
            language=settings.get("language") or "en-US",
        )
        session.rollback()  # nothing to change: release the row lock
        return twiml(xml)


@blp.route("/twilio/calls/<int:touch_id>/status")
class CallStatus(MethodView):
    @public
    @blp.arguments(CallFormSchema, location="form")
    @blp.response(200, description="Empty TwiML", content_type="text/xml", example=EMPTY_TWIML)
    @blp.alt_response(403, response="FORBIDDEN", description="Not signed by Twilio")
    @blp.doc(operationId="receive_twilio_call_status")
    def post(self, form, touch_id):
        """Twilio call status callback (and the bridge's dial outcome)

        Moves the touch only if it was handed to Twilio as the call `CallSid` (as for
        SMS status callbacks); any other signed callback answers 200 and changes nothing.
        """
        from channels.call import is_machine, touch_status_for_call

        session = get_session()
        touch, _ = signed_touch(touch_id, "call")
        sid = form["CallSid"]
        if not is_about(touch, sid):
            stray(session, touch, sid)
            return twiml()
        call_status = (form.get("CallStatus") or "").strip().lower()
        dial_status = (form.get("DialCallStatus") or "").strip().lower()
        answered_by = form.get("AnsweredBy")
        if dial_status:  # the contact's leg, reported by <Dial action=...>
            mapped = touch_status_for_call(dial_status)
            why = f"The contact's phone: {dial_status}."
        else:
            mapped = touch_status_for_call(call_status, answered_by)
            why = (
                "The candidate's voicemail answered, so the call was not bridged."
                if is_machine(answered_by)
                else f"Calling the candidate: {call_status}."
            )
        status = {"answered": "delivered"}.get(mapped or "", "failed" if mapped else None)
        if status is None and call_status in CALL_PLACED:
            status = "sent"
        data = {"provider_status": call_status, "dial_status": dial_status or None}
        if answered_by:
            data["answered_by"] = answered_by
        learned = learn_sid(touch, sid, data)
        reason = why if status == "failed" else None
        moved = advance(session, touch, status, reason=reason, data=data)
        noted = note_provider_status(touch, call_status, CALL_PROGRESS)
        if (noted or learned) and not moved:
            ledger.record_event(session, touch, "provider_status", ACTOR, data=data)
        session.commit()
        return twiml()


@blp.route("/twilio/sms/inbound")
class InboundSms(MethodView):
    @public
    @blp.arguments(InboundSmsFormSchema, location="form")
    @blp.response(
        200,
        description="Empty TwiML (no automatic answer)",
        content_type="text/xml",
        example=EMPTY_TWIML,
    )
    @blp.alt_response(403, response="FORBIDDEN", description="Not signed by Twilio")
    @blp.doc(operationId="receive_twilio_inbound_sms")
    def post(self, form):
        """Inbound SMS: STOP/START opt-out, or a reply that stops the sequence

        Each `MessageSid` is acted on once: a replay (even two deliveries at the same
        moment) answers 200 and changes nothing. STOP/START are applied in the order the
        server first saw them; the contact records which SID set its opt-out and when.
        """
        session = get_session()
        sender = (form.get("From") or "").strip()
        to = (form.get("To") or "").strip()
        body = form.get("Body") or ""
        contacts, signed = inbound_contacts(session, sender, to, form.get("MessagingServiceSid"))
        if not signed:
            raise not_signed()
        now = utcnow()
        kind = inbound_sms.message_kind(body)
        message = inbound_sms.claim(session, form["MessageSid"], kind, now)
        if message is None:
            return twiml()  # seen before
        if kind in ("opt_out", "opt_in"):
            inbound_sms.set_sms_opt(session, contacts, message, kind == "opt_out")
        elif kind == "reply" and contacts:
            contact = inbound_sms.replying_contact(session, contacts)
            if contact is not None:
                inbound_sms.record_reply(session, contact, body, message, now, current_app.config)
        session.commit()
        return twiml()
