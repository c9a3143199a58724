"""Per-class precision and recall of the inbound classifier over the corpus and held-out sets.

Not a test (pytest does not collect it): run `python -m tests.inbound.accuracy` to
quote how accuracy was measured. Each corpus message is classified as received at its
own Date for a contact in the zone expected.toml gives; the dates and bounce facts read
are scored too (exact match, over the messages that expect one).

Held-out sets (heldout*.toml) are texts never tuned on. An entry that names a
`decision_date` or `until` counts right only when that date is read exactly too. An
entry with a `subject` (and optional `headers`) is an email body; the others are texts
classified as an SMS. The misses of the fresh sets, heldout2.toml and heldout3.toml, are
not printed unless `--show-misses` is given: tuning must not be done by reading them.
"""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from api.inbound.classify import KINDS, Classification, classify
from tests.inbound.cases import BOUNCE_FIELDS, CASES

HERE = Path(__file__).parent
HELDOUT = HERE / "heldout.toml"
HELDOUT2 = HERE / "heldout2.toml"
HELDOUT3 = HERE / "heldout3.toml"
HELDOUT_RECEIVED = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
HELDOUT_TZ = "America/New_York"


@dataclass(frozen=True)
class Score:
    """One held-out set's result: (expected, got) kinds, with a wrong date marking a miss."""

    pairs: list[tuple[str, str]]
    misses: list[str]

    @property
    def right(self) -> int:
        return sum(e == g for e, g in self.pairs)

    @property
    def ratio(self) -> float:
        return self.right / len(self.pairs)


def table(pairs: list[tuple[str, str]]) -> None:
    """Per-class precision and recall of (expected, got) pairs."""
    true_pos = Counter(e for e, g in pairs if e == g)
    predicted = Counter(g for _, g in pairs)
    actual = Counter(e for e, _ in pairs)
    print(f"{'class':<15}{'n':>4}{'right':>7}{'precision':>11}{'recall':>8}")
    for kind in KINDS:
        if not (actual[kind] or predicted[kind]):
            continue
        precision = f"{true_pos[kind] / predicted[kind]:.2f}" if predicted[kind] else "-"
        recall = f"{true_pos[kind] / actual[kind]:.2f}" if actual[kind] else "-"
        print(f"{kind:<15}{actual[kind]:>4}{true_pos[kind]:>7}{precision:>11}{recall:>8}")
    right = sum(true_pos.values())
    print(f"accuracy {right}/{len(pairs)} = {right / len(pairs):.2f}")


def _email(entry: dict, received_at: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Bob Chen <bob.chen@example.com>"
    msg["To"] = "Ana Diaz <ana.diaz@example.org>"
    msg["Date"] = format_datetime(received_at)
    msg["Subject"] = entry["subject"]
    msg["Message-ID"] = make_msgid(domain="example.com")
    for name, value in entry.get("headers", {}).items():
        msg[name] = value
    msg.set_content(entry["text"])
    return msg


def classify_entry(entry: dict, received_at: datetime, tz: str) -> Classification:
    """One held-out entry classified as an email (when it has a subject) or an SMS."""
    if "subject" in entry:
        return classify(_email(entry, received_at), received_at=received_at, tz=tz)
    return classify(entry["text"], received_at=received_at, tz=tz, channel="sms")


def _date_wrong(entry: dict, result: Classification) -> str | None:
    for field in ("decision_date", "until"):
        wanted: date | None = entry.get(field)
        if wanted is not None and getattr(result, field) != wanted:
            return f"{field} {getattr(result, field)} instead of {wanted}"
    return None


def score(path: Path) -> Score:
    """Every entry of one held-out file classified and scored (kind, then date)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    received_at = data.get("received", HELDOUT_RECEIVED)
    tz = data.get("tz", HELDOUT_TZ)
    pairs: list[tuple[str, str]] = []
    misses: list[str] = []
    for entry in data["reply"]:
        result = classify_entry(entry, received_at, tz)
        got = result.kind
        wrong = _date_wrong(entry, result) if got == entry["kind"] else None
        if wrong:
            got = f"{got} (wrong date)"
        pairs.append((entry["kind"], got))
        if got != entry["kind"]:
            misses.append(f"  miss: expected {entry['kind']}, got {wrong or got}: {entry['text']}")
    return Score(pairs, misses)


def heldout(path: Path, show_misses: bool) -> None:
    result = score(path)
    if show_misses and result.misses:
        print(*result.misses, sep="\n")
    table(result.pairs)
    kinds_only = sum(e == g.removesuffix(" (wrong date)") for e, g in result.pairs)
    print(f"kind right, date ignored: {kinds_only}/{len(result.pairs)}")


def corpus() -> None:
    pairs: list[tuple[str, str]] = []
    fields_right = fields_total = 0
    misses: list[str] = []
    for case in CASES:
        result = case.classify()
        pairs.append((case.kind, result.kind))
        if result.kind != case.kind:
            misses.append(f"  {case.name}: expected {case.kind}, got {result.kind}")
        expected = {"until": case.until, "decision_date": case.decision_date}
        got = {"until": result.until, "decision_date": result.decision_date}
        for field in BOUNCE_FIELDS:
            if field in case.bounce:
                expected[field] = case.bounce[field]
                got[field] = getattr(result.bounce, field, None)
        for field, value in expected.items():
            if value is not None:
                fields_total += 1
                fields_right += got[field] == value
    table(pairs)
    print(f"dates and bounce facts exact: {fields_right}/{fields_total}")
    if misses:
        print("misclassified:", *misses, sep="\n")


def main(argv: list[str]) -> None:
    print(f"Corpus ({len(CASES)} .eml messages the phrases were written against):")
    corpus()
    print(f"\nHeld-out texts, {HELDOUT.name} (written after the first phrases; tuned on since):")
    heldout(HELDOUT, show_misses=True)
    print(f"\nFresh held-out texts, {HELDOUT2.name} (written before tuning, never tuned on):")
    heldout(HELDOUT2, show_misses="--show-misses" in argv)
    print(f"\nHeld-out texts in other people's wording, {HELDOUT3.name} (never tuned on):")
    heldout(HELDOUT3, show_misses="--show-misses" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
