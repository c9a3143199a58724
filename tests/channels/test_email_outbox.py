"""With no SMTP host (the embedded default) email goes to an outbox of .eml files."""

from __future__ import annotations

import dataclasses
from email import policy
from email.parser import BytesParser

from channels import Sent
from channels.email import DEFAULT_OUTBOX, EmailChannel, outbox_filename

channel = EmailChannel()


def read_eml(path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def test_the_default_settings_write_to_instance_outbox():
    settings = channel.load_settings({})

    assert settings["host"] == ""
    assert settings["outbox_dir"] == DEFAULT_OUTBOX == "instance/outbox"


def test_without_a_host_the_message_is_written_as_an_eml_file(tmp_path, email_message):
    result = channel.send(email_message, channel.load_settings({"outbox_dir": str(tmp_path)}))

    assert isinstance(result, Sent)
    [path] = tmp_path.glob("*.eml")
    assert result.info["outbox_path"] == str(path)
    written = read_eml(path)
    assert written["Message-ID"] == email_message.message_id
    assert written["From"] == "Alex Doe <alex.doe@example.org>"
    assert written["To"] == "Dana Jones <dana.jones@example.com>"
    assert written.get_content().startswith("Dear Ms. Jones,")


def test_the_file_is_named_by_touch_id_and_message_id(tmp_path, email_message):
    channel.send(email_message, channel.load_settings({"outbox_dir": str(tmp_path)}))

    [path] = tmp_path.glob("*.eml")
    assert path.name == outbox_filename(email_message)
    assert path.name.startswith("101_")
    assert "touchbase.test" in path.name


def test_a_retry_overwrites_the_same_file(tmp_path, email_message):
    settings = channel.load_settings({"outbox_dir": str(tmp_path)})
    channel.send(email_message, settings)
    channel.send(dataclasses.replace(email_message, body="Second version\n"), settings)

    [path] = tmp_path.glob("*.eml")
    assert read_eml(path).get_content().startswith("Second version")


def test_the_outbox_directory_is_created(tmp_path, email_message):
    outbox = tmp_path / "instance" / "outbox"

    channel.send(email_message, channel.load_settings({"outbox_dir": str(outbox)}))

    assert len(list(outbox.glob("*.eml"))) == 1


def test_an_unwritable_outbox_means_retry_later(tmp_path, email_message):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    result = channel.send(email_message, channel.load_settings({"outbox_dir": str(blocker)}))

    assert result.outcome == "retry"
