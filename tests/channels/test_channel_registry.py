"""The plugin registry: entry points, TOUCHBASE_PLUGINS, validation, describing."""

from __future__ import annotations

import logging
import sys
import textwrap
from datetime import UTC, datetime

import pluggy
import pytest
from marshmallow import Schema, fields

import channels.email
from channels import Channel, Sent, TouchEvent, hookimpl, registry
from channels.registry import (
    DuplicateChannelError,
    InvalidChannelError,
    PluginError,
    UnknownChannelError,
    make_plugin_manager,
)

BUILTINS = {"email", "sms", "call"}


class EchoChannel(Channel):
    name = "echo"
    address_kind = "email"
    settings_schema = Schema

    def check_address(self, address):
        return None if "@" in address else "no @"

    def send(self, message, settings):
        return Sent(f"echo-{message.touch_id}")


class EchoPlugin:
    @hookimpl
    def register_channels(self, register):
        register(EchoChannel())


@pytest.fixture
def install_distribution(tmp_path, monkeypatch):
    """Install a throw-away distribution with ``touchbase`` entry points into
    sys.path (a real .dist-info that importlib.metadata finds)."""
    created_modules = []

    def install(dist, module, source, entry_points, version="1.2.3"):
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        info = tmp_path / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[touchbase]\n{lines}")
        created_modules.append(module)
        monkeypatch.syspath_prepend(str(tmp_path))

    yield install
    for module in created_modules:
        sys.modules.pop(module, None)


ECHO_PLUGIN_SOURCE = """
    from channels import Channel, Sent, hookimpl
    from marshmallow import Schema

    class Echo(Channel):
        name = "echo"
        address_kind = "phone"
        settings_schema = Schema
        def check_address(self, address):
            return None
        def send(self, message, settings):
            return Sent("echo")

    @hookimpl
    def register_channels(register):
        register(Echo())
"""


# --------------------------------------------------------------------------- loading


def test_the_builtin_channels_are_loaded_through_their_entry_points():
    pm = make_plugin_manager()

    assert set(registry.channels(pm)) >= BUILTINS
    for name in BUILTINS:
        assert pm.sources[name].distribution == "touchbase"


def test_a_builtin_plugin_is_the_module_its_entry_point_names():
    pm = make_plugin_manager()

    assert pm.get_plugin("email") is channels.email


def test_touchbase_plugins_limits_which_plugins_load(monkeypatch):
    monkeypatch.setenv("TOUCHBASE_PLUGINS", "email")

    assert list(registry.channels(make_plugin_manager())) == ["email"]


def test_touchbase_plugins_tolerates_spaces_and_empty_items(monkeypatch):
    monkeypatch.setenv("TOUCHBASE_PLUGINS", " email , sms ,")

    assert set(registry.channels(make_plugin_manager())) == {"email", "sms"}


def test_an_empty_touchbase_plugins_loads_every_plugin(monkeypatch):
    monkeypatch.setenv("TOUCHBASE_PLUGINS", "")

    assert set(registry.channels(make_plugin_manager())) >= BUILTINS


def test_a_plugin_named_in_touchbase_plugins_but_not_installed_is_an_error(monkeypatch):
    monkeypatch.setenv("TOUCHBASE_PLUGINS", "email,fax")

    with pytest.raises(PluginError, match="not installed: fax"):
        make_plugin_manager()


def test_explicit_names_override_the_environment(monkeypatch):
    monkeypatch.setenv("TOUCHBASE_PLUGINS", "email")

    assert list(registry.channels(make_plugin_manager(names=["sms"]))) == ["sms"]


def test_a_third_party_plugin_is_found_through_its_entry_point(install_distribution):
    install_distribution(
        "touchbase-echo", "tb_echo_plugin", ECHO_PLUGIN_SOURCE, {"echo": "tb_echo_plugin"}
    )

    pm = make_plugin_manager()

    assert "echo" in registry.channels(pm)
    assert pm.sources["echo"].distribution == "touchbase-echo"
    assert pm.sources["echo"].version == "1.2.3"


