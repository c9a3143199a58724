"""A plugin channel with the ``inbound_replies`` capability feeds the same pipeline as the
built-in IMAP mailbox: the worker polls it, with its own cursor (plugins/README.md)."""

from __future__ import annotations

import pytest
from marshmallow import Schema, fields
from sqlalchemy import select

from api.inbound.poller import MailboxPoller
from api.models import InboundMail, Mailbox
from channels import Channel, InboundReply, Replies, Sent, SourceUnavailable, hookimpl
from channels.registry import get_plugin_manager
from tests.inbound.conftest import build
from tests.scheduling.conftest import Calendar

#: The plugin's "provider": box name -> raw messages, oldest first.
BOXES: dict[str, list[bytes]] = {}


class PostboxSettings(Schema):
    box = fields.String(load_default="")


class PostboxChannel(Channel):
    """Sends nothing anywhere; reads replies from BOXES[box]."""

    name = "postbox"
    address_kind = "email"
    capabilities = frozenset({"inbound_replies"})
    settings_schema = PostboxSettings

    def check_address(self, address):
        return None

    def send(self, message, settings):
        return Sent("postbox")

    def inbound_source(self, settings):
        return f"postbox://{settings['box']}" if settings.get("box") else None

    def fetch_replies(self, settings, cursor, *, since, limit):
        if settings["box"] not in BOXES:
            raise SourceUnavailable(f"no box {settings['box']!r}")
        start = (cursor or {}).get("next", 0)
        messages = BOXES[settings["box"]][start : start + limit]
        items = [InboundReply(raw, {"next": start + n + 1}) for n, raw in enumerate(messages)]
        return Replies(items, {"next": start + len(items)})


class PostboxPlugin:
    @hookimpl
    def register_channels(self, register):
        register(PostboxChannel())


@pytest.fixture
def postbox(app, db, world, factory, call, request):
    scene = Calendar(app, db, world, factory, call, request.getfixturevalue("smtp_peer"))
    scene.plan()
    scene.thank_you = next(t for t in scene.touches() if t["step"] == "thank_you")
    manager = get_plugin_manager()
    manager.register(PostboxPlugin(), name="postbox-plugin")
    BOXES.clear()
    BOXES["b1"] = []
    answer = call("put", "/v1/channels/postbox/settings", world.tokens["admin"], json={"box": "b1"})
    assert answer.status_code == 200, answer.get_json()
    yield scene
    manager.unregister(name="postbox-plugin")
    BOXES.clear()


def poll(app):
    sessions = app.extensions["touchbase.sessionmaker"]
    return MailboxPoller(sessions, app.config, "p").poll_due()


def test_a_reply_read_by_a_plugin_channel_stops_the_sequence(postbox, app):
    BOXES["b1"].append(
        build(
            "Thanks Ana, lovely to meet you.\n",
            From=f"Dana <{postbox.dana.email}>",
            In_Reply_To=postbox.thank_you["message_id"],
        )
    )

    report = poll(app)

    assert report.outcomes == {"recorded": 1}
    assert postbox.pending() == {}


def test_the_plugins_cursor_is_kept_for_it(postbox, app, db):
    BOXES["b1"] += [
        build("one\n", Message_ID="<1@x.example>"),
        build("two\n", Message_ID="<2@x.example>"),
    ]

    poll(app)

    box = db.scalars(select(Mailbox)).one()
    assert (box.source, box.cursor, box.heard) == ("postbox://b1", {"next": 2}, 2)
    assert {m.source for m in db.scalars(select(InboundMail))} == {"postbox"}


def test_a_plugin_source_that_cannot_be_read_shows_the_plugins_reason(postbox, app, db):
    BOXES.pop("b1")

    poll(app)

    box = db.scalars(select(Mailbox)).one()
    assert (box.status, box.last_error) == ("unavailable", "no box 'b1'")


def test_a_plugin_that_crashes_while_fetching_leaves_the_mailbox_unavailable(postbox, app, db):
    BOXES["b1"] = None  # the plugin's own bug: slicing None raises TypeError

    poll(app)

    box = db.scalars(select(Mailbox)).one()
    assert box.status == "unavailable"
    assert box.last_error.startswith("the postbox channel failed: TypeError")
