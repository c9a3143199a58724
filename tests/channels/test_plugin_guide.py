"""The channel in plugins/README.md works as printed, in under 40 lines."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from channels import Failed, Message, Sent
from channels.registry import channels, make_plugin_manager

GUIDE = Path(__file__).resolve().parents[2] / "plugins" / "README.md"


@pytest.fixture(scope="module")
def guide_plugin() -> types.ModuleType:
    source = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.S).group(1)
    module = types.ModuleType("touchbase_postcard")
    exec(compile(source, str(GUIDE), "exec"), module.__dict__)
    module.source = source
    return module


def test_the_guide_channel_is_under_40_lines(guide_plugin):
    assert len(guide_plugin.source.strip().splitlines()) < 40


def test_the_guide_channel_registers_and_sends(guide_plugin, tmp_path):
    channel = channels(make_plugin_manager([guide_plugin], load_entrypoints=False))["postcard"]
    message = Message(touch_id=9, to_address="dana@example.com", body="Thank you")

    result = channel.send(message, channel.load_settings({"directory": str(tmp_path)}))

    assert isinstance(result, Sent)
    assert (tmp_path / "9.txt").read_text().endswith("Thank you")


def test_the_guide_channel_refuses_a_bad_address(guide_plugin, tmp_path):
    channel = guide_plugin.PostcardChannel()
    message = Message(touch_id=9, to_address="dana", body="Thank you")

    result = channel.send(message, channel.load_settings({"directory": str(tmp_path)}))

    assert isinstance(result, Failed)
