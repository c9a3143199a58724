"""Templates: saved only when they render safely, unique per level, previewed for real people.

The template in force for a touch is the candidate's, else the organisation's, else the
built-in default.
"""

from __future__ import annotations

import pytest

from api import templating
from api.models import Template
from tests.api.helpers import assert_problem

BODY = (
    "Dear {{ contact.name }},\n\n"
    "Thank you for your time today. I enjoyed our conversation about "
    "{{ notes.specific_point }}, and I am excited about the {{ application.position }} role.\n\n"
    "Best regards,\n{{ candidate.name }}"
)
SUBJECT = "Thank you, {{ contact.first_name }}"


def _template(**overrides):
    body = {"step": "thank_you", "channel": "email", "subject": SUBJECT, "body": BODY}
    body.update(overrides)
    return body


def _create(call, token, **overrides):
    return call("POST", "/v1/templates", token, json=_template(**overrides))


@pytest.fixture
def panel(world, factory):
    """A contact of the candidate, interviewed, with notes on a specific point."""
    contact = factory.contact(world.candidate, name="Dana Jones")
    application = factory.application(world.candidate)
    interview = factory.interview(application, [contact])
    return contact, application, interview


# -- saving --------------------------------------------------------------------------------


def test_an_admin_saves_an_organisation_wide_template(call, world):
    response = _create(call, world.tokens["admin"])

    assert response.status_code == 201
    body = response.get_json()
    assert (body["scope"], body["candidate_id"]) == ("org", None)
    assert body["body"] == BODY


def test_a_candidate_saves_a_template_of_their_own(call, world):
    response = _create(call, world.tokens["candidate"])

    assert response.status_code == 201
    assert response.get_json()["candidate_id"] == world.candidate.id
    assert response.get_json()["scope"] == "candidate"


def test_an_advisor_saves_one_for_an_assigned_candidate_but_not_for_the_org(call, world):
    assigned = _create(call, world.tokens["advisor"], candidate_id=world.candidate.id)
    org_wide = _create(call, world.tokens["advisor"])
    unassigned = _create(call, world.tokens["advisor"], candidate_id=world.other_candidate.id)

    assert assigned.status_code == 201
    assert_problem(org_wide, 403)
    assert_problem(unassigned, 422, "candidate_id")


def test_a_template_with_an_unknown_variable_is_refused_naming_the_body(call, world, snapshot):
    before = snapshot()

    response = _create(call, world.tokens["admin"], body="Dear {{ interviewer.name }}, thanks.")

    body = assert_problem(response, 422, "body")
    assert "interviewer" in body["errors"]["body"][0]
    assert "not a known variable" in body["errors"]["body"][0]
    assert snapshot() == before


def test_an_unknown_field_in_the_subject_is_refused_naming_the_subject(call, world):
    response = _create(call, world.tokens["admin"], subject="Thanks {{ contact.nmae }}")

    body = assert_problem(response, 422, "subject")
    assert "contact.nmae" in body["errors"]["subject"][0]


def test_a_template_reaching_for_an_unsafe_attribute_is_refused(call, world, count):
    response = _create(
        call, world.tokens["admin"], body="Dear {{ contact.name.__class__.__mro__ }},"
    )

    body = assert_problem(response, 422, "body")
    assert "unsafe attribute" in " ".join(body["errors"]["body"])
    assert count(Template) == 0


def test_an_oversized_template_is_refused_naming_the_size(call, world):
    huge = "Dear {{ contact.name }},\n" + "x" * templating.MAX_BODY_CHARS

    response = _create(call, world.tokens["admin"], body=huge)

    body = assert_problem(response, 422, "body")
    assert str(templating.MAX_BODY_CHARS) in body["errors"]["body"][0]


def test_an_sms_template_with_a_subject_is_refused(call, world):
    response = _create(call, world.tokens["admin"], channel="sms", subject="Hello")

    assert_problem(response, 422, "subject")


def test_a_second_template_for_the_same_level_step_and_channel_is_409(call, world, count):
    first = _create(call, world.tokens["admin"])

    again = _create(call, world.tokens["admin"])

    problem = assert_problem(again, 409, "step", "channel")
    assert problem["existing_id"] == first.get_json()["id"]
    assert count(Template) == 1


