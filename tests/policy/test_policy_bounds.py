"""A candidate's own rules only ever tighten the staff levels (api.policy_bounds, merge)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.policy import CHOICE_FIELDS, SETTING_NAMES, SETTING_RANGES, PolicySettings, merge
from api.policy_bounds import STRICTER, combine, is_looser, loosenings
from api.timewindow import parse_hhmm


def test_every_setting_has_a_stricter_direction():
    assert set(STRICTER) == set(SETTING_NAMES)


@pytest.mark.parametrize(
    ("name", "above", "looser", "stricter"),
    [
        ("touch_budget", 3, 4, 2),
        ("daily_cap", 10, 11, 5),
        ("sms_max_segments", 2, 3, 1),
        ("thank_you_max_words", 150, 151, 100),
        ("follow_up_max_words", 200, 201, 150),
        ("thank_you_due_hours", 2, 3, 1),
        ("thank_you_deadline_hours", 24, 25, 12),
        ("thank_you_late_hours", 48, 49, 36),
        ("min_gap_hours", 48, 47, 72),
        ("follow_up_wait_days", 7, 6, 10),
        ("decision_grace_days", 2, 1, 3),
        ("stop_on_response", True, False, True),
        ("observe_holidays", True, False, True),
        ("send_window_start", "08:00", "07:59", "09:00"),
        ("call_window_start", "08:00", "07:00", "10:00"),
        ("send_window_end", "18:00", "18:01", "17:00"),
        ("call_window_end", "18:00", "19:00", "12:00"),
        ("business_days", [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5], [1, 2, 3]),
        ("draft_deadline_hours", 24, 25, 12),
    ],
)
def test_looser_and_stricter_for_each_setting(name, above, looser, stricter):
    assert is_looser(name, above, looser)
    assert not is_looser(name, above, stricter)
    assert not is_looser(name, above, above)  # the same value is not a loosening


def test_required_approval_is_stricter_than_auto():
    assert is_looser("approval", "required", "auto")
    assert not is_looser("approval", "auto", "required")
    assert not is_looser("approval", "auto", "auto")


def test_a_candidate_may_require_approval_where_staff_waived_it():
    policy, sources = merge({"approval": "auto"}, {}, {}, {"approval": "required"})

    assert (policy.approval, sources["approval"]) == ("required", "own")


def test_a_stored_own_auto_never_waives_the_approval_staff_require():
    policy, sources = merge({}, {"approval": "required"}, {}, {"approval": "auto"})

    assert (policy.approval, sources["approval"]) == ("required", "candidate")


def test_a_stricter_own_value_is_in_force_with_source_own():
    policy, sources = merge({}, {"touch_budget": 3}, {}, {"touch_budget": 2})

    assert (policy.touch_budget, sources["touch_budget"]) == (2, "own")


def test_a_stored_looser_own_value_never_loosens_the_staff_levels():
    own = {"touch_budget": 10, "min_gap_hours": 0, "daily_cap": 100, "stop_on_response": False}

    policy, sources = merge({}, {"touch_budget": 2, "daily_cap": 2}, {}, own)

    assert (policy.touch_budget, policy.daily_cap) == (2, 2)
    assert (policy.min_gap_hours, policy.stop_on_response) == (48, True)
    assert sources["touch_budget"] == "candidate"
    assert sources["min_gap_hours"] == "default"


def test_staff_tightening_below_an_own_value_wins():
    # The candidate chose 2; staff later set 1 at the candidate level.
    policy, sources = merge({}, {"touch_budget": 1}, {}, {"touch_budget": 2})

    assert (policy.touch_budget, sources["touch_budget"]) == (1, "candidate")


def test_an_own_window_that_no_longer_meets_the_staff_window_gives_way_to_it():
    own = {"send_window_start": "09:00", "send_window_end": "12:00"}

    policy, sources = merge({"send_window_start": "13:00", "send_window_end": "17:00"}, {}, {}, own)

    assert (policy.send_window_start, policy.send_window_end) == ("13:00", "17:00")
    assert sources["send_window_start"] == sources["send_window_end"] == "org"


def test_own_business_days_outside_the_staff_days_give_way_to_them():
    policy, _ = merge({"business_days": [0, 1]}, {}, {}, {"business_days": [3, 4]})

    assert policy.business_days == (0, 1)


def test_an_own_late_mark_pulls_the_earlier_r2_hours_forward():
    policy, sources = merge({}, {}, {}, {"thank_you_late_hours": 1})

    assert (policy.thank_you_due_hours, policy.thank_you_deadline_hours) == (1, 1)
    assert sources["thank_you_deadline_hours"] == "own"


def test_loosenings_name_the_level_a_default_counts_as_the_org():
    above, sources = merge({"min_gap_hours": 72}, {"touch_budget": 2}, {})
    own = {"touch_budget": 3, "min_gap_hours": 24, "daily_cap": 11, "sms_max_segments": 1}

    found = {x.field: (x.level, x.in_force) for x in loosenings(above.to_mapping(), sources, own)}

    assert found == {
        "touch_budget": ("candidate", 2),
        "min_gap_hours": ("org", 72),
        "daily_cap": ("org", 10),
    }


# -- whatever the layers hold, the combination is valid and never looser ---------------------

_HOURS = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]


def _value(name: str):
    if name in SETTING_RANGES:
        return st.integers(*SETTING_RANGES[name])
    if name in ("stop_on_response", "observe_holidays"):
        return st.booleans()
    if name == "business_days":
        return st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)
    if name in CHOICE_FIELDS:
        return st.sampled_from(CHOICE_FIELDS[name])
    return st.sampled_from(_HOURS)


def _valid(mapping: dict) -> bool:
    try:
        PolicySettings.from_mapping(mapping)
    except ValueError:
        return False
    return True


staff = st.fixed_dictionaries({}, optional={n: _value(n) for n in SETTING_NAMES}).filter(_valid)
own_rules = st.fixed_dictionaries({}, optional={n: _value(n) for n in SETTING_NAMES})


@given(staff, own_rules)
def test_the_combination_is_valid_and_never_looser_than_the_staff_levels(staff_layer, own):
    above = PolicySettings.from_mapping(staff_layer).to_mapping()

    values, _ = combine(above, own)
    combined = PolicySettings(**{**values, "business_days": tuple(values["business_days"])})

    for name in SETTING_NAMES:
        assert not is_looser(name, above[name], getattr(combined, name)), name
    for prefix in ("send", "call"):
        start = parse_hhmm(getattr(combined, f"{prefix}_window_start"))
        assert start < parse_hhmm(getattr(combined, f"{prefix}_window_end"))
