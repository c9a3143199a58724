"""The example third-party plugin (plugins/touchbase-console) is found through its
entry point, exactly like the built-ins.

Needs ``pip install -e plugins/touchbase-console``. Skipped when it is not
installed, unless TOUCHBASE_REQUIRE_EXAMPLE_PLUGIN=1 (CI), where it fails.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import pytest

from channels import registry
from channels.registry import make_plugin_manager


@pytest.fixture(autouse=True)
def _example_plugin_installed():
    if not entry_points(group="touchbase", name="console"):
        message = "touchbase-console is not installed: pip install -e plugins/touchbase-console"
        if os.environ.get("TOUCHBASE_REQUIRE_EXAMPLE_PLUGIN") == "1":
            pytest.fail(message)
        pytest.skip(message)


def test_the_console_plugin_is_discovered_through_its_entry_point():
    pm = make_plugin_manager()

    assert "console" in registry.channels(pm)
    assert pm.sources["console"].distribution == "touchbase-console"


def test_the_console_plugin_is_described_as_third_party_with_its_version():
    [plugin] = [p for p in registry.describe(make_plugin_manager()) if p["name"] == "console"]

    assert plugin["builtin"] is False
    assert plugin["version"] == "0.1.0"
    assert [c["name"] for c in plugin["channels"]] == ["console"]


def test_touchbase_plugins_can_select_it_alone(monkeypatch):
    monkeypatch.setenv("TOUCHBASE_PLUGINS", "console")

    assert list(registry.channels(make_plugin_manager())) == ["console"]