def test_the_org_and_a_candidate_may_each_have_one_for_the_same_step(call, world):
    assert _create(call, world.tokens["admin"]).status_code == 201
    assert _create(call, world.tokens["candidate"]).status_code == 201
    assert _create(call, world.tokens["admin"], candidate_id=world.candidate.id).status_code == 409


def test_a_change_is_checked_again_before_it_is_saved(call, world, row):
    created = _create(call, world.tokens["candidate"]).get_json()

    response = call(
        "PATCH",
        f"/v1/templates/{created['id']}",
        world.tokens["candidate"],
        json={"body": "Hi {{ contact.name.__init__ }}"},
    )

    assert_problem(response, 422, "body")
    assert row(Template, created["id"])["body"] == BODY


def test_a_candidate_changes_their_own_template(call, world):
    created = _create(call, world.tokens["candidate"]).get_json()

    response = call(
        "PATCH",
        f"/v1/templates/{created['id']}",
        world.tokens["candidate"],
        json={"subject": "Thanks again, {{ contact.first_name }}"},
    )

    assert response.status_code == 200
    assert response.get_json()["subject"] == "Thanks again, {{ contact.first_name }}"


def test_a_candidate_sees_but_cannot_change_the_organisations_template(call, world):
    created = _create(call, world.tokens["admin"]).get_json()
    url = f"/v1/templates/{created['id']}"

    assert call("GET", url, world.tokens["candidate"]).status_code == 200
    assert_problem(call("PATCH", url, world.tokens["candidate"], json={"body": BODY}), 403)
    assert_problem(call("DELETE", url, world.tokens["advisor"]), 403)


def test_moving_a_template_onto_an_occupied_step_is_409(call, world):
    _create(call, world.tokens["candidate"])
    other = _create(call, world.tokens["candidate"], step="follow_up").get_json()

    response = call(
        "PATCH",
        f"/v1/templates/{other['id']}",
        world.tokens["candidate"],
        json={"step": "thank_you"},
    )

    assert_problem(response, 409, "step")


def test_deleting_a_template(call, world, count):
    created = _create(call, world.tokens["candidate"]).get_json()

    response = call("DELETE", f"/v1/templates/{created['id']}", world.tokens["candidate"])

    assert response.status_code == 204
    assert count(Template) == 0


# -- listing -------------------------------------------------------------------------------


def test_the_list_holds_the_orgs_templates_and_those_of_visible_candidates(call, world):
    org = _create(call, world.tokens["admin"]).get_json()
    mine = _create(call, world.tokens["candidate"]).get_json()
    theirs = _create(call, world.tokens["admin"], candidate_id=world.other_candidate.id).get_json()

    response = call("GET", "/v1/templates", world.tokens["candidate"])

    assert {t["id"] for t in response.get_json()} == {org["id"], mine["id"]}
    everything = call("GET", "/v1/templates", world.tokens["admin"]).get_json()
    assert theirs["id"] in {t["id"] for t in everything}


def test_the_list_filters_by_step_channel_candidate_and_scope(call, world):
    _create(call, world.tokens["admin"])
    sms_body = "Hi {{ contact.first_name }}, thank you for today."
    sms = _create(call, world.tokens["admin"], channel="sms", subject=None, body=sms_body)
    sms = sms.get_json()
    mine = _create(call, world.tokens["candidate"]).get_json()
    token = world.tokens["admin"]

    by_channel = call("GET", "/v1/templates?channel=sms", token).get_json()
    by_candidate = call("GET", f"/v1/templates?candidate_id={world.candidate.id}", token)
    org_only = call("GET", "/v1/templates?scope=org&step=thank_you", token).get_json()

    assert [t["id"] for t in by_channel] == [sms["id"]]
    assert [t["id"] for t in by_candidate.get_json()] == [mine["id"]]
    assert {t["scope"] for t in org_only} == {"org"} and len(org_only) == 2


def test_the_built_in_defaults_cover_every_step_and_channel(call, world):
    response = call("GET", "/v1/templates/defaults", world.tokens["candidate"])

    assert response.status_code == 200
    pairs = {(t["step"], t["channel"]) for t in response.get_json()}
    expected = {(s, c) for s, channels in templating.DEFAULT_CHANNELS.items() for c in channels}
    assert pairs == expected
    email = next(t for t in response.get_json() if t["channel"] == "email")
    assert email["subject"] and email["body"]


