"""Scheduling renders the template in force for the contact's real notes: a template that
is light on the sample notes but too much work on these is refused, not sent."""

from __future__ import annotations

from tests.api.helpers import assert_problem
from tests.ledger.conftest import THANK_YOU_AT
from tests.sandbox_payloads import DATA_HEAVY_BODY, HEAVY_NOTES, too_heavy


def test_a_template_too_heavy_for_the_notes_refuses_the_touch_and_creates_nothing(
    scene, db, snapshot
):
    saved = scene.call(
        "post",
        "/v1/templates",
        json={
            "step": "thank_you",
            "channel": "email",
            "subject": "Thank you",
            "body": DATA_HEAVY_BODY,
        },
    )
    assert saved.status_code == 201, saved.get_json()
    dana = next(p for p in scene.interview.interviewers if p.contact_id == scene.dana.id)
    dana.specific_point, dana.topics = HEAVY_NOTES["specific_point"], HEAVY_NOTES["topics"]
    db.commit()
    before = snapshot()

    answer = scene.schedule("thank_you", THANK_YOU_AT)

    problem = assert_problem(answer, 422, "body")
    assert too_heavy(problem["errors"]["body"])
    assert snapshot() == before
