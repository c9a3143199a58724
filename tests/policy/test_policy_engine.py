"""The policy engine, rule by rule: each test is one sentence of the specification.

Unless stated otherwise: contact 1 in UTC with no holiday country, default settings,
interview ended Monday 8 June 2026 10:00 UTC, thank-you sent the same day at 12:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.policy import (
    adjust_to_window,
    budget_summary,
    for_manual,
    reexamine_pending,
)


def june(day: int, hour: int = 10, minute: int = 0) -> datetime:
    """June 2026: Mon 8, Wed 10, Fri 12, Sat 13, Mon 15, Wed 17, Mon 22."""
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


INTERVIEW_END = june(8, 10)


@pytest.fixture
def thank_you(make_touch):
    return make_touch("thank_you", june(8, 12))


@pytest.fixture
def email_follow_up(make_touch):
    return make_touch("follow_up", june(15, 12))


# --- contact-level refusals --------------------------------------------------------------


def test_do_not_contact_refuses_everything_for_good(decide, propose, make_contact):
    decision = decide(propose("thank_you", june(8, 12)), contact=make_contact(do_not_contact=True))
    assert (decision.allowed, decision.rule, decision.next_allowed_at) == (False, "DNC", None)


def test_sms_to_an_opted_out_contact_is_refused(decide, propose, make_contact):
    decision = decide(
        propose("thank_you", june(8, 12), channel="sms"), contact=make_contact(sms_opted_out=True)
    )
    assert decision.rule == "OPT_OUT"


@pytest.mark.parametrize(
    ("channel", "missing"), [("email", "email"), ("sms", "phone"), ("call", "phone")]
)
def test_automated_touch_needs_an_address_for_its_channel(
    decide, propose, make_contact, email_follow_up, thank_you, channel, missing
):
    history = [thank_you, email_follow_up]
    decision = decide(
        propose("call" if channel == "call" else "custom", june(17, 12), channel=channel),
        history,
        contact=make_contact(**{missing: None}),
    )
    assert decision.rule == "ADDRESS"


def test_logged_manual_call_is_not_an_address_problem(
    decide, propose, make_contact, thank_you, email_follow_up
):
    proposal = propose("call", june(17, 12), channel="manual", automated=False)
    decision = decide(proposal, [thank_you, email_follow_up], contact=make_contact(phone=None))
    assert decision.allowed


# --- R2 thank-you timing -----------------------------------------------------------------


def test_r2_no_thank_you_before_the_interview_ends(decide, propose):
    decision = decide(propose("thank_you", june(8, 9)), interview_end=INTERVIEW_END)
    assert decision.rule == "R2"
    assert decision.next_allowed_at == INTERVIEW_END


def test_r2_thank_you_past_the_24h_target_is_allowed_and_flagged_overdue(decide, propose):
    decision = decide(propose("thank_you", june(9, 16)), interview_end=INTERVIEW_END)
    assert decision.allowed
    assert decision.flags == ("R2_OVERDUE",)


def test_r2_thank_you_past_48h_is_still_sent_but_flagged_late(decide, propose):
    decision = decide(propose("thank_you", june(11, 11)), interview_end=INTERVIEW_END)
    assert decision.allowed
    assert decision.flags == ("R2_LATE",)


def test_r1_a_contact_gets_one_thank_you_per_round(decide, propose, thank_you):
    decision = decide(propose("thank_you", june(10, 12)), [thank_you])
    assert (decision.rule, decision.next_allowed_at) == ("R1", None)


# --- R4 / R5 first follow-up -------------------------------------------------------------


def test_r5_follow_up_needs_a_thank_you_first(decide, propose):
    decision = decide(propose("follow_up", june(17, 12)))
    assert (decision.rule, decision.next_allowed_at) == ("R5", None)


def test_r5_without_a_decision_date_wait_a_week_after_the_thank_you(decide, propose, thank_you):
    decision = decide(propose("follow_up", june(11, 12)), [thank_you])
    assert decision.rule == "R5"
    assert decision.next_allowed_at == june(15, 12)


def test_r5_follow_up_a_week_after_the_thank_you_is_allowed(decide, propose, thank_you):
    assert decide(propose("follow_up", june(15, 12)), [thank_you]).allowed


def test_r5_a_scheduled_thank_you_counts_as_the_anchor(decide, propose, make_touch):
    scheduled = make_touch("thank_you", june(9, 9), status="scheduled")
    assert decide(propose("follow_up", june(16, 9)), [scheduled]).allowed


def test_r4_follow_up_waits_two_days_past_the_decision_date(decide, propose, thank_you):
    decision = decide(
        propose("follow_up", june(10, 12)), [thank_you], decision_date=date(2026, 6, 9)
    )
    assert decision.rule == "R4"
    assert decision.next_allowed_at == june(11, 8)  # 9 June + 2 days, at the window opening


def test_r4_replaces_r7_between_thank_you_and_follow_up(decide, propose, thank_you):
    # Decision date 7 June + 2 days has passed 20 h after the thank-you: no 48 h gap needed.
    decision = decide(propose("follow_up", june(9, 8)), [thank_you], decision_date=date(2026, 6, 7))
    assert decision.allowed


def test_r4_date_already_past_at_thank_you_time_falls_back_to_r5(decide, propose, thank_you):
    decision = decide(propose("follow_up", june(9, 8)), [thank_you], decision_date=date(2026, 6, 5))
    assert decision.rule == "R5"
    assert decision.next_allowed_at == june(15, 12)


def test_r4_decision_date_response_overrides_the_expected_date(
    decide, propose, thank_you, make_response
):
    said = make_response("decision_date", june(9, 15), decision_date=date(2026, 6, 19))
    decision = decide(
        propose("follow_up", june(15, 12)), [thank_you], [said], decision_date=date(2026, 6, 9)
    )
    assert decision.rule == "R4"
    assert decision.next_allowed_at == june(22, 8)  # Sunday 21st moves to Monday


def test_r4_grace_is_counted_in_the_contacts_zone(decide, propose, make_contact, thank_you):
    kolkata = make_contact(tz="Asia/Kolkata")
    decision = decide(
        propose("follow_up", june(10, 0)),
        [thank_you],
        contact=kolkata,
        decision_date=date(2026, 6, 9),
    )
    assert decision.next_allowed_at == datetime(2026, 6, 11, 2, 30, tzinfo=UTC)  # 08:00 IST


# --- R6 budget ---------------------------------------------------------------------------


def test_r6_fourth_touch_in_a_round_is_refused(decide, propose, make_touch):
    history = [
        make_touch("thank_you", june(8, 12)),
        make_touch("follow_up", june(15, 12)),
        make_touch("call", june(17, 12), channel="call"),
    ]
    decision = decide(propose("custom", june(22, 12)), history)
    assert (decision.rule, decision.next_allowed_at) == ("R6", None)


@pytest.mark.parametrize("status", ["failed", "skipped", "cancelled"])
def test_r6_touches_that_never_went_out_do_not_count(decide, propose, make_touch, status):
    history = [
        make_touch("thank_you", june(8, 12)),
        make_touch("follow_up", june(15, 12)),
        make_touch("custom", june(17, 12), status=status),
    ]
    assert decide(propose("custom", june(22, 12)), history).allowed


def test_r6_pending_touches_reserve_budget(decide, propose, make_touch):
    history = [
        make_touch("thank_you", june(8, 12)),
        make_touch("follow_up", june(15, 12), status="scheduled"),
        make_touch("call", june(17, 12), channel="call", status="scheduled"),
    ]
    assert decide(propose("custom", june(26, 12)), history, now=june(9)).rule == "R6"


def test_r6_rechecking_a_stored_touch_does_not_count_it_twice(decide, propose, make_touch):
    history = [
        make_touch("thank_you", june(8, 12)),
        make_touch("follow_up", june(15, 12)),
        make_touch("custom", june(22, 12), status="scheduled", id=99),
    ]
    assert decide(propose("custom", june(22, 12), touch_id=99), history).allowed


def test_r6_budget_is_per_round(decide, propose, make_touch):
    history = [
        make_touch("thank_you", june(8, 12)),
        make_touch("follow_up", june(15, 12)),
        make_touch("call", june(17, 12), channel="call"),
    ]
    assert decide(propose("custom", june(22, 12), round=2), history).allowed


def test_r6_budget_setting_is_honoured(decide, propose, settings, thank_you):
    decision = decide(
        propose("follow_up", june(15, 12)), [thank_you], policy=settings(touch_budget=1)
    )
    assert decision.rule == "R6"


# --- R7 minimum gap ----------------------------------------------------------------------


def test_r7_touch_too_soon_after_the_last_one(decide, propose, make_touch, thank_you):
    history = [thank_you, make_touch("follow_up", june(15, 12))]
    decision = decide(propose("custom", june(16, 12)), history)
    assert decision.rule == "R7"
    assert decision.next_allowed_at == june(17, 12)


def test_r7_touch_too_close_before_a_scheduled_one(decide, propose, make_touch, thank_you):
    history = [thank_you, make_touch("follow_up", june(15, 12), status="scheduled")]
    decision = decide(propose("custom", june(14, 9)), history, now=june(10))
    assert decision.rule == "R7"
    assert decision.next_allowed_at == june(17, 12)


def test_r7_spaces_touches_to_one_person_across_applications(decide, propose, make_touch):
    other_application = make_touch("custom", june(10, 12), application_id=77)
    decision = decide(propose("custom", june(11, 12)), [other_application])
    assert decision.rule == "R7"


def test_r7_does_not_space_touches_to_different_people(decide, propose, make_touch):
    to_someone_else = make_touch("custom", june(10, 12), contact_id=2)
    assert decide(propose("custom", june(10, 13)), [to_someone_else]).allowed


def test_r7_gap_of_zero_disables_spacing(decide, propose, settings, make_touch):
    history = [make_touch("custom", june(10, 12))]
    assert decide(
        propose("custom", june(10, 13)), history, policy=settings(min_gap_hours=0)
    ).allowed


# --- R8 stop on response -----------------------------------------------------------------


def test_r8_a_reply_stops_automated_touches_to_that_contact(
    decide, propose, thank_you, make_response
):
    reply = make_response("replied", june(9, 9))
    decision = decide(propose("follow_up", june(15, 12)), [thank_you], [reply])
    assert (decision.rule, decision.next_allowed_at) == ("R8", None)


def test_r8_a_reply_from_another_panel_member_does_not_stop_this_one(
    decide, propose, thank_you, make_response
):
    reply = make_response("replied", june(9, 9), contact_id=2)
    assert decide(propose("follow_up", june(15, 12)), [thank_you], [reply]).allowed


def test_r8_manual_touch_after_a_reply_is_allowed_but_flagged(
    decide, propose, thank_you, make_response
):
    reply = make_response("replied", june(9, 9))
    proposal = propose("custom", june(10, 12), channel="manual", automated=False)
    decision = decide(proposal, [thank_you], [reply])
    assert decision.allowed
    assert "R8_RESPONDED" in decision.flags


def test_r8_a_reply_closes_only_its_round(decide, propose, make_response):
    reply = make_response("replied", june(9, 9), round=1)
    assert decide(propose("thank_you", june(15, 12), round=2), (), [reply]).allowed


def test_r8_can_be_switched_off(decide, propose, thank_you, settings, make_response):
    reply = make_response("replied", june(9, 9))
    policy = settings(stop_on_response=False)
    assert decide(propose("follow_up", june(15, 12)), [thank_you], [reply], policy=policy).allowed


def test_r8_an_offer_stops_the_whole_panel(decide, propose, make_touch, make_response):
    offer = make_response("offer", june(9, 9), contact_id=3)
    history = [make_touch("thank_you", june(8, 12), contact_id=2)]
    decision = decide(propose("follow_up", june(15, 12), contact_id=2), history, [offer])
    assert decision.rule == "R8"


def test_r8_reply_after_scheduling_stops_the_touch_at_send_time(
    decide, propose, make_touch, thank_you, make_response
):
    pending = make_touch("follow_up", june(15, 12), status="scheduled", id=50)
    reply = make_response("replied", june(12, 9))
    decision = decide(
        propose("follow_up", june(15, 12), touch_id=50), [thank_you, pending], [reply]
    )
    assert decision.rule == "R8"


def test_r8_reexamine_returns_only_the_touches_that_no_longer_pass(
    settings, make_contact, make_touch, make_response
):
    contacts = {1: make_contact(1), 2: make_contact(2)}
    history = [
        make_touch("thank_you", june(8, 12), contact_id=1),
        make_touch("thank_you", june(8, 12), contact_id=2),
        make_touch("follow_up", june(15, 12), contact_id=1, status="scheduled", id=101),
        make_touch("follow_up", june(15, 12), contact_id=2, status="scheduled", id=102),
    ]
    reply = make_response("replied", june(10, 9), contact_id=1)
    refused = reexamine_pending(settings(), contacts, history, [reply], june(10, 9, 5))
    assert [(t.id, d.rule) for t, d in refused] == [(101, "R8")]


def test_r8_reexamine_after_an_offer_refuses_the_whole_panel(
    settings, make_contact, make_touch, make_response
):
    contacts = {1: make_contact(1), 2: make_contact(2)}
    history = [
        make_touch("thank_you", june(8, 12), contact_id=1),
        make_touch("thank_you", june(8, 12), contact_id=2),
        make_touch("follow_up", june(15, 12), contact_id=1, status="scheduled", id=101),
        make_touch("follow_up", june(15, 12), contact_id=2, status="scheduled", id=102),
    ]
    offer = make_response("offer", june(10, 9), contact_id=2)
    refused = reexamine_pending(settings(), contacts, history, [offer], june(10, 9, 5))
    assert sorted(t.id for t, _ in refused) == [101, 102]


def test_out_of_office_defers_automated_touches_until_the_day_after(
    decide, propose, thank_you, make_response
):
    away = make_response("out_of_office", june(15, 12), until=date(2026, 6, 17))
    decision = decide(propose("follow_up", june(15, 12)), [thank_you], [away])
    assert decision.rule == "OOO"
    assert decision.next_allowed_at == june(18, 8)


# --- R9 rejection ------------------------------------------------------------------------


def test_r9_after_a_rejection_everything_else_is_refused(decide, propose, thank_you, make_response):
    rejected = make_response("rejected", june(10, 9))
    decision = decide(propose("follow_up", june(15, 12)), [thank_you], [rejected])
    assert (decision.rule, decision.next_allowed_at) == ("R9", None)


def test_r9_one_post_rejection_note_is_allowed(decide, propose, make_touch, make_response):
    full_budget = [
        make_touch("thank_you", june(8, 12)),
        make_touch("follow_up", june(10, 12)),
        make_touch("call", june(12, 12), channel="call"),
    ]
    rejected = make_response("rejected", june(15, 9))
    assert decide(propose("post_rejection", june(15, 12)), full_budget, [rejected]).allowed


def test_r9_a_second_post_rejection_note_is_refused(decide, propose, make_touch, make_response):
    rejected = make_response("rejected", june(10, 9))
    first = make_touch("post_rejection", june(10, 12))
    decision = decide(propose("post_rejection", june(15, 12)), [first], [rejected])
    assert (decision.rule, decision.next_allowed_at) == ("R9", None)


def test_r9_the_single_note_is_per_application_not_per_interviewer(
    decide, propose, make_touch, make_response
):
    rejected = make_response("rejected", june(10, 9), contact_id=2)
    first = make_touch("post_rejection", june(10, 12), contact_id=2)
    decision = decide(propose("post_rejection", june(15, 12)), [first], [rejected])
    assert decision.rule == "R9"


def test_r9_post_rejection_needs_a_rejection(decide, propose):
    assert decide(propose("post_rejection", june(15, 12))).rule == "R9"


def test_r9_manual_touch_after_rejection_is_kept_but_flagged(decide, propose, make_response):
    rejected = make_response("rejected", june(10, 9))
    proposal = propose("call", june(15, 12), channel="manual", automated=False)
    decision = decide(proposal, (), [rejected])
    assert not decision.allowed
    assert "R9" in for_manual(decision)


# --- R10 next round ----------------------------------------------------------------------


def test_r10_next_round_opens_a_fresh_budget(decide, propose, make_touch, make_response):
    round_one = [
        make_touch("thank_you", june(8, 12)),
        make_touch("follow_up", june(10, 12)),
        make_touch("call", june(12, 12), channel="call"),
    ]
    invited = make_response("next_round", june(15, 9))
    assert decide(propose("thank_you", june(19, 12), round=2), round_one, [invited]).allowed


def test_r10_invitation_is_answered_promptly_on_any_channel(
    decide, propose, make_touch, make_response
):
    just_sent = make_touch("follow_up", june(15, 11))
    invited = make_response("next_round", june(15, 11, 30))
    reply = propose("next_round_reply", june(15, 12), channel="sms", round=2)
    assert decide(reply, [just_sent], [invited]).allowed


def test_r10_next_round_reply_needs_an_invitation(decide, propose):
    decision = decide(propose("next_round_reply", june(15, 12), round=2))
    assert (decision.rule, decision.next_allowed_at) == ("R10", None)


def test_r10_invitation_ends_the_previous_rounds_sequence(
    decide, propose, thank_you, make_response
):
    invited = make_response("next_round", june(10, 9), contact_id=2)
    decision = decide(propose("follow_up", june(15, 12)), [thank_you], [invited])
    assert decision.rule == "R8"


# --- R11 calls ---------------------------------------------------------------------------


def test_r11_no_call_without_an_email_follow_up(decide, propose, thank_you):
    decision = decide(propose("call", june(17, 12), channel="call"), [thank_you])
    assert (decision.rule, decision.next_allowed_at) == ("R11", None)


def test_r11_an_sms_follow_up_does_not_open_the_call(decide, propose, make_touch, thank_you):
    sms = make_touch("follow_up", june(15, 12), channel="sms")
    assert decide(propose("call", june(17, 12), channel="call"), [thank_you, sms]).rule == "R11"


def test_r11_call_after_an_unanswered_email_follow_up(decide, propose, thank_you, email_follow_up):
    decision = decide(propose("call", june(17, 12), channel="call"), [thank_you, email_follow_up])
    assert decision.allowed


def test_r11_call_outside_the_call_window_gets_the_next_opening(
    decide, propose, settings, thank_you, email_follow_up
):
    policy = settings(call_window_start="10:00", call_window_end="12:00")
    decision = decide(
        propose("call", june(17, 12), channel="call"), [thank_you, email_follow_up], policy=policy
    )
    assert decision.rule == "R11"
    assert decision.next_allowed_at == june(18, 10)


def test_r11_call_waits_for_the_scheduled_follow_up(decide, propose, make_touch, thank_you):
    scheduled = make_touch("follow_up", june(15, 12), status="scheduled")
    decision = decide(
        propose("call", june(12, 12), channel="call"), [thank_you, scheduled], now=june(10)
    )
    assert decision.rule == "R11"
    assert decision.next_allowed_at == june(17, 12)  # after it, then R7's 48 h


# --- R15 send window ---------------------------------------------------------------------


def test_r15_automated_send_at_night_is_deferred_not_refused(decide, propose):
    decision = decide(propose("thank_you", june(8, 22)), interview_end=INTERVIEW_END)
    assert decision.rule == "R15"
    assert decision.next_allowed_at == june(9, 8)


def test_r15_weekend_send_moves_to_monday_in_the_contacts_zone(decide, propose, make_contact):
    ny = make_contact(tz="America/New_York", country="US")
    decision = decide(propose("thank_you", june(13, 15)), contact=ny)
    assert decision.next_allowed_at == june(15, 12)  # Monday 08:00 EDT


def test_r15_adjust_to_window_moves_automated_touches(settings, make_contact):
    contact = make_contact(tz="Asia/Kolkata")
    policy = settings()
    assert adjust_to_window(policy, contact, june(10, 13)) == june(11, 2, 30)
    assert adjust_to_window(policy, contact, june(10, 6)) == june(10, 6)


def test_r15_adjust_to_window_uses_the_call_window_for_calls(settings, make_contact):
    policy = settings(call_window_start="09:00", call_window_end="11:00")
    assert adjust_to_window(policy, make_contact(), june(10, 8), channel="call") == june(10, 9)


def test_r15_manual_touch_at_night_is_logged_with_a_flag(decide, propose):
    decision = decide(propose("custom", june(10, 22), channel="manual", automated=False))
    assert not decision.allowed
    assert for_manual(decision) == ("R15",)


def test_automated_touch_due_in_the_past_is_judged_at_now(decide, propose):
    decision = decide(propose("thank_you", june(9, 12)), now=june(9, 19))
    assert decision.rule == "R15"
    assert decision.next_allowed_at == june(10, 8)


# --- daily cap ---------------------------------------------------------------------------


def test_cap_reached_moves_to_the_next_days_window(decide, propose):
    decision = decide(propose("thank_you", june(10, 12)), candidate_sends_today=10)
    assert decision.rule == "CAP"
    assert decision.next_allowed_at == june(11, 8)


def test_cap_not_reached_allows_the_send(decide, propose):
    assert decide(propose("thank_you", june(10, 12)), candidate_sends_today=9).allowed


def test_cap_does_not_apply_to_manual_touches(decide, propose):
    manual = propose("custom", june(10, 12), channel="manual", automated=False)
    assert decide(manual, candidate_sends_today=50).allowed


# --- combining refusals ------------------------------------------------------------------


def test_permanent_refusal_wins_over_a_deferral(decide, propose, make_contact):
    decision = decide(propose("thank_you", june(13, 12)), contact=make_contact(do_not_contact=True))
    assert (decision.rule, decision.next_allowed_at) == ("DNC", None)
    assert decision.violations == ("DNC", "R15")


def test_the_rule_pushing_furthest_is_reported(decide, propose, thank_you):
    decision = decide(propose("follow_up", june(13, 12)), [thank_you])  # Saturday, 5 days early
    assert decision.rule == "R5"
    assert set(decision.violations) == {"R5", "R15"}


def test_next_allowed_at_satisfies_every_rule_at_once(decide, propose, make_touch):
    # R7 pushes to Saturday 12:00; the send window then moves it to Monday 08:00.
    history = [make_touch("custom", june(11, 12), round=2)]
    decision = decide(propose("custom", june(12, 9), round=2), history)
    assert decision.next_allowed_at == june(15, 8)
    assert decide(propose("custom", decision.next_allowed_at, round=2), history).allowed


def test_refusal_detail_names_the_rule(decide, propose, thank_you):
    decision = decide(propose("follow_up", june(11, 12)), [thank_you])
    assert decision.detail.startswith("R5:")


# --- budget summary ----------------------------------------------------------------------


def test_budget_summary_reports_usage_and_next_times(settings, make_contact, thank_you):
    summary = budget_summary(settings(), make_contact(), [thank_you], [], 1, june(9, 9))
    assert (summary["used"], summary["left"], summary["stopped"]) == (1, 2, False)
    assert summary["next_allowed_at"]["email"] == june(15, 12)  # R5 follow-up
    assert summary["next_allowed_at"]["call"] is None  # R11: no email follow-up yet


def test_budget_summary_shows_a_stop(settings, make_contact, thank_you, make_response):
    reply = make_response("replied", june(9, 9))
    summary = budget_summary(settings(), make_contact(), [thank_you], [reply], 1, june(9, 10))
    assert summary["stopped"] is True
    assert summary["stopped_rule"] == "R8"
    assert summary["next_allowed_at"] == {"email": None, "sms": None, "call": None}


def test_budget_summary_for_a_fresh_contact_probes_the_thank_you(settings, make_contact):
    summary = budget_summary(settings(), make_contact(), [], [], 1, june(10, 12))
    assert summary["next_allowed_at"]["email"] == june(10, 12)
    assert summary["left"] == 3


def test_invalid_inputs_fail_loudly(propose):
    with pytest.raises(ValueError, match="timezone-aware"):
        propose("thank_you", datetime(2026, 6, 10, 12))
    with pytest.raises(ValueError, match="unknown step"):
        propose("nudge", june(10, 12))


def test_touch_judged_only_against_its_own_contact(decide, propose, make_contact):
    with pytest.raises(ValueError, match="contact"):
        decide(propose("thank_you", june(10, 12), contact_id=2), contact=make_contact(1))


def test_scheduled_touch_reserves_its_day_for_r7_both_ways(decide, propose, make_touch):
    pending = make_touch("custom", june(17, 12), status="scheduled", round=2)
    decision = decide(propose("custom", june(16, 12), round=2), [pending], now=june(10))
    assert decision.next_allowed_at == june(17, 12) + timedelta(hours=48)


def test_r5_waits_a_week_on_the_contacts_calendar_across_a_dst_change():
    from datetime import UTC, datetime

    from api.policy import PolicySettings, follow_up_earliest

    # 12:00 EST on Tue 3 March 2026; New York moves to EDT on Sun 8 March.
    thank_you = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    earliest, rule, _ = follow_up_earliest(PolicySettings(), "America/New_York", thank_you, None)
    assert rule == "R5"
    assert earliest == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 EDT
