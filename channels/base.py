"""The channel contract: what a channel is, what it is given, what it answers.

A *channel* delivers one touch (an email, an SMS, a phone call) to one contact.
The worker builds a :class:`Message` once per touch, loads the channel's settings
with :meth:`Channel.load_settings`, calls :meth:`Channel.send`, and records the
:data:`SendResult`:

===============  =============================================================
``Sent``         the provider accepted it; ``provider_id`` identifies it there
``RetryLater``   nothing was delivered and trying again later may work
``Failed``       nothing was delivered and trying again will not help
``Unknown``      the provider may or may not have accepted it: never re-send
                 blindly (the worker marks the touch ``unknown``)
===============  =============================================================

``send`` returns a result for every provider or network problem; it raises only
on programming errors. When in doubt between ``RetryLater`` and ``Unknown``,
a channel answers ``Unknown``: a duplicate thank-you note is worse than none.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from email.utils import make_msgid
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from marshmallow import Schema

from channels.inbound import Replies

log = logging.getLogger(__name__)

ADDRESS_KINDS: frozenset[str] = frozenset({"email", "phone"})
"""What a channel needs to reach a contact: their email address or phone number."""

CAPABILITIES: frozenset[str] = frozenset({"threading", "delivery_receipts", "inbound_replies"})
"""What a channel can declare:

``threading``          follow-ups can be threaded onto the earlier message (R16)
``delivery_receipts``  the provider reports delivery later (status callbacks)
``inbound_replies``    replies from the contact come back through the channel
"""

CHANNEL_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
"""A channel name: lower-case, starts with a letter, at most 40 characters."""

AddressKind = Literal["email", "phone"]


# --------------------------------------------------------------------------- message


@dataclass(frozen=True, kw_only=True)
class Message:
    """One rendered touch, built once by the caller and reused unchanged on retries.

    Only ``touch_id``, ``to_address`` and ``body`` are always required; each
    channel says which other fields it needs (email: ``from_address`` and
    ``message_id``; call: ``candidate_phone`` and ``metadata["twiml_url"]``).
    """

    touch_id: str | int
    """The touch this message delivers: used in file names and logs."""
    to_address: str
    """The contact's address of the channel's ``address_kind`` (email or E.164 phone)."""
    body: str
    """The plain-text body (email text part, SMS text, or the call brief)."""
    step: str | None = None
    """The plan step: ``thank_you``, ``follow_up``, ``call``, ``rejection_reply``..."""
    to_name: str | None = None
    from_address: str | None = None
    """Email: the candidate's address, used in the From header."""
    from_name: str | None = None
    reply_to: str | None = None
    subject: str | None = None
    """Email subject as written. The email channel adds ``Re: `` itself for replies."""
    html: str | None = None
    """Optional HTML alternative of ``body`` (email only)."""
    message_id: str | None = None
    """Email Message-ID (``<...@domain>``): made once with :func:`make_message_id`,
    stored with the touch and reused on every retry, so a retry cannot produce a
    second, different message in the contact's mailbox thread."""
    in_reply_to: str | None = None
    """Message-ID of the earlier note this one follows up on (R16)."""
    references: Sequence[str] = ()
    """Message-IDs of the thread, oldest first."""
    status_callback_url: str | None = None
    """Where the provider reports delivery/call status (SMS and call)."""
    candidate_phone: str | None = None
    """Call bridge: the candidate's own phone (E.164), called first."""
    call_script: str | None = None
    """Call: the script the candidate reads (see ``channels.call.render_call_script``)."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Channel-specific extras, e.g. ``twiml_url`` for the call channel."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "references", tuple(self.references))


def make_message_id(domain: str) -> str:
    """A new, globally unique email Message-ID such as ``<1717...touchbase@example.com>``.

    Call it once when the touch is created, store it, and put the same value in
    every :class:`Message` built for that touch.
    """
    if not domain or any(c in domain for c in "<>@ \t\r\n"):
        raise ValueError(f"not a domain name: {domain!r}")
    return make_msgid(idstring="touchbase", domain=domain)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message. ``provider_id``: its id there (Twilio
    SID, email Message-ID). ``info``: optional extras (segments, outbox path)."""

    provider_id: str
    info: Mapping[str, Any] = field(default_factory=dict)
    outcome: ClassVar[str] = "sent"


