"""The channel a plan picks is one that can send for this candidate (issue 12): the
contact's preferred channel (built-in or plugin) when it is configured, else email; a
channel nobody configured is refused at creation, naming where to configure it."""

from __future__ import annotations

from channels import registry
from tests.api.helpers import assert_problem
from tests.channels.test_channel_registry import EchoPlugin  # a plugin channel, no settings


def channels_of(steps: list[dict]) -> dict[str, str | None]:
    return {s["step"]: s["channel"] for s in steps}


def prefer(scene, channel: str) -> None:
    scene.ok("patch", f"/v1/contacts/{scene.dana.id}", json={"preferred_channel": channel})


def test_a_follow_up_goes_by_sms_when_preferred_and_configured(calendar):
    prefer(calendar, "sms")

    steps = calendar.plan()

    assert channels_of(steps) == {"thank_you": "email", "follow_up": "sms", "call": None}


def test_a_follow_up_goes_by_email_when_the_preferred_sms_is_not_configured(bare):
    prefer(bare, "sms")

    steps = bare.plan()

    assert channels_of(steps)["follow_up"] == "email"


def test_a_contact_preferring_a_plugin_channel_gets_it_for_the_follow_up(calendar):
    registry.get_plugin_manager().register(EchoPlugin())
    prefer(calendar, "echo")

    steps = calendar.plan()

    assert channels_of(steps)["thank_you"] == "email"  # R14: a thank-you prefers email
    assert channels_of(steps)["follow_up"] == "echo"
    assert {t["step"]: t["channel"] for t in calendar.touches()}["follow_up"] == "echo"


def test_no_call_is_planned_when_no_call_channel_is_configured(bare):
    steps = {s["step"]: s for s in bare.plan()}

    assert (steps["call"]["status"], steps["call"]["rule"]) == ("skipped", "R11")
    assert "PUT /v1/channels/call/settings" in steps["call"]["reason"]


def test_a_thank_you_by_unconfigured_sms_is_a_draft_that_says_why(bare):
    bare.ok("patch", f"/v1/contacts/{bare.dana.id}", json={"email": None})

    steps = {s["step"]: s for s in bare.plan()}  # approval: auto, yet a draft

    assert (steps["thank_you"]["state"], steps["thank_you"]["channel"]) == ("draft", "sms")
    touch = next(t for t in bare.touches() if t["step"] == "thank_you")
    assert "The sms channel cannot send" in touch["reason"]
    assert "PUT /v1/channels/sms/settings" in touch["reason"]


def test_such_a_draft_cannot_be_approved_until_the_channel_is_configured(bare, factory, world):
    bare.ok("patch", f"/v1/contacts/{bare.dana.id}", json={"email": None})
    bare.plan()
    draft = next(t for t in bare.touches() if t["step"] == "thank_you")

    refused = bare.call("post", f"/v1/touches/{draft['id']}/approve")
    factory.twilio_channels(world.org)
    approved = bare.call("post", f"/v1/touches/{draft['id']}/approve")

    assert refused.status_code == 409
    assert "PUT /v1/channels/sms/settings" in refused.get_json()["detail"]
    assert (approved.status_code, approved.get_json()["status"]) == (200, "scheduled")
    assert approved.get_json()["reason"] is None


def test_a_touch_on_an_unconfigured_channel_is_refused_naming_the_endpoint(bare, snapshot):
    before = snapshot()

    answer = bare.call(
        "post",
        "/v1/touches",
        json={
            "contact_id": bare.dana.id,
            "application_id": bare.application.id,
            "step": "custom",
            "channel": "sms",
        },
    )

    problem = assert_problem(answer, 422, "channel")
    assert "PUT /v1/channels/sms/settings" in problem["errors"]["channel"][0]
    assert snapshot() == before


def test_moving_a_touch_to_an_unconfigured_channel_is_refused(bare, snapshot):
    bare.plan()
    follow_up = next(t for t in bare.touches() if t["step"] == "follow_up")
    before = snapshot()

    answer = bare.call("patch", f"/v1/touches/{follow_up['id']}", json={"channel": "sms"})

    assert_problem(answer, 422, "channel")
    assert snapshot() == before
