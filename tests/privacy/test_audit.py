"""GET /v1/audit-events: staff actions that matter to a candidate, for admins."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.privacy.conftest import now


def _list(call, token: str, query: str = ""):
    return call("get", f"/v1/audit-events{query}", token)


def test_a_token_made_for_another_user_is_recorded(call, world):
    call(
        "post",
        "/v1/tokens",
        world.tokens["admin"],
        json={"name": "p", "user_id": world.candidate.id},
    )
    (event,) = _list(call, world.tokens["admin"], "?action=token.created").get_json()
    assert (event["actor_id"], event["subject_id"]) == (world.admin.id, world.candidate.id)


def test_a_token_made_for_oneself_is_not(call, world):
    call("post", "/v1/tokens", world.tokens["admin"], json={"name": "mine"})
    assert _list(call, world.tokens["admin"], "?action=token.created").get_json() == []


def test_a_staff_policy_change_is_recorded_with_its_fields(call, world):
    answer = call(
        "put", f"/v1/users/{world.candidate.id}/policy", world.tokens["advisor"],
        json={"daily_cap": 5},
    )  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    (event,) = _list(call, world.tokens["admin"], "?action=policy.changed").get_json()
    assert event["actor_role"] == "advisor"
    assert event["data"]["fields"] == ["daily_cap"]


def test_an_assignment_is_recorded(call, world):
    call(
        "post", "/v1/assignments", world.tokens["admin"],
        json={"advisor_id": world.advisor.id, "candidate_id": world.other_candidate.id},
    )  # fmt: skip
    (event,) = _list(call, world.tokens["admin"], "?action=assignment.created").get_json()
    assert event["subject_id"] == world.other_candidate.id


def test_the_trail_filters_by_subject(call, world):
    for user in (world.candidate, world.other_candidate):
        call("get", f"/v1/users/{user.id}/export", world.tokens["admin"])
    events = _list(call, world.tokens["admin"], f"?subject_id={world.candidate.id}").get_json()
    assert [e["subject_id"] for e in events] == [world.candidate.id]


def test_the_trail_filters_by_time_range(call, world):
    call("get", f"/v1/users/{world.candidate.id}/export", world.tokens["admin"])
    later = (now() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert _list(call, world.tokens["admin"], f"?at_after={later}").get_json() == []
    assert len(_list(call, world.tokens["admin"], f"?at_before={later}").get_json()) == 1


def test_the_trail_sorts_newest_first(call, world):
    for user in (world.candidate, world.other_candidate):
        call("get", f"/v1/users/{user.id}/export", world.tokens["admin"])
    events = _list(call, world.tokens["admin"], "?sort=-id").get_json()
    assert [e["subject_id"] for e in events] == [world.other_candidate.id, world.candidate.id]


def test_an_inverted_time_range_is_refused_naming_the_field(call, world):
    answer = _list(
        call, world.tokens["admin"], "?at_after=2026-12-02T00:00:00Z&at_before=2026-12-01T00:00:00Z"
    )
    assert answer.status_code == 422
    assert "at_after" in answer.get_json()["errors"]


@pytest.mark.parametrize("role", ["advisor", "candidate"])
def test_only_admins_read_the_trail(call, world, role):
    assert _list(call, world.tokens[role]).status_code == 403


def test_another_organisations_trail_is_not_shown(call, world):
    call("get", f"/v1/users/{world.candidate.id}/export", world.tokens["admin"])
    assert _list(call, world.tokens["stranger_admin"]).get_json() == []


def test_a_candidates_channel_settings_change_is_recorded_without_its_values(call, world):
    answer = call(
        "put", f"/v1/users/{world.candidate.id}/channels/email/settings", world.tokens["advisor"],
        json={"envelope_from": "bounces@example.org"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    (event,) = _list(call, world.tokens["admin"], "?action=channel_settings.changed").get_json()
    assert (event["subject_id"], event["data"]["channel"]) == (world.candidate.id, "email")
    assert "bounces@example.org" not in repr(event)
