"""The corpus and its expectations (expected.toml), shared by the tests and accuracy.py."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from api.inbound.classify import Classification, classify
from api.inbound.message import parse, sent_at

CORPUS = Path(__file__).with_name("corpus")
DEFAULT_TZ = "America/New_York"


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    tz: str
    until: date | None
    decision_date: date | None
    bounce: dict

    def message(self) -> EmailMessage:
        return parse((CORPUS / self.name).read_bytes())

    def classify(self) -> Classification:
        """Classified as received at its own Date, for a contact in zone `tz`."""
        msg = self.message()
        received_at = sent_at(msg)
        assert received_at is not None, f"{self.name} has no Date"
        return classify(msg, received_at=received_at, tz=self.tz)


BOUNCE_FIELDS = ("status", "permanent", "recipient", "original_message_id")


def load_cases() -> list[Case]:
    expected = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))
    return [
        Case(
            name=name,
            kind=e["kind"],
            tz=e.get("tz", DEFAULT_TZ),
            until=e.get("until"),
            decision_date=e.get("decision_date"),
            bounce={k: e[k] for k in BOUNCE_FIELDS if k in e},
        )
        for name, e in expected.items()
    ]


CASES = load_cases()
