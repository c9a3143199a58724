"""`touchbase plugins [--json]`: what was loaded, as `llm plugins` or `datasette plugins` do."""

from __future__ import annotations

import json

import pytest
from marshmallow import Schema, fields

from api import cli
from channels import Channel, Sent, hookimpl, registry
from channels.registry import make_plugin_manager, settings_json_schema


def _plugins_json(capsys) -> dict[str, dict]:
    assert cli.main(["plugins", "--json"]) == 0
    return {p["name"]: p for p in json.loads(capsys.readouterr().out)}


def test_json_gives_each_plugin_its_distribution_version_and_hooks(capsys):
    email = _plugins_json(capsys)["email"]

    assert email["distribution"] == "touchbase"
    assert email["version"]
    assert email["hooks"] == ["register_channels"]


def test_json_gives_each_channel_its_address_kind_capabilities_and_settings_schema(capsys):
    [sms] = _plugins_json(capsys)["sms"]["channels"]

    assert sms["address_kind"] == "phone"
    assert sms["capabilities"] == ["delivery_receipts"]
    assert sms["settings_schema"]["properties"]["auth_token"]["x-secret"] is True


def test_the_text_listing_names_origin_hooks_and_each_channels_settings(capsys):
    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out

    assert "sms (touchbase " in out
    assert "hooks: register_channels" in out
    assert "channel sms (SMS (Twilio)): address phone, capabilities delivery_receipts" in out
    assert "account_sid*, auth_token* (secret)" in out


@pytest.mark.parametrize("command", [["plugins"], ["serve", "--port", "1"], ["worker", "--once"]])
def test_an_unknown_plugin_name_is_one_line_and_a_failing_exit(command, monkeypatch, capsys):
    monkeypatch.setenv(registry.PLUGINS_ENV, "email,postcrad")

    assert cli.main(command) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "not installed: postcrad" in captured.err
    assert "Traceback" not in captured.err + captured.out


class HookSettings(Schema):
    url = fields.Url(required=True)


def test_a_url_setting_has_json_schemas_uri_format():
    assert settings_json_schema(HookSettings)["properties"]["url"]["format"] == "uri"


class HookChannel(Channel):
    name = "hook"
    address_kind = "email"
    settings_schema = HookSettings

    def check_address(self, address):
        return None

    def send(self, message, settings):
        return Sent("x")


class HookPlugin:
    @hookimpl
    def register_channels(self, register):
        register(HookChannel())


def test_a_directly_registered_plugin_is_listed_as_such():
    pm = make_plugin_manager([HookPlugin()], load_entrypoints=False)

    [plugin] = registry.describe(pm)

    assert cli.plugin_summary(plugin).splitlines()[0].endswith("(registered directly)")
