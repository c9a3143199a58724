"""Touchbase channels: the plugin API and the built-in channels.

A plugin author needs only this import::

    from channels import Channel, Failed, Message, RetryLater, Sent, Unknown, hookimpl

See ``plugins/README.md`` for the guide and ``channels/hookspecs.py`` for the hooks.
Importing this package is cheap: the built-in channels (and twilio) load only
when the registry loads the ``touchbase`` entry points.
"""

from channels.base import (
    ADDRESS_KINDS,
    CAPABILITIES,
    RESULT_TYPES,
    Channel,
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

__all__ = [
    "ADDRESS_KINDS",
    "CAPABILITIES",
    "RESULT_TYPES",
    "Channel",
    "Failed",
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
