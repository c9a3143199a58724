"""Per-class precision and recall of the inbound classifier over the corpus.

Not a test (pytest does not collect it): run `python -m tests.inbound.accuracy` to
quote how accuracy was measured. Each corpus message is classified as received at its
own Date for a contact in the zone expected.toml gives; the dates and bounce facts read
are scored too (exact match, over the messages that expect one).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from api.inbound.classify import KINDS, classify
from tests.inbound.cases import BOUNCE_FIELDS, CASES

HELDOUT = Path(__file__).with_name("heldout.toml")
HELDOUT_RECEIVED = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def table(pairs: list[tuple[str, str]]) -> None:
    """Per-class precision and recall of (expected, got) pairs, and the misses."""
    true_pos = Counter(e for e, g in pairs if e == g)
    predicted = Counter(g for _, g in pairs)
    actual = Counter(e for e, _ in pairs)
    print(f"{'class':<15}{'n':>4}{'precision':>11}{'recall':>8}")
    for kind in KINDS:
        if not (actual[kind] or predicted[kind]):
            continue
        precision = f"{true_pos[kind] / predicted[kind]:.2f}" if predicted[kind] else "-"
        recall = f"{true_pos[kind] / actual[kind]:.2f}" if actual[kind] else "-"
        print(f"{kind:<15}{actual[kind]:>4}{precision:>11}{recall:>8}")
    right = sum(true_pos.values())
    print(f"accuracy {right}/{len(pairs)} = {right / len(pairs):.2f}")


def heldout() -> None:
    replies = tomllib.loads(HELDOUT.read_text(encoding="utf-8"))["reply"]
    pairs = []
    for reply in replies:
        got = classify(reply["text"], received_at=HELDOUT_RECEIVED, tz="America/New_York").kind
        pairs.append((reply["kind"], got))
        if got != reply["kind"]:
            print(f"  miss: expected {reply['kind']}, got {got}: {reply['text']}")
    table(pairs)


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


def main() -> None:
    print(f"Corpus ({len(CASES)} .eml messages the phrases were written against):")
    corpus()
    print("\nHeld-out texts (written after the phrases were fixed, never tuned on):")
    heldout()


if __name__ == "__main__":
    main()
