"""The daily cap holds at creation under real concurrency (PostgreSQL).

The cap counts a candidate's automated touches on one local day, across all their
contacts, so the guard must be the candidate's lock (api.locks.lock_candidate), not the
contact's: 20 simultaneous creates to 20 different contacts each hold their own contact
lock, and without the candidate's they all read "fewer than 5 today".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from api.models import Touch
from tests.ledger.conftest import (
    CALL_AT,
    INTERVIEW_START,
    LIVE_REQUESTS,
    needs_postgres,
    race,
    request,
)

pytestmark = needs_postgres

ROUNDS = 3
CAP = 5


def _cap_of(scene, cap: int) -> None:
    url = f"/v1/users/{scene.candidate.id}/policy"
    answer = scene.call("put", url, scene.world.tokens["advisor"], json={"daily_cap": cap})
    assert answer.status_code == 200, answer.get_json()


def test_twenty_simultaneous_creates_to_twenty_contacts_accept_exactly_the_cap(
    scene, server, count, factory
):
    _cap_of(scene, CAP)
    panel = [factory.contact(scene.candidate, name=f"Panel {i}") for i in range(LIVE_REQUESTS)]
    # Warm up: the token's last-use stamp is written now, not by the racing requests.
    assert request(server, "GET", "/v1/touches", scene.token)[0] == 200

    for week in range(ROUNDS):  # each round on its own day, a week apart (no R7 between)
        day = CALL_AT + timedelta(days=7 * week)
        creates = [
            (
                "POST",
                "/v1/touches",
                {
                    "contact_id": contact.id,
                    "application_id": scene.application.id,
                    "step": "custom",
                    "channel": "email",
                    "scheduled_for": (day + timedelta(minutes=i)).isoformat(),
                },
            )
            for i, contact in enumerate(panel)
        ]

        results = race(server, scene.token, creates)

        statuses = sorted(status for status, _ in results)
        assert statuses == [201] * CAP + [409] * (LIVE_REQUESTS - CAP), (week, results)
        assert {body["rule"] for status, body in results if status == 409} == {"CAP"}
        assert count(Touch, candidate_id=scene.candidate.id) == CAP * (week + 1)


def test_twenty_simultaneous_moves_onto_one_day_move_exactly_the_cap(scene, server, count, factory):
    _cap_of(scene, CAP)
    panel = [factory.contact(scene.candidate, name=f"Panel {i}") for i in range(LIVE_REQUESTS)]
    touches = [
        factory.touch(
            contact,
            scene.application,
            step="custom",
            scheduled_for=CALL_AT + timedelta(days=7 * (i + 1)),  # each on a day of its own
            body=f"Dear Panel {i},\n\nA short note.\n\nBest,\nAlex\n",
        )
        for i, contact in enumerate(panel)
    ]
    assert request(server, "GET", "/v1/touches", scene.token)[0] == 200
    moves = [
        (
            "PATCH",
            f"/v1/touches/{t.id}",
            {"scheduled_for": (CALL_AT + timedelta(minutes=i)).isoformat()},
        )
        for i, t in enumerate(touches)
    ]

    results = race(server, scene.token, moves)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * CAP + [409] * (LIVE_REQUESTS - CAP), results
    assert {body["rule"] for status, body in results if status == 409} == {"CAP"}
    day_start, day_end = CALL_AT - timedelta(hours=12), CALL_AT + timedelta(hours=12)
    moved = [t for t in touches if day_start <= _scheduled(scene, t.id) < day_end]
    assert len(moved) == CAP


def test_twenty_simultaneous_plans_schedule_no_more_than_the_cap_on_a_day(
    scene, server, count, factory
):
    _cap_of(scene, CAP)
    panel = [factory.contact(scene.candidate, name=f"Panel {i}") for i in range(LIVE_REQUESTS)]
    interviews = [
        factory.interview(scene.application, [c], starts_at=INTERVIEW_START) for c in panel
    ]
    assert request(server, "GET", "/v1/touches", scene.token)[0] == 200
    plans = [("POST", f"/v1/interviews/{i.id}/plan", None) for i in interviews]

    results = race(server, scene.token, plans)

    assert sorted(status for status, _ in results) == [200] * LIVE_REQUESTS, results
    steps = [step for _, body in results for step in body["steps"]]
    thank_yous = [s for s in steps if s["step"] == "thank_you"]
    assert sum(s["status"] == "created" for s in thank_yous) == CAP
    assert {s["rule"] for s in thank_yous if s["status"] == "skipped"} == {"CAP"}
    assert count(Touch, candidate_id=scene.candidate.id, step="thank_you") == CAP


def test_creates_and_responses_racing_on_the_same_contacts_never_deadlock(scene, server):
    # A response locks its contact, then inserts a row referencing the candidate; a create
    # locks the candidate, then the contact. The candidate's lock must not block that insert.
    _cap_of(scene, CAP)
    assert request(server, "GET", "/v1/touches", scene.token)[0] == 200
    for round_ in range(ROUNDS):
        calls = []
        for i in range(LIVE_REQUESTS // 2):
            contact = scene.dana if i % 2 else scene.raj
            at = (CALL_AT + timedelta(days=7 * (i + 10 * round_))).isoformat()
            touch = {"step": "custom", "channel": "email", "scheduled_for": at}
            response = {"kind": "decision_date", "decision_date": "2030-07-01"}
            for path, extra in (("/v1/touches", touch), ("/v1/responses", response)):
                body = {"contact_id": contact.id, "application_id": scene.application.id}
                calls.append(("POST", path, {**body, **extra}))

        results = race(server, scene.token, calls)

        assert {status for status, _ in results} <= {201, 409}, (round_, results)


def _scheduled(scene, touch_id: int):
    return datetime.fromisoformat(scene.touch(touch_id)["scheduled_for"])
