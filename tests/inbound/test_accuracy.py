"""The classifier's accuracy on the held-out sets stays above a floor, so a regression fails.

Each floor sits a message or two below the figure measured when it was set (accuracy.py,
December 2026): heldout.toml 18/18, heldout2.toml 62/62, heldout3.toml 26/34. The last is
the honest one: heldout2 was written by the hand that then wrote the phrases. Raise a floor
when accuracy rises; never lower one to make a change pass without saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.inbound.accuracy import HELDOUT, HELDOUT2, HELDOUT3, score

FLOORS = [(HELDOUT, 0.94), (HELDOUT2, 0.95), (HELDOUT3, 0.73)]


@pytest.mark.parametrize(("path", "floor"), FLOORS, ids=[p.name for p, _ in FLOORS])
def test_held_out_accuracy_stays_above_its_floor(path: Path, floor: float) -> None:
    result = score(path)
    assert result.ratio >= floor, "\n".join(result.misses)


@pytest.mark.parametrize("path", [HELDOUT2, HELDOUT3], ids=["heldout2.toml", "heldout3.toml"])
def test_a_fresh_held_out_set_covers_every_human_kind(path: Path) -> None:
    kinds = {expected for expected, _ in score(path).pairs}
    assert {"rejected", "next_round", "offer", "decision_date", "replied", "out_of_office"} <= kinds
