"""touchbase-console passes the Touchbase conformance kit, and prints what it would send."""

from __future__ import annotations

import json

import pytest
from touchbase_console import ConsoleChannel

from channels import Message, RetryLater, Sent
from channels.testing import ChannelConformance


@pytest.fixture
def note() -> Message:
    return Message(
        touch_id=7,
        step="thank_you",
        to_address="dana.jones@example.com",
        to_name="Dana Jones",
        from_address="alex.doe@example.org",
        from_name="Alex Doe",
        subject="Thank you",
        body="Dear Ms. Jones,\n\nThank you for your time today.\n",
    )


class TestConsoleConformance(ChannelConformance):
    @pytest.fixture
    def channel(self):
        return ConsoleChannel()

    @pytest.fixture
    def good_settings(self, tmp_path):
        return {"path": str(tmp_path / "console.txt")}

    @pytest.fixture
    def message(self, note):
        return note

    @pytest.fixture
    def failing_settings(self, tmp_path):
        return {"path": str(tmp_path / "missing-dir" / "console.txt")}


def test_the_message_is_appended_to_the_file(tmp_path, note):
    channel = ConsoleChannel()
    path = tmp_path / "console.txt"

    result = channel.send(note, channel.load_settings({"path": str(path)}))

    assert result == Sent("console-7")
    text = path.read_text()
    assert "To: Dana Jones <dana.jones@example.com>" in text
    assert "Subject: Thank you" in text
    assert "Thank you for your time today." in text


def test_without_a_path_the_message_goes_to_stdout(capsys, note):
    channel = ConsoleChannel()

    channel.send(note, channel.load_settings({}))

    assert "=== touch 7 (thank_you)" in capsys.readouterr().out


def test_json_format_writes_one_object_per_line(tmp_path, note):
    channel = ConsoleChannel()
    path = tmp_path / "console.jsonl"
    settings = channel.load_settings({"path": str(path), "format": "json"})

    channel.send(note, settings)
    channel.send(note, settings)

    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["to_address"] == "dana.jones@example.com"


def test_an_unwritable_file_means_retry_later(tmp_path, note):
    channel = ConsoleChannel()
    settings = channel.load_settings({"path": str(tmp_path / "missing-dir" / "x.txt")})

    assert isinstance(channel.send(note, settings), RetryLater)