# -- previews ------------------------------------------------------------------------------


def test_a_preview_renders_for_the_contact_with_their_interview_notes(call, world, panel):
    contact, application, _ = panel
    created = _create(call, world.tokens["candidate"]).get_json()

    response = call(
        "POST",
        f"/v1/templates/{created['id']}/preview",
        world.tokens["candidate"],
        json={"contact_id": contact.id},
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["subject"] == "Thank you, Dana"
    assert body["body"].startswith("Dear Dana Jones,")
    assert "the migration of the billing pipeline" in body["body"]
    assert body["application_id"] == application.id
    assert isinstance(body["findings"], list)
    assert body["blocking"] is False


def test_a_preview_returns_the_message_checks_findings(call, world, panel):
    contact, _, _ = panel
    vague = "Dear {{ contact.name }},\n\nThank you for your time!! Best,\n{{ candidate.name }}"
    created = _create(call, world.tokens["candidate"], body=vague).get_json()

    response = call(
        "POST",
        f"/v1/templates/{created['id']}/preview",
        world.tokens["candidate"],
        json={"contact_id": contact.id},
    )

    body = response.get_json()
    checks = {f["check"]: f for f in body["findings"]}
    assert checks["missing_specific_point"]["severity"] == "block"
    assert checks["exclamation_marks"]["rule"] == "R13"
    assert body["blocking"] is True


def test_a_preview_for_a_touch_uses_its_parties(call, world, panel, factory):
    contact, application, interview = panel
    touch = factory.touch(contact, application, interview_id=interview.id)
    created = _create(call, world.tokens["admin"]).get_json()

    response = call(
        "POST",
        f"/v1/templates/{created['id']}/preview",
        world.tokens["advisor"],
        json={"touch_id": touch.id},
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["interview_id"] == interview.id
    assert "Dana Jones" in response.get_json()["body"]


def test_a_preview_for_a_contact_of_another_candidate_is_refused(call, world, factory):
    stranger_contact = factory.contact(world.other_candidate)
    created = _create(call, world.tokens["admin"], candidate_id=world.candidate.id).get_json()

    response = call(
        "POST",
        f"/v1/templates/{created['id']}/preview",
        world.tokens["admin"],
        json={"contact_id": stranger_contact.id},
    )

    assert_problem(response, 422, "contact_id")


def test_a_preview_needs_a_contact_or_a_touch(call, world):
    created = _create(call, world.tokens["candidate"]).get_json()

    url = f"/v1/templates/{created['id']}/preview"
    response = call("POST", url, world.tokens["candidate"], json={})

    assert_problem(response, 422, "contact_id")


def _in_force(call, token, contact_id):
    response = call(
        "POST",
        "/v1/templates/preview",
        token,
        json={"contact_id": contact_id, "step": "thank_you", "channel": "email"},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_candidates_template_wins_over_the_orgs_which_wins_over_the_default(call, world, panel):
    contact, _, _ = panel
    token = world.tokens["candidate"]
    default = _in_force(call, token, contact.id)
    org = _create(call, world.tokens["admin"], subject="From the office").get_json()
    by_org = _in_force(call, token, contact.id)
    own = _create(call, token, subject="From me").get_json()
    by_candidate = _in_force(call, token, contact.id)

    assert (default["source"], default["template_id"]) == ("default", None)
    assert "Dana" in default["body"]
    assert (by_org["source"], by_org["template_id"], by_org["subject"]) == (
        "org",
        org["id"],
        "From the office",
    )
    assert (by_candidate["source"], by_candidate["template_id"], by_candidate["subject"]) == (
        "candidate",
        own["id"],
        "From me",
    )


def test_another_candidates_template_never_applies(call, world, panel):
    contact, _, _ = panel
    _create(call, world.tokens["admin"], candidate_id=world.other_candidate.id, subject="Not me")

    assert _in_force(call, world.tokens["candidate"], contact.id)["source"] == "default"


def test_the_step_preview_refuses_an_unknown_channel(call, world, panel):
    contact, _, _ = panel

    response = call(
        "POST",
        "/v1/templates/preview",
        world.tokens["candidate"],
        json={"contact_id": contact.id, "step": "thank_you", "channel": "pigeon"},
    )

    assert_problem(response, 422, "channel")
