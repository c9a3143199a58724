"""Policy settings (org -> candidate -> contact) and a contact's touch budget over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.models import PolicySetting
from tests.api.helpers import assert_problem
from tests.ledger.conftest import (
    FOLLOW_UP_AT,
    INTERVIEW_END,
    THANK_YOU_AT,
    created,
    parse,
    refused,
)


def put(scene, url: str, token_role: str = "candidate", **values):
    return scene.call("put", url, token=scene.world.tokens[token_role], json=values)


# -- reading: effective values and where they come from ------------------------------------


def test_the_org_policy_starts_with_the_defaults_of_the_domain_rules(scene):
    answer = scene.call("get", "/v1/policy")

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["scope"] == "org"
    assert body["overrides"] == {}
    effective = body["effective"]
    assert (effective["touch_budget"], effective["min_gap_hours"]) == (3, 48)  # R6, R7
    assert (effective["thank_you_due_hours"], effective["thank_you_deadline_hours"]) == (2, 24)
    assert (effective["send_window_start"], effective["send_window_end"]) == ("08:00", "18:00")
    assert (effective["call_window_start"], effective["call_window_end"]) == ("08:00", "18:00")
    assert effective["business_days"] == [0, 1, 2, 3, 4]
    assert set(body["sources"].values()) == {"default"}


def test_each_effective_value_names_the_layer_it_comes_from(scene):
    admin, advisor = "admin", "advisor"
    assert put(scene, "/v1/policy", admin, min_gap_hours=72).status_code == 200
    url = f"/v1/users/{scene.candidate.id}/policy"
    assert put(scene, url, advisor, follow_up_wait_days=10).status_code == 200
    contact_url = f"/v1/contacts/{scene.dana.id}/policy"
    assert put(scene, contact_url, advisor, touch_budget=2).status_code == 200

    body = scene.call("get", f"/v1/contacts/{scene.dana.id}/policy").get_json()

    assert body["scope"] == "contact"
    assert body["overrides"] == {"touch_budget": 2}
    effective, sources = body["effective"], body["sources"]
    assert (effective["min_gap_hours"], sources["min_gap_hours"]) == (72, "org")
    assert (effective["follow_up_wait_days"], sources["follow_up_wait_days"]) == (10, "candidate")
    assert (effective["touch_budget"], sources["touch_budget"]) == (2, "contact")
    assert (effective["daily_cap"], sources["daily_cap"]) == (10, "default")


def test_a_candidate_policy_shows_its_own_overrides_over_the_org(scene):
    assert put(scene, "/v1/policy", "admin", min_gap_hours=72).status_code == 200
    url = f"/v1/users/{scene.candidate.id}/policy"
    assert put(scene, url, "advisor", min_gap_hours=96).status_code == 200

    body = scene.call("get", url).get_json()

    assert (body["scope"], body["overrides"]) == ("candidate", {"min_gap_hours": 96})
    assert (body["effective"]["min_gap_hours"], body["sources"]["min_gap_hours"]) == (
        96,
        "candidate",
    )


def test_a_null_removes_an_override(scene):
    url = f"/v1/contacts/{scene.dana.id}/policy"
    assert put(scene, url, touch_budget=2).status_code == 200

    answer = put(scene, url, touch_budget=None)

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["sources"]["touch_budget"] == "default"


# -- writing: validation and who may ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("touch_budget", 0, "touch_budget"),
        ("touch_budget", 11, "touch_budget"),
        ("min_gap_hours", -1, "min_gap_hours"),
        ("follow_up_wait_days", 0, "follow_up_wait_days"),
        ("send_window_start", "25:00", "send_window_start"),
        ("business_days", [1, 7], "business_days.1"),
        ("business_days", [], "business_days"),
        ("touch_budget", "3", "touch_budget"),
    ],
)
def test_an_out_of_range_value_is_422_naming_the_field(scene, count, field, value, named):
    answer = put(scene, "/v1/policy", "admin", **{field: value})

    assert_problem(answer, 422, named)
    assert count(PolicySetting) == 0


def test_a_send_window_ending_before_it_starts_is_422(scene, count):
    answer = put(scene, "/v1/policy", "admin", send_window_start="10:00", send_window_end="09:00")

    assert_problem(answer, 422, "send_window_end")
    assert count(PolicySetting) == 0


def test_a_contact_window_that_ends_before_the_inherited_start_is_422(scene, count):
    assert put(scene, "/v1/policy", "admin", send_window_start="10:00").status_code == 200

    answer = put(scene, f"/v1/contacts/{scene.dana.id}/policy", send_window_end="09:00")

    assert_problem(answer, 422, "send_window_end")
    assert count(PolicySetting) == 1


def test_an_org_change_that_would_break_a_candidates_overrides_is_422(scene, count):
    url = f"/v1/users/{scene.candidate.id}/policy"
    assert put(scene, url, "advisor", send_window_start="16:00").status_code == 200

    answer = put(scene, "/v1/policy", "admin", send_window_end="12:00")

    problem = assert_problem(answer, 422, "send_window_end")
    assert f"candidate {scene.candidate.id}" in problem["detail"]
    assert scene.call("get", "/v1/policy").get_json()["overrides"] == {}


def test_a_candidate_change_that_would_break_a_contacts_overrides_is_422(scene):
    contact_url = f"/v1/contacts/{scene.dana.id}/policy"
    assert put(scene, contact_url, "admin", call_window_start="15:00").status_code == 200

    url = f"/v1/users/{scene.candidate.id}/policy"
    answer = put(scene, url, "advisor", call_window_end="14:00")

    problem = assert_problem(answer, 422, "call_window_end")
    assert f"contact {scene.dana.id}" in problem["detail"]
    created(scene.schedule("thank_you", THANK_YOU_AT))  # the policy still works


@pytest.mark.parametrize("role", ["candidate", "advisor"])
def test_only_an_admin_sets_the_org_policy(scene, count, role):
    assert_problem(put(scene, "/v1/policy", role, touch_budget=5), 403)
    assert count(PolicySetting) == 0


def test_a_candidate_cannot_set_their_own_candidate_policy(scene):
    url = f"/v1/users/{scene.candidate.id}/policy"

    assert_problem(put(scene, url, touch_budget=5), 403)


def test_a_contact_policy_of_another_candidate_is_not_found(scene, count):
    url = f"/v1/contacts/{scene.dana.id}/policy"

    assert_problem(put(scene, url, "other_candidate", touch_budget=5), 404)
    assert_problem(scene.call("get", url, token=scene.world.tokens["stranger_admin"]), 404)
    assert count(PolicySetting) == 0


# -- the settings take effect ----------------------------------------------------------------


def test_a_contact_touch_budget_of_one_refuses_the_second_touch_with_r6(scene):
    assert put(scene, f"/v1/contacts/{scene.dana.id}/policy", touch_budget=1).status_code == 200
    created(scene.schedule("thank_you", THANK_YOU_AT))

    refused(scene.schedule("follow_up", FOLLOW_UP_AT), "R6")


def test_a_contact_override_leaves_the_rest_of_the_panel_on_the_defaults(scene):
    assert put(scene, f"/v1/contacts/{scene.dana.id}/policy", touch_budget=1).status_code == 200
    created(scene.schedule("thank_you", THANK_YOU_AT, contact=scene.raj))

    created(scene.schedule("follow_up", FOLLOW_UP_AT, contact=scene.raj))


def test_an_org_minimum_gap_is_applied_to_scheduling(scene):
    assert put(scene, "/v1/policy", "admin", min_gap_hours=72).status_code == 200
    created(scene.schedule("thank_you", THANK_YOU_AT))

    problem = refused(scene.schedule("custom", THANK_YOU_AT + timedelta(days=2)), "R7")

    assert parse(problem["next_allowed_at"]) == THANK_YOU_AT + timedelta(days=3)


# -- the budget ------------------------------------------------------------------------------


def test_the_budget_of_an_untouched_contact_is_whole(scene):
    budget = scene.budget()

    assert (budget["round"], budget["budget"], budget["used"], budget["left"]) == (1, 3, 0, 3)
    assert (budget["stopped"], budget["stopped_rule"]) == (False, None)
    # A thank-you may go once the interview has ended; a call needs an email follow-up first.
    assert parse(budget["next_allowed_at"]["email"]) == INTERVIEW_END
    assert (budget["next_allowed_at"]["call"], budget["blocked_by"]["call"]) == (None, "R11")


def test_the_budget_counts_scheduled_touches_and_names_the_next_allowed_time(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))

    budget = scene.budget()

    assert (budget["used"], budget["left"]) == (1, 2)
    assert parse(budget["next_allowed_at"]["email"]) == FOLLOW_UP_AT  # R5: a week later
    assert budget["blocked_by"]["email"] == "R5"


def test_the_budget_shows_a_sequence_stopped_by_a_reply(scene):
    assert scene.respond("replied").status_code == 201

    budget = scene.budget()

    assert (budget["stopped"], budget["stopped_rule"]) == (True, "R8")
    assert budget["stopped_reason"]
    assert set(budget["next_allowed_at"].values()) == {None}


def test_a_spent_budget_has_nothing_left(scene):
    assert put(scene, f"/v1/contacts/{scene.dana.id}/policy", touch_budget=1).status_code == 200
    created(scene.schedule("thank_you", THANK_YOU_AT))

    budget = scene.budget()

    assert (budget["budget"], budget["used"], budget["left"]) == (1, 1, 0)
    assert budget["blocked_by"]["email"] == "R6"
    assert budget["next_allowed_at"]["email"] is None


def test_the_budget_can_be_asked_for_a_given_application_and_round(scene):
    answer = scene.call(
        "get",
        f"/v1/contacts/{scene.dana.id}/budget?application_id={scene.application.id}&round=2",
    )

    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["application_id"], answer.get_json()["round"]) == (
        scene.application.id,
        2,
    )


def test_the_budget_of_a_contact_without_any_application_asks_for_one(scene, factory):
    stranger = factory.contact(scene.candidate, name="Lee Park")

    answer = scene.call("get", f"/v1/contacts/{stranger.id}/budget")

    assert_problem(answer, 422, "application_id")


def test_an_advisor_has_no_candidate_policy_and_the_answer_says_so(scene, world, snapshot):
    before = snapshot()
    admin = world.tokens["admin"]

    shown = scene.call("get", f"/v1/users/{world.advisor.id}/policy", token=admin)
    stored = scene.call("put", f"/v1/users/{world.advisor.id}/policy", token=admin, json={})

    for answer in (shown, stored):
        problem = assert_problem(answer, 409)
        assert "is an advisor, not a candidate" in problem["detail"]
    assert snapshot() == before
