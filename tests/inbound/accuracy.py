"""Per-class precision and recall of the inbound classifier over the corpus.

Not a test (pytest does not collect it): run `python -m tests.inbound.accuracy` to
quote how accuracy was measured. Each corpus message is classified as received at its
own Date for a contact in the zone expected.toml gives; the dates and bounce facts read
are scored too (exact match, over the messages that expect one).
"""

from __future__ import annotations

from collections import Counter

from api.inbound.classify import KINDS
from tests.inbound.cases import BOUNCE_FIELDS, CASES


def main() -> None:
    true_pos: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    fields_right = fields_total = 0
    misses: list[str] = []
    for case in CASES:
        result = case.classify()
        predicted[result.kind] += 1
        actual[case.kind] += 1
        if result.kind == case.kind:
            true_pos[case.kind] += 1
        else:
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
    print(f"{'class':<15}{'n':>4}{'precision':>11}{'recall':>8}")
    for kind in KINDS:
        precision = true_pos[kind] / predicted[kind] if predicted[kind] else float("nan")
        recall = true_pos[kind] / actual[kind] if actual[kind] else float("nan")
        print(f"{kind:<15}{actual[kind]:>4}{precision:>11.2f}{recall:>8.2f}")
    total = sum(actual.values())
    print(f"accuracy {sum(true_pos.values())}/{total} = {sum(true_pos.values()) / total:.2f}")
    print(f"dates and bounce facts exact: {fields_right}/{fields_total}")
    if misses:
        print("misclassified:", *misses, sep="\n")


if __name__ == "__main__":
    main()
