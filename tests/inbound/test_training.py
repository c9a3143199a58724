"""Every training text (training.toml, what the phrases were tuned on) gets its kind and date."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.inbound.accuracy import classify_entry

TRAINING = tomllib.loads(Path(__file__).with_name("training.toml").read_text(encoding="utf-8"))
ENTRIES = TRAINING["reply"]


def label(entry: dict) -> str:
    return f"{entry['kind']}: {entry['text'][:50]}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[label(e) for e in ENTRIES])
def test_a_training_text_is_classified_as_written(entry: dict) -> None:
    result = classify_entry(entry, TRAINING["received"], TRAINING["tz"])
    assert result.kind == entry["kind"]
    for field in ("decision_date", "until"):
        if field in entry:
            assert getattr(result, field) == entry[field]
