"""touchbase-console: a channel that writes each message to stdout or a file.

For local use and demos: nothing leaves the machine, and you see every touch
the worker would have sent. Register it by installing this package; enable it
for a contact like any channel named ``console``.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from channels import Channel, Failed, RetryLater, Sent, hookimpl

__version__ = "0.1.0"

_lock = threading.Lock()  # one writer at a time, so two touches never interleave


class ConsoleSettings(Schema):
    path = fields.String(
        load_default="", metadata={"description": "Append to this file; empty: standard output"}
    )
    format = fields.String(
        load_default="text",
        validate=validate.OneOf(["text", "json"]),
        metadata={"description": "'text' (readable) or 'json' (one object per line)"},
    )


def render(message, fmt: str) -> str:
    """The message as it is written: a readable block or one JSON line."""
    if fmt == "json":
        fields_ = ("touch_id", "step", "to_address", "to_name", "from_address", "subject", "body")
        return json.dumps({k: getattr(message, k) for k in fields_}, default=str) + "\n"
    sender = f"{message.from_name or ''} <{message.from_address or '-'}>".strip()
    return (
        f"=== touch {message.touch_id} ({message.step or '-'}) "
        f"at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC ===\n"
        f"To: {message.to_name or ''} <{message.to_address}>\n"
        f"From: {sender}\n"
        f"Subject: {message.subject or ''}\n\n"
        f"{message.body.rstrip()}\n\n"
    )


class ConsoleChannel(Channel):
    name = "console"
    title = "Console (prints instead of sending)"
    address_kind = "email"
    capabilities = frozenset()
    settings_schema = ConsoleSettings

    def check_address(self, address):
        local, at, domain = (address or "").partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in address):
            return "not an email address"
        return None

    def send(self, message, settings):
        error = self.check_address(message.to_address)
        if error:
            return Failed("invalid_address", error)
        text = render(message, settings.get("format", "text"))
        try:
            with _lock:
                if settings.get("path"):
                    with open(settings["path"], "a", encoding="utf-8") as handle:
                        handle.write(text)
                else:
                    sys.stdout.write(text)
                    sys.stdout.flush()
        except OSError as exc:
            return RetryLater(f"cannot write {settings.get('path')}: {exc}")
        return Sent(f"console-{message.touch_id}")


@hookimpl
def register_channels(register):
    register(ConsoleChannel())
