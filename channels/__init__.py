"""Touchbase channels: the plugin API and the built-in channels.

A plugin author needs only this import::

    from channels import Channel, Failed, Message, RetryLater, Sent, Unknown, hookimpl

(and ``Finding``, ``CheckContext`` for ``register_checks``; ``InboundReply``, ``Replies``,
``SourceUnavailable`` for ``inbound_replies``).

See ``plugins/README.md`` for the guide and ``channels/hookspecs.py`` for the hooks.
Importing this package is cheap: the built-in channels (and twilio) load only
when the registry loads the ``touchbase`` entry points.
"""

from channels.base import (
    ADDRESS_KINDS,
    CAPABILITIES,
    RESULT_TYPES,
    Channel,
    ChannelSession,
    Failed,
    Message,
    RetryLater,
    SendResult,
    Sent,
    TouchEvent,
    Unknown,
    make_message_id,
    send_safely,
)
from channels.hookspecs import hookimpl
from channels.inbound import InboundEvent, InboundReply, Replies, SourceUnavailable

#: Names re-exported from the message check (``api.preflight``), imported on first use so
#: that ``import channels`` stays cheap.
_LAZY = {"Finding": "api.preflight.model", "CheckContext": "api.preflight.model"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'channels' has no attribute {name!r}")


__all__ = [
    "ADDRESS_KINDS",
    "CAPABILITIES",
    "RESULT_TYPES",
    "Channel",
    "ChannelSession",
    "CheckContext",
    "Failed",
    "Finding",
    "InboundEvent",
    "InboundReply",
    "Message",
    "Replies",
    "RetryLater",
    "SendResult",
    "Sent",
    "SourceUnavailable",
    "TouchEvent",
    "Unknown",
    "hookimpl",
    "make_message_id",
    "send_safely",
]
