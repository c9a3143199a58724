"""The README says what the code does: its configuration table, its commands, its rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api import cli
from api.config import load_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SOURCES = [p for d in ("api", "channels") for p in (ROOT / d).rglob("*.py")]


def section(title: str) -> str:
    """The text of one `## title` section."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert found, f"README has no section '## {title}'"
    return found.group(1)


def table_rows(text: str) -> dict[str, list[str]]:
    """First cell (without backticks) -> the other cells, of every table row in `text`."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set(cells[0]) <= set("-: "):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def settings_in_code() -> set[str]:
    """Every TOUCHBASE_* variable the code reads: named whole, or by one of api/config.py's
    readers (_int, _flag, _float, _floats)."""
    names = set()
    for path in SOURCES:
        text = path.read_text()
        names |= set(re.findall(r"\bTOUCHBASE_[A-Z][A-Z0-9_]*\b", text))
        if path.name == "config.py":
            names |= {
                f"TOUCHBASE_{n}"
                for n in re.findall(r'_(?:int|flag|floats?)\(\s*"([A-Z0-9_]+)"', text)
            }
    return names


CONFIG = table_rows(section("Configuration"))


def test_the_configuration_table_lists_every_setting_the_code_reads():
    assert sorted(settings_in_code() - set(CONFIG)) == []


def test_the_configuration_table_lists_no_setting_the_code_does_not_read():
    assert sorted(set(CONFIG) - settings_in_code() - {"variable"}) == []


@pytest.mark.parametrize(
    ("variable", "key"),
    [
        ("TOUCHBASE_MAX_BODY_BYTES", "MAX_CONTENT_LENGTH"),
        ("TOUCHBASE_TOKEN_DEFAULT_TTL_DAYS", "TOKEN_DEFAULT_TTL_DAYS"),
        ("TOUCHBASE_DB_POOL_SIZE", "DB_POOL_SIZE"),
        ("TOUCHBASE_DB_MAX_OVERFLOW", "DB_MAX_OVERFLOW"),
        ("TOUCHBASE_MAILBOX_TICK_SECONDS", "MAILBOX_TICK_SECONDS"),
        ("TOUCHBASE_MAILBOX_LEASE_SECONDS", "MAILBOX_LEASE_SECONDS"),
        ("TOUCHBASE_PUBLIC_URL", "PUBLIC_URL"),
    ],
)
def test_a_documented_default_is_the_codes(variable, key, monkeypatch, tmp_path):
    for name in settings_in_code():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOUCHBASE_INSTANCE_DIR", str(tmp_path))

    assert CONFIG[variable][0] == f"`{load_config()[key]}`"


def test_the_commands_section_is_the_parsers_own_reference():
    block = re.search(r"```text\n(.*?)```", section("Commands"), re.S)

    assert block, "## Commands needs a ```text block"
    assert block.group(1) == cli.reference(), (
        "regenerate it: .venv/bin/python -c 'from api.cli import reference; print(reference())'"
    )


def test_the_rules_table_has_r1_to_r16():
    rows = table_rows(section("The rules"))

    assert [r for r in rows if r != "#"] == [f"R{n}" for n in range(1, 17)]


def test_every_rule_the_code_names_is_in_the_rules_table():
    named = {m for p in SOURCES for m in re.findall(r'"(R\d+)"', p.read_text())}

    assert named - set(table_rows(section("The rules"))) == set()


def test_every_file_the_readme_links_is_in_the_repository():
    targets = [t for t in re.findall(r"\]\(([^)#]+)\)", README) if "://" not in t]

    assert targets and "`../" not in README
    assert [t for t in targets if not (ROOT / t).resolve().is_relative_to(ROOT)] == []
    assert [t for t in targets if not (ROOT / t).exists()] == []