@dataclass(frozen=True)
class RetryLater:
    """Not delivered; trying again later may work. ``retry_after``: seconds the
    provider asked us to wait, if it said so (otherwise the worker's backoff)."""

    reason: str
    retry_after: float | None = None
    outcome: ClassVar[str] = "retry"


@dataclass(frozen=True)
class Failed:
    """Not delivered and a retry will not help. ``code`` is namespaced:
    ``smtp:550``, ``twilio:21211``, or a channel's own word (``invalid_address``,
    ``too_long``). ``opt_out``: the recipient refused this channel (e.g. replied
    STOP to SMS): do not use the channel for this contact again."""

    code: str
    reason: str
    opt_out: bool = False
    outcome: ClassVar[str] = "failed"


@dataclass(frozen=True)
class Unknown:
    """The provider may have accepted the message (e.g. the connection dropped
    after the request was sent). The worker must not re-send it automatically."""

    reason: str
    outcome: ClassVar[str] = "unknown"


SendResult = Sent | RetryLater | Failed | Unknown
RESULT_TYPES: tuple[type, ...] = (Sent, RetryLater, Failed, Unknown)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class TouchEvent:
    """Something that happened to a touch, passed to every ``touch_event`` hook.

    ``kind``: ``scheduled``, ``sent``, ``retry``, ``failed``, ``unknown``,
    ``skipped``, ``cancelled``, ``delivered``, ``undelivered``, ``answered``...
    ``actor``: who caused it (``worker``, ``user:42``, ``twilio``).
    ``reason``: the rule or provider message, if any. ``detail``: extras.
    """

    touch_id: str | int
    kind: str
    at: datetime
    actor: str | None = None
    reason: str | None = None
    channel: str | None = None
    provider_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TouchEvent:
        """Build an event from a dict; keys that are not fields go to ``detail``."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names and k != "detail"}
        extra = dict(data.get("detail") or {})
        extra.update({k: v for k, v in data.items() if k not in names})
        return cls(**known, detail=extra)


# --------------------------------------------------------------------------- channel


@runtime_checkable
class ChannelProtocol(Protocol):
    """What the registry requires of a channel object (duck-typed)."""

    name: str
    address_kind: str
    capabilities: frozenset[str]
    settings_schema: type[Schema]

    def check_address(self, address: str) -> str | None: ...

    def send(self, message: Message, settings: Mapping[str, Any]) -> SendResult: ...


@runtime_checkable
class ChannelSession(Protocol):
    """What ``Channel.open_session`` returns: the channel's ``send`` for the messages of one
    batch, in order, from one thread, then ``close`` once (also after an error). Each
    ``send`` answers for its own message exactly as the channel's ``send`` would: a reply
    lost on a connection reused from the previous message is still ``Unknown``."""

    def send(self, message: Message, settings: Mapping[str, Any]) -> SendResult: ...

    def close(self) -> None: ...


class Channel:
    """Base class for channels. Subclass it, set the class attributes, implement
    :meth:`check_address` and :meth:`send`.

    ``settings_schema`` is a marshmallow Schema class; mark secrets with
    ``load_only=True, metadata={"secret": True}`` so they are never dumped or
    shown by ``GET /v1/channels``.
    """

    name: str = ""
    """Unique channel name: lower-case letters, digits, ``-``, ``_`` (``email``)."""
    title: str = ""
    """Human-readable name for listings (defaults to ``name``)."""
    address_kind: str = "email"
    """``"email"`` or ``"phone"``: which contact address ``to_address`` holds."""
    capabilities: frozenset[str] = frozenset()
    """A subset of :data:`CAPABILITIES`."""
    settings_schema: type[Schema] = Schema
    """Marshmallow schema of the channel's settings (org-level configuration)."""
    default_templates: Mapping[str, tuple[str, str]] = {}
    """The channel's own default message per step: ``{"thank_you": (subject, body)}``
    (Jinja2 text of Touchbase's template namespace; subject ``""`` unless
    ``address_kind`` is ``"email"``). Used when neither the candidate nor the
    organisation wrote a template for this channel; a step without one borrows the
    built-in template of the address kind."""

    def check_address(self, address: str) -> str | None:
        """Return ``None`` when ``address`` is usable, else a short error message."""
        raise NotImplementedError

    def send(self, message: Message, settings: Mapping[str, Any]) -> SendResult:
        """Deliver ``message`` with ``settings`` (as returned by
        :meth:`load_settings`) and return a :data:`SendResult`. Never raise for
        provider or network trouble."""
        raise NotImplementedError

    def open_session(self) -> ChannelSession | None:
        """Optional: a :class:`ChannelSession` the worker sends a whole batch through (to
        keep provider connections open across its messages), closed after the batch.
        ``None`` (the default): each message goes through :meth:`send`."""
        return None

    def inbound_source(self, settings: Mapping[str, Any]) -> str | None:
        """With ``inbound_replies``: the name of the place replies are read from under
        ``settings``, or ``None`` (see :mod:`channels.inbound`)."""
        return None

    def inbound_poll_seconds(self, settings: Mapping[str, Any]) -> float:
        """With ``inbound_replies``: seconds between two polls under ``settings``."""
        return 60.0

    def fetch_replies(
        self,
        settings: Mapping[str, Any],
        cursor: Mapping[str, Any] | None,
        *,
        since: datetime,
        limit: int,
    ) -> Replies:
        """With ``inbound_replies``: the messages after ``cursor`` (see :mod:`channels.inbound`)."""
        raise NotImplementedError

    def load_settings(self, raw: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate raw settings and apply defaults (raises marshmallow ValidationError)."""
        return load_settings(self, raw)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} channel {self.name!r}>"


@functools.cache
def _schema(schema: type[Schema]) -> Schema:
    """One instance of each settings schema: building a marshmallow schema costs more than
    loading with it, and the planner checks every channel's settings for each candidate."""
    return schema()


def load_settings(channel: ChannelProtocol, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate ``raw`` with the channel's ``settings_schema`` and apply defaults."""
    return _schema(channel.settings_schema).load(dict(raw or {}))


def public_settings(channel: ChannelProtocol, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with every secret (load-only) field left out, safe to show."""
    return _schema(channel.settings_schema).dump(settings)


def secret_fields(schema: type[Schema] | Schema) -> set[str]:
    """Names of the fields marked ``metadata={"secret": True}``."""
    instance = schema() if isinstance(schema, type) else schema
    return {name for name, f in instance.fields.items() if f.metadata.get("secret")}


def send_safely(
    channel: ChannelProtocol,
    message: Message,
    settings: Mapping[str, Any],
    session: ChannelSession | None = None,
) -> SendResult:
    """``channel.send(message, settings)`` (or ``session.send``, a session the channel
    opened), guaranteed to return a result.

    A channel that raises (or returns something that is not a result) has a
    bug, and it may have handed the message over before failing: that is
    reported as :class:`Unknown`, with the traceback logged, so the worker
    never re-sends it blindly.
    """
    try:
        result = (session or channel).send(message, settings)
    except Exception as exc:
        log.exception("channel %r raised while sending touch %s", channel.name, message.touch_id)
        return Unknown(f"channel {channel.name!r} raised {type(exc).__name__}: {exc}")
    if not isinstance(result, RESULT_TYPES):
        log.error("channel %r returned %r instead of a result", channel.name, result)
        return Unknown(f"channel {channel.name!r} returned {type(result).__name__}, not a result")
    return result