def test_touchbase_plugins_can_leave_out_the_builtins(install_distribution, monkeypatch):
    install_distribution(
        "touchbase-echo", "tb_echo_only", ECHO_PLUGIN_SOURCE, {"echo": "tb_echo_only"}
    )
    monkeypatch.setenv("TOUCHBASE_PLUGINS", "echo")

    assert list(registry.channels(make_plugin_manager())) == ["echo"]


def test_a_plugin_that_fails_to_import_is_reported_by_name(install_distribution):
    install_distribution(
        "touchbase-broken",
        "tb_broken_plugin",
        "import no_such_module\n",
        {"broken": "tb_broken_plugin"},
    )

    with pytest.raises(PluginError, match=r"'broken'.*failed to import"):
        make_plugin_manager()


def test_check_pending_refuses_a_hook_implementation_without_a_hookspec():
    class Misspelled:
        @hookimpl
        def register_channel(self, register):  # the hook is register_channels
            pass

    with pytest.raises(pluggy.PluginValidationError, match="register_channel"):
        make_plugin_manager([Misspelled()], load_entrypoints=False)


def test_the_process_wide_plugin_manager_is_built_once():
    assert registry.get_plugin_manager() is registry.get_plugin_manager()


def test_reset_rebuilds_the_plugin_manager_with_the_new_environment(monkeypatch):
    first = registry.get_plugin_manager()
    monkeypatch.setenv("TOUCHBASE_PLUGINS", "sms")
    registry.reset()

    assert registry.get_plugin_manager() is not first
    assert list(registry.channels()) == ["sms"]


# --------------------------------------------------------------------------- channels


def test_channel_objects_are_reused_until_a_plugin_registers():
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(EchoPlugin())
    first = registry.get_channel("echo", pm)

    assert registry.get_channel("echo", pm) is first
    pm.register(channels.email)
    assert registry.get_channel("echo", pm) is not first
    assert "email" in registry.channels(pm)


def test_an_unknown_channel_name_raises_listing_the_known_ones():
    pm = make_plugin_manager([EchoPlugin()], load_entrypoints=False)

    with pytest.raises(UnknownChannelError, match=r"'fax'.*echo"):
        registry.get_channel("fax", pm)


def test_a_plugin_failing_while_registering_is_named():
    class Crashing:
        @hookimpl
        def register_channels(self, register):
            raise RuntimeError("missing API key")

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Crashing(), name="crashing")

    with pytest.raises(PluginError, match=r"'crashing' failed in register_channels"):
        registry.channels(pm)


def test_two_channels_with_the_same_name_are_refused():
    pm = make_plugin_manager([EchoPlugin(), EchoPlugin()], load_entrypoints=False)

    with pytest.raises(DuplicateChannelError, match="'echo'"):
        registry.channels(pm)


@pytest.mark.parametrize(
    ("attribute", "value", "complaint"),
    [
        ("name", "Email!", "name"),
        ("address_kind", "fax", "address_kind"),
        ("capabilities", frozenset({"telepathy"}), "capabilities"),
        ("capabilities", {"threading"}, "capabilities"),
        ("settings_schema", dict, "settings_schema"),
        ("default_templates", {"thank_you": "Thanks"}, "default_templates"),
        ("default_templates", [("thank_you", ("", "Thanks"))], "default_templates"),
    ],
)
def test_an_invalid_channel_is_refused_naming_the_plugin(attribute, value, complaint):
    bad = type("Bad", (EchoChannel,), {attribute: value})

    class BadPlugin:
        @hookimpl
        def register_channels(self, register):
            register(bad())

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(BadPlugin(), name="bad-plugin")

    with pytest.raises(InvalidChannelError, match=f"'bad-plugin'.*{complaint}"):
        registry.channels(pm)


