"""A candidate's own rules for a contact: stricter than the staff levels, never looser.

Staff (admins, advisors) set the org, candidate and contact levels; a candidate's PUT on a
contact's policy sets their `own` rules, refused with a 403 naming the field, the level and
the value in force when looser, and combined at every check as the stricter of the two.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.models import PolicySetting
from api.policy import SETTING_NAMES
from tests.api.helpers import assert_problem
from tests.ledger.conftest import CALL_AT, THANK_YOU_AT, created, refused


def put(scene, url: str, role: str = "candidate", **values):
    return scene.call("put", url, token=scene.world.tokens[role], json=values)


def contact_url(scene) -> str:
    return f"/v1/contacts/{scene.dana.id}/policy"


def candidate_url(scene) -> str:
    return f"/v1/users/{scene.candidate.id}/policy"


def effective(scene) -> tuple[dict, dict]:
    body = scene.call("get", contact_url(scene)).get_json()
    return body["effective"], body["sources"]


def customs(scene, n: int, start=CALL_AT, every=timedelta(days=7)) -> list[int]:
    """Schedule `n` custom emails to Dana, `every` apart; the status of each answer."""
    return [
        scene.schedule("custom", start + i * every, channel="email").status_code for i in range(n)
    ]


# (setting, a looser value, a stricter value) against the built-in defaults.
EACH_SETTING = [
    ("touch_budget", 4, 2),
    ("daily_cap", 11, 5),
    ("sms_max_segments", 3, 1),
    ("thank_you_max_words", 151, 100),
    ("follow_up_max_words", 201, 150),
    ("thank_you_due_hours", 3, 1),
    ("thank_you_deadline_hours", 25, 12),
    ("thank_you_late_hours", 49, 36),
    ("min_gap_hours", 47, 72),
    ("follow_up_wait_days", 6, 10),
    ("decision_grace_days", 1, 3),
    ("stop_on_response", False, True),
    ("observe_holidays", False, True),
    ("send_window_start", "07:00", "09:00"),
    ("send_window_end", "19:00", "17:00"),
    ("call_window_start", "07:30", "10:00"),
    ("call_window_end", "18:30", "16:00"),
    ("business_days", [0, 1, 2, 3, 4, 5], [1, 2, 3]),
    ("approval", "auto", "required"),
    ("draft_deadline_hours", 25, 12),
]


def test_the_table_covers_every_setting():
    assert {name for name, _, _ in EACH_SETTING} == set(SETTING_NAMES)


# -- refused: looser than the levels above -----------------------------------------------------


def test_the_issue_case_a_candidate_cannot_lift_the_limits_staff_set(scene, snapshot):
    url = candidate_url(scene)
    staff = {"touch_budget": 2, "daily_cap": 2, "min_gap_hours": 48}
    assert put(scene, url, "admin", **staff).status_code == 200
    before = snapshot()

    answer = put(scene, contact_url(scene), touch_budget=10, min_gap_hours=0, daily_cap=100)

    problem = assert_problem(answer, 403, "touch_budget", "min_gap_hours", "daily_cap")
    assert problem["limits"] == {
        "touch_budget": {"level": "candidate", "in_force": 2},
        "min_gap_hours": {"level": "candidate", "in_force": 48},
        "daily_cap": {"level": "candidate", "in_force": 2},
    }
    assert snapshot() == before


def test_after_the_refusal_the_staff_budget_still_holds(scene):
    assert put(scene, candidate_url(scene), "admin", touch_budget=2, daily_cap=2).status_code == 200
    put(scene, contact_url(scene), touch_budget=10, min_gap_hours=0, daily_cap=100)

    assert customs(scene, 6) == [201, 201, 409, 409, 409, 409]


@pytest.mark.parametrize(("field", "looser", "stricter"), EACH_SETTING)
def test_a_looser_own_value_is_403_naming_the_field_and_the_value_in_force(
    scene, count, field, looser, stricter
):
    answer = put(scene, contact_url(scene), **{field: looser})

    problem = assert_problem(answer, 403, field)
    assert problem["limits"][field]["level"] == "org"  # a built-in default is the org's
    in_force = scene.call("get", "/v1/policy").get_json()["effective"][field]
    assert problem["limits"][field]["in_force"] == in_force
    assert count(PolicySetting) == 0


@pytest.mark.parametrize(("field", "looser", "stricter"), EACH_SETTING)
def test_a_stricter_own_value_is_in_force_and_named_own(scene, field, looser, stricter):
    if field in ("stop_on_response", "observe_holidays"):  # on by default: staff turn it off
        assert put(scene, "/v1/policy", "admin", **{field: False}).status_code == 200
    if field == "approval":  # required by default: staff waive it
        assert put(scene, "/v1/policy", "admin", approval="auto").status_code == 200

    answer = put(scene, contact_url(scene), **{field: stricter})

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["own"], body["overrides"]) == ({field: stricter}, {})
    assert (body["effective"][field], body["sources"][field]) == (stricter, "own")


def test_the_403_names_the_org_level_when_the_org_set_the_value(scene):
    assert put(scene, "/v1/policy", "admin", min_gap_hours=72).status_code == 200

    problem = assert_problem(put(scene, contact_url(scene), min_gap_hours=48), 403)

    assert problem["limits"] == {"min_gap_hours": {"level": "org", "in_force": 72}}
    assert "72" in problem["errors"]["min_gap_hours"][0]


def test_a_staff_set_contact_value_binds_the_candidate_too(scene):
    assert put(scene, contact_url(scene), "advisor", touch_budget=1).status_code == 200

    problem = assert_problem(put(scene, contact_url(scene), touch_budget=2), 403, "touch_budget")

    assert problem["limits"]["touch_budget"] == {"level": "contact", "in_force": 1}


def test_an_own_window_outside_the_window_in_force_is_422(scene, count):
    assert put(scene, "/v1/policy", "admin", send_window_end="12:00").status_code == 200

    answer = put(scene, contact_url(scene), send_window_start="13:00")

    assert_problem(answer, 422, "send_window_end")
    assert count(PolicySetting) == 1


# -- staff may loosen, and the candidate's PUT never touches what staff set --------------------


@pytest.mark.parametrize("role", ["admin", "advisor"])
def test_staff_may_loosen_a_contact_within_the_ranges(scene, role):
    answer = put(scene, contact_url(scene), role, touch_budget=5, min_gap_hours=0)

    assert answer.status_code == 200, answer.get_json()
    values, sources = effective(scene)
    assert (values["touch_budget"], sources["touch_budget"]) == (5, "contact")
    assert customs(scene, 6, every=timedelta(days=1)) == [201] * 5 + [409]


def test_the_candidates_put_keeps_the_staff_contact_overrides(scene):
    assert put(scene, contact_url(scene), "admin", touch_budget=5).status_code == 200

    answer = put(scene, contact_url(scene), min_gap_hours=72)

    body = answer.get_json()
    assert (body["overrides"], body["own"]) == ({"touch_budget": 5}, {"min_gap_hours": 72})
    assert body["sources"]["touch_budget"] == "contact"


def test_a_candidate_may_tighten_a_staff_loosening(scene):
    assert put(scene, contact_url(scene), "admin", touch_budget=5).status_code == 200

    assert put(scene, contact_url(scene), touch_budget=4).status_code == 200

    values, sources = effective(scene)
    assert (values["touch_budget"], sources["touch_budget"]) == (4, "own")


# -- "stricter" holds at every check, not only when the rule was saved ------------------------


def test_staff_tightening_below_an_own_rule_is_what_holds(scene):
    assert put(scene, contact_url(scene), touch_budget=2).status_code == 200  # own: 2 of 3

    assert put(scene, candidate_url(scene), "advisor", touch_budget=1).status_code == 200

    values, sources = effective(scene)
    assert (values["touch_budget"], sources["touch_budget"]) == (1, "candidate")
    assert customs(scene, 2) == [201, 409]


def test_staff_lowering_the_gap_leaves_the_candidates_longer_gap(scene):
    assert put(scene, contact_url(scene), min_gap_hours=96).status_code == 200

    assert put(scene, "/v1/policy", "admin", min_gap_hours=0).status_code == 200

    values, sources = effective(scene)
    assert (values["min_gap_hours"], sources["min_gap_hours"]) == (96, "own")
    created(scene.schedule("custom", CALL_AT))
    refused(scene.schedule("custom", CALL_AT + timedelta(days=3)), "R7")


def test_a_looser_own_value_however_stored_never_loosens_a_staff_limit(scene, db):
    staff = put(scene, candidate_url(scene), "admin", touch_budget=2, min_gap_hours=48)
    assert staff.status_code == 200
    db.add(
        PolicySetting(
            org_id=scene.candidate.org_id,
            candidate_id=scene.candidate.id,
            contact_id=scene.dana.id,
            values={},
            own_values={"touch_budget": 10, "min_gap_hours": 0, "stop_on_response": False},
        )
    )
    db.commit()

    values, sources = effective(scene)

    assert (values["touch_budget"], values["min_gap_hours"]) == (2, 48)
    assert values["stop_on_response"] is True
    assert {sources[f] for f in ("touch_budget", "min_gap_hours")} == {"candidate"}
    created(scene.schedule("thank_you", THANK_YOU_AT))
    refused(scene.schedule("custom", THANK_YOU_AT + timedelta(hours=1)), "R7")


def test_an_own_window_staff_later_move_away_from_gives_way_to_the_staff_window(scene):
    own = put(scene, contact_url(scene), send_window_start="09:00", send_window_end="11:00")
    assert own.status_code == 200
    staff = {"send_window_start": "13:00", "send_window_end": "17:00"}
    assert put(scene, candidate_url(scene), "advisor", **staff).status_code == 200

    values, sources = effective(scene)

    assert (values["send_window_start"], values["send_window_end"]) == ("13:00", "17:00")
    assert sources["send_window_start"] == "candidate"
