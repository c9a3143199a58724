"""Every hook of the plugin API is documented and works for a plugin implementing it.

``HOOK_VERIFIERS`` has one entry per hookspec: a plugin implementing that hook,
and what the registry must make of it. Adding a hookspec without adding a
verifier here fails ``test_every_hookspec_is_verified``.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest

from channels import Channel, InboundEvent, Sent, TouchEvent, hookimpl, hookspecs, registry
from channels.registry import make_plugin_manager


def spec_names() -> set[str]:
    pm = make_plugin_manager(load_entrypoints=False)
    return {name for name, caller in vars(pm.hook).items() if getattr(caller, "spec", None)}


class _Probe(Channel):
    name = "probe"
    address_kind = "email"

    def check_address(self, address):
        return None

    def send(self, message, settings):
        return Sent("probe")


def verify_register_channels():
    class Plugin:
        @hookimpl
        def register_channels(self, register):
            register(_Probe())

    pm = make_plugin_manager([Plugin()], load_entrypoints=False)
    assert isinstance(registry.get_channel("probe", pm), _Probe)


def verify_register_checks():
    def polite(message, context):
        yield from ()

    class Plugin:
        @hookimpl
        def register_checks(self, register):
            register(polite)

    pm = make_plugin_manager([Plugin()], load_entrypoints=False)
    [check] = registry.checks(pm)
    assert check.name == "polite" and check.func is polite


def verify_touch_event():
    received = []

    class Plugin:
        @hookimpl
        def touch_event(self, event):
            received.append(event)

    event = TouchEvent(touch_id=5, kind="delivered", at=datetime.now(UTC), actor="twilio")
    registry.notify_event(event, make_plugin_manager([Plugin()], load_entrypoints=False))
    assert received == [event]


def verify_inbound_message():
    received = []

    class Plugin:
        @hookimpl
        def inbound_message(self, event):
            received.append(event)

    event = InboundEvent(
        outcome="recorded", reason="Recorded as replied.", source="email", org_id=1
    )
    registry.notify_inbound(event, make_plugin_manager([Plugin()], load_entrypoints=False))
    assert received == [event]


def test_an_inbound_observer_that_fails_is_logged_and_the_others_still_hear(caplog):
    received = []

    class Broken:
        @hookimpl
        def inbound_message(self, event):
            raise RuntimeError("observer bug")

    class Plugin:
        @hookimpl
        def inbound_message(self, event):
            received.append(event)

    event = InboundEvent(outcome="ignored", reason="An automatic reply.", source="upload", org_id=1)
    manager = make_plugin_manager([Broken(), Plugin()], load_entrypoints=False)
    registry.notify_inbound(event, manager)

    assert received == [event]
    assert "inbound_message observer" in caplog.text


HOOK_VERIFIERS = {
    "register_channels": verify_register_channels,
    "register_checks": verify_register_checks,
    "touch_event": verify_touch_event,
    "inbound_message": verify_inbound_message,
}


def test_every_hookspec_is_verified():
    assert spec_names() == set(HOOK_VERIFIERS)


@pytest.mark.parametrize("hook", sorted(HOOK_VERIFIERS))
def test_a_plugin_implementing_the_hook_is_served(hook):
    HOOK_VERIFIERS[hook]()


@pytest.mark.parametrize("hook", sorted(HOOK_VERIFIERS))
def test_the_hookspec_documents_itself(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook))

    assert doc and len(doc.split()) >= 20, f"{hook} needs a docstring for plugin authors"


@pytest.mark.parametrize("hook", sorted(HOOK_VERIFIERS))
def test_the_hookspec_arguments_are_typed(hook):
    signature = inspect.signature(getattr(hookspecs, hook))

    assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values())


def test_a_hook_implementation_may_take_fewer_arguments():
    class Plugin:
        @hookimpl
        def touch_event(self):
            calls.append("called")

    calls: list[str] = []
    registry.notify_event(
        TouchEvent(touch_id=1, kind="sent", at=datetime.now(UTC)),
        make_plugin_manager([Plugin()], load_entrypoints=False),
    )
    assert calls == ["called"]


def test_the_plugin_import_offers_everything_a_channel_author_needs():
    import channels

    for name in ("hookimpl", "Channel", "Message", "Sent", "RetryLater", "Failed", "Unknown"):
        assert hasattr(channels, name), name