def test_a_secret_setting_that_is_not_load_only_is_refused():
    class LeakySchema(Schema):
        api_key = fields.String(metadata={"secret": True})

    leaky = type("Leaky", (EchoChannel,), {"settings_schema": LeakySchema})

    with pytest.raises(InvalidChannelError, match="load_only: api_key"):
        registry.validate_channel(leaky())


# --------------------------------------------------------------------------- describing


def test_describe_lists_each_plugin_with_its_origin_and_channels():
    plugins = {p["name"]: p for p in registry.describe(make_plugin_manager())}

    email = plugins["email"]
    assert email["distribution"] == "touchbase"
    assert email["version"]
    assert email["builtin"] is True
    assert email["hooks"] == ["register_channels"]
    assert [c["name"] for c in email["channels"]] == ["email"]


def test_a_directly_registered_plugin_has_no_version():
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(EchoPlugin(), name="echo-plugin")

    [plugin] = registry.describe(pm)
    assert plugin["version"] is None and plugin["builtin"] is False


def test_channel_descriptions_give_a_json_schema_with_secrets_marked():
    described = {c["name"]: c for c in registry.channel_descriptions(make_plugin_manager())}

    sms = described["sms"]
    assert sms["plugin"] == "sms"
    assert sms["address_kind"] == "phone"
    assert sms["capabilities"] == ["delivery_receipts"]
    token = sms["settings_schema"]["properties"]["auth_token"]
    assert token["writeOnly"] is True and token["x-secret"] is True
    assert "account_sid" in sms["settings_schema"]["required"]


# --------------------------------------------------------------------------- checks, events


def no_shouting(message, context):
    return []


class ChecksPlugin:
    @hookimpl
    def register_checks(self, register):
        register(no_shouting)
        register(lambda message, context: [], name="no_emoji")


def test_checks_are_collected_with_their_names_and_plugin():
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(ChecksPlugin(), name="tone")

    found = registry.checks(pm)

    assert [(c.name, c.plugin) for c in found] == [("no_shouting", "tone"), ("no_emoji", "tone")]
    assert found[0]("message", "context") == []
    assert found[1].check_name == "no_emoji"


def test_two_checks_with_the_same_name_are_refused():
    pm = make_plugin_manager([ChecksPlugin(), ChecksPlugin()], load_entrypoints=False)

    with pytest.raises(PluginError, match="'no_shouting'"):
        registry.checks(pm)


def test_a_check_that_is_not_callable_is_refused():
    class Bad:
        @hookimpl
        def register_checks(self, register):
            register("not a function", name="bad")

    with pytest.raises(PluginError, match="not callable"):
        registry.checks(make_plugin_manager([Bad()], load_entrypoints=False))


def test_an_event_given_as_a_dict_reaches_observers_as_a_touch_event():
    seen = []

    class Observer:
        @hookimpl
        def touch_event(self, event):
            seen.append(event)

    at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    pm = make_plugin_manager([Observer()], load_entrypoints=False)

    registry.notify_event(
        {"touch_id": 7, "kind": "sent", "at": at, "channel": "email", "attempt": 2}, pm
    )

    assert seen == [
        TouchEvent(touch_id=7, kind="sent", at=at, channel="email", detail={"attempt": 2})
    ]


def test_a_failing_observer_is_logged_and_the_others_still_run(caplog):
    seen = []

    class Broken:
        @hookimpl
        def touch_event(self, event):
            raise RuntimeError("observer bug")

    class Good:
        @hookimpl
        def touch_event(self, event):
            seen.append(event.kind)

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Good(), name="good")
    pm.register(Broken(), name="broken")
    event = TouchEvent(touch_id=1, kind="failed", at=datetime.now(UTC))

    with caplog.at_level(logging.ERROR, logger="channels.registry"):
        registry.notify_event(event, pm)

    assert seen == ["failed"]
    assert "'broken'" in caplog.text
