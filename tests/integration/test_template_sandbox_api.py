"""Templates that would make a render slow or huge are refused over HTTP: 422 naming the
field, quickly, nothing changed; a saved one too heavy for a contact's real notes is
refused when previewed."""

from __future__ import annotations

import time

import pytest

from api.models import Template
from tests.api.helpers import assert_problem
from tests.sandbox_payloads import (
    DATA_HEAVY_BODY,
    HEAVY_NOTES,
    ISSUE_PAYLOADS,
    MORE_PAYLOADS,
    too_heavy,
)

SUBJECT = "Thank you, {{ contact.first_name }}"
BODY = "Dear {{ contact.name }},\n\nThank you for {{ notes.specific_point }}.\n{{ candidate.name }}"
REFUSED_WITHIN = 1.0


def _create(call, token, **fields):
    payload = {"step": "thank_you", "channel": "email", "subject": SUBJECT, "body": BODY}
    payload.update(fields)
    return call("POST", "/v1/templates", token, json=payload)


@pytest.fixture
def heavy_notes(world, factory, db):
    """A contact whose interviewer notes are as long as the API accepts."""
    contact = factory.contact(world.candidate, name="Dana Jones")
    application = factory.application(world.candidate)
    interview = factory.interview(application, [contact])
    [panel] = interview.interviewers
    panel.specific_point, panel.topics = HEAVY_NOTES["specific_point"], HEAVY_NOTES["topics"]
    db.commit()
    return contact


@pytest.mark.parametrize("name", MORE_PAYLOADS)
def test_saving_a_template_that_grows_the_work_is_422_naming_the_body(call, world, snapshot, name):
    source, reason = MORE_PAYLOADS[name]
    before = snapshot()
    started = time.perf_counter()

    response = _create(call, world.tokens["candidate"], body=source)

    assert time.perf_counter() - started < REFUSED_WITHIN
    problem = assert_problem(response, 422, "body")
    assert reason in " | ".join(problem["errors"]["body"])
    assert snapshot() == before


@pytest.mark.parametrize("name", ["multiplication chain", "concatenation", "deep ifs", "self"])
def test_changing_a_template_into_one_is_422_and_leaves_it_unchanged(call, world, row, name):
    source, reason = {**ISSUE_PAYLOADS, **MORE_PAYLOADS}[name]
    created = _create(call, world.tokens["candidate"]).get_json()

    response = call(
        "PATCH", f"/v1/templates/{created['id']}", world.tokens["candidate"], json={"body": source}
    )

    problem = assert_problem(response, 422, "body")
    assert reason in " | ".join(problem["errors"]["body"])
    assert row(Template, created["id"])["body"] == BODY


def test_a_payload_in_the_subject_is_422_naming_the_subject(call, world, count):
    source, reason = MORE_PAYLOADS["concatenation"]

    response = _create(call, world.tokens["candidate"], subject=source)

    problem = assert_problem(response, 422, "subject")
    assert reason in " | ".join(problem["errors"]["subject"])
    assert count(Template) == 0


def test_a_template_too_heavy_for_the_contacts_notes_is_422_when_previewed(
    call, world, heavy_notes
):
    created = _create(call, world.tokens["candidate"], body=DATA_HEAVY_BODY)
    assert created.status_code == 201, created.get_json()  # light with the sample notes
    started = time.perf_counter()

    response = call(
        "POST",
        f"/v1/templates/{created.get_json()['id']}/preview",
        world.tokens["candidate"],
        json={"contact_id": heavy_notes.id},
    )

    assert time.perf_counter() - started < REFUSED_WITHIN
    problem = assert_problem(response, 422, "body")
    assert too_heavy(problem["errors"]["body"])


def test_the_step_preview_of_such_a_template_is_422_too(call, world, heavy_notes):
    assert _create(call, world.tokens["candidate"], body=DATA_HEAVY_BODY).status_code == 201

    response = call(
        "POST",
        "/v1/templates/preview",
        world.tokens["candidate"],
        json={"contact_id": heavy_notes.id, "step": "thank_you", "channel": "email"},
    )

    problem = assert_problem(response, 422, "body")
    assert too_heavy(problem["errors"]["body"])
