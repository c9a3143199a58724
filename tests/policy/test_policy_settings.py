"""Policy settings: the domain defaults, their ranges and the layered overrides."""

from __future__ import annotations

import dataclasses
from datetime import time

import pytest

from api.policy import SETTING_RANGES, SETTING_RULES, PolicyError, PolicySettings, merge
from api.policy.settings import merge_layers


def test_defaults_are_the_domain_rules_defaults():
    p = PolicySettings()
    assert (p.touch_budget, p.min_gap_hours, p.follow_up_wait_days, p.decision_grace_days) == (
        3,
        48,
        7,
        2,
    )
    assert (p.thank_you_due_hours, p.thank_you_deadline_hours, p.thank_you_late_hours) == (
        2,
        24,
        48,
    )
    assert (p.send_window_start, p.send_window_end) == ("08:00", "18:00")
    assert (p.call_window_start, p.call_window_end) == ("08:00", "18:00")
    assert p.business_days == (0, 1, 2, 3, 4)
    assert p.stop_on_response and p.observe_holidays
    assert (p.daily_cap, p.sms_max_segments) == (10, 2)
    assert (p.thank_you_max_words, p.follow_up_max_words) == (150, 200)


def test_planned_touches_need_approval_by_default_and_drafts_last_a_day():
    p = PolicySettings()

    assert (p.approval, p.draft_deadline_hours) == ("required", 24)


@pytest.mark.parametrize("value", ["manual", "", True, 1, ["auto"]])
def test_approval_is_required_or_auto_and_a_bad_value_names_it(value):
    with pytest.raises(PolicyError) as info:
        PolicySettings.from_mapping({"approval": value})

    assert info.value.field == "approval"


def test_the_org_and_candidate_layers_set_approval_the_candidate_last():
    policy, sources = merge({"approval": "auto"}, {"approval": "required"}, {})

    assert (policy.approval, sources["approval"]) == ("required", "candidate")


def test_every_numeric_setting_has_a_range_and_every_setting_a_rule():
    numeric = {f.name for f in dataclasses.fields(PolicySettings) if f.type == "int"}
    assert numeric == set(SETTING_RANGES)
    assert {f.name for f in dataclasses.fields(PolicySettings)} == set(SETTING_RULES)


@pytest.mark.parametrize(
    ("field", "value"),
    [("touch_budget", 0), ("touch_budget", 11), ("min_gap_hours", 721), ("daily_cap", 0)],
)
def test_out_of_range_value_names_the_field(field, value):
    with pytest.raises(PolicyError) as info:
        PolicySettings.from_mapping({field: value})
    assert info.value.field == field


@pytest.mark.parametrize("value", [True, 2.5, "3", 3.0])
def test_numbers_must_be_integers(value):
    with pytest.raises(PolicyError, match="touch_budget"):
        PolicySettings(touch_budget=value)


def test_unknown_setting_is_refused_by_name():
    with pytest.raises(PolicyError) as info:
        PolicySettings.from_mapping({"touch_limit": 3})
    assert info.value.field == "touch_limit"


def test_thank_you_deadline_may_not_exceed_the_late_mark():
    with pytest.raises(PolicyError) as info:
        PolicySettings(thank_you_deadline_hours=72, thank_you_late_hours=48)
    assert info.value.field == "thank_you_deadline_hours"


@pytest.mark.parametrize("prefix", ["send", "call"])
def test_window_must_end_after_it_starts(prefix):
    with pytest.raises(PolicyError) as info:
        PolicySettings.from_mapping(
            {f"{prefix}_window_start": "18:00", f"{prefix}_window_end": "08:00"}
        )
    assert info.value.field == f"{prefix}_window_end"


def test_window_strings_are_strict():
    with pytest.raises(PolicyError, match="send_window_start"):
        PolicySettings(send_window_start="8am")


def test_window_accepts_a_time_and_stores_hh_mm():
    assert PolicySettings(call_window_start=time(9, 30)).call_window_start == "09:30"


def test_business_days_are_normalised_and_never_empty():
    assert PolicySettings.from_mapping({"business_days": [4, 0, 0, 2]}).business_days == (0, 2, 4)
    with pytest.raises(PolicyError, match="business_days"):
        PolicySettings(business_days=())
    with pytest.raises(PolicyError, match="business_days"):
        PolicySettings(business_days=(7,))


def test_none_means_not_set():
    assert PolicySettings.from_mapping({"touch_budget": None}).touch_budget == 3


def test_merge_layers_org_then_candidate_then_contact():
    policy, sources = merge(
        {"touch_budget": 4, "min_gap_hours": 72},
        {"min_gap_hours": 24, "daily_cap": 5},
        {"daily_cap": 2, "touch_budget": None},
    )
    assert (policy.touch_budget, policy.min_gap_hours, policy.daily_cap) == (4, 24, 2)
    assert sources["touch_budget"] == "org"
    assert sources["min_gap_hours"] == "candidate"
    assert sources["daily_cap"] == "contact"
    assert sources["follow_up_wait_days"] == "default"


def test_merge_error_names_field_and_layer():
    with pytest.raises(PolicyError) as info:
        merge({}, {"touch_budget": 99}, None)
    assert (info.value.field, info.value.layer) == ("touch_budget", "candidate")


def test_merge_checks_cross_field_rules_on_the_result():
    # Each layer is valid alone; together the window closes before it opens.
    with pytest.raises(PolicyError) as info:
        merge({"send_window_end": "10:00"}, {}, {"send_window_start": "11:00"})
    assert info.value.field == "send_window_end"


def test_settings_round_trip_through_a_mapping():
    policy = PolicySettings(min_gap_hours=12, business_days=(0, 2))
    assert PolicySettings.from_mapping(policy.to_mapping()) == policy


def test_merging_the_same_layers_again_gives_the_same_settings_and_its_own_sources():
    layers = ({"daily_cap": 4}, {"min_gap_hours": 30}, None, {"daily_cap": 2})
    first, sources = merge(*layers)
    sources["daily_cap"] = "changed by a caller"

    again, fresh = merge(*layers)

    assert again == first == merge_layers(*layers)[0]
    assert (fresh["daily_cap"], fresh["min_gap_hours"]) == ("own", "candidate")


def test_merging_bad_layers_again_refuses_them_again():
    for _ in range(2):
        with pytest.raises(PolicyError) as refused:
            merge({"daily_cap": -1}, None, None)
        assert refused.value.field == "daily_cap"


def test_a_layer_changed_in_place_is_merged_anew():
    layer = {"daily_cap": 4}
    assert merge(layer, None, None)[0].daily_cap == 4
    layer["daily_cap"] = 6

    assert merge(layer, None, None)[0].daily_cap == 6
