"""`touchbase plugin new NAME`: what it writes, and the names and places it refuses.
That the package installs and passes its own tests: tests/channels/test_plugin_guide_steps.py."""

from __future__ import annotations

import tomllib

import pytest

from api import cli
from api.templating import validate_template
from channels.scaffold import scaffold


def test_it_writes_an_installable_package_with_a_channel_module_and_tests(tmp_path, capsys):
    assert cli.main(["plugin", "new", "relay", "--dir", str(tmp_path)]) == 0

    package = tmp_path / "touchbase-relay"
    written = sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file())
    assert written == [
        "README.md",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_relay.py",
        "touchbase_relay.py",
    ]
    assert f"wrote {package}" in capsys.readouterr().out


def test_its_pyproject_declares_the_entry_point(tmp_path):
    package = scaffold("relay", tmp_path)

    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert project["name"] == "touchbase-relay"
    assert project["entry-points"]["touchbase"] == {"relay": "touchbase_relay"}
    assert "touchbase>=0.1" in project["dependencies"]


def test_a_name_with_underscores_gives_a_camel_case_class(tmp_path):
    package = scaffold("team_chat", tmp_path)

    module = (package / "touchbase_team_chat.py").read_text()
    assert "class TeamChatChannel(Channel):" in module
    assert 'name = "team_chat"' in module


def test_its_default_template_would_be_accepted_if_saved(tmp_path):
    namespace: dict = {}
    exec((scaffold("relay", tmp_path) / "touchbase_relay.py").read_text(), namespace)

    [(subject, body)] = namespace["RelayChannel"].default_templates.values()
    assert validate_template(subject, body, channel="email") == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Relay", "not a plugin name"),
        ("my-relay", "not a plugin name"),
        ("1relay", "not a plugin name"),
        ("email", "built-in channel"),
    ],
)
def test_an_unusable_name_is_refused_with_a_usage_error(name, reason, tmp_path, capsys):
    assert cli.main(["plugin", "new", name, "--dir", str(tmp_path)]) == 2

    assert reason in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "touchbase-relay").mkdir()
    (tmp_path / "touchbase-relay" / "pyproject.toml").write_text("mine")

    assert cli.main(["plugin", "new", "relay", "--dir", str(tmp_path)]) == 2

    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "touchbase-relay" / "pyproject.toml").read_text() == "mine"
