"""Built-in default templates: valid, and they pass the message check."""

from __future__ import annotations

import pytest

from api.preflight import CheckContext, blocking, run_checks, sms_segments, word_count
from api.templating import (
    DEFAULT_CHANNELS,
    STEPS,
    build_context,
    default_template,
    render,
    validate_template,
)

ALL_DEFAULTS = [
    (step, channel) for step, channels in DEFAULT_CHANNELS.items() for channel in channels
]


def _check_context(context, **overrides) -> CheckContext:
    return CheckContext.from_template_context(
        context,
        other_contacts=["Raj Patel", "Dana Smith", "Alex Moreno"],
        other_companies=["Globex", "Umbrella Corporation", "Target"],
        **overrides,
    )


def _sparse_context(step: str, channel: str):
    """Only names, company and position: no notes, no date, no phone."""
    return build_context(
        candidate={"name": "Alex Kim"},
        contact={"name": "Dana Jones"},
        application={"company": "Initech", "position": "Data Analyst"},
        touch={"step": step, "channel": channel},
    )


def test_every_step_has_defaults():
    assert set(DEFAULT_CHANNELS) == set(STEPS)


@pytest.mark.parametrize(("step", "channel"), ALL_DEFAULTS)
def test_default_template_is_valid(step, channel):
    subject, body = default_template(step, channel)
    assert validate_template(subject, body, channel=channel) == []


@pytest.mark.parametrize(("step", "channel"), ALL_DEFAULTS)
def test_default_rendered_with_a_realistic_context_passes_every_check(
    make_template_context, step, channel
):
    context = make_template_context(step, channel)
    message = render(*default_template(step, channel), context)
    assert run_checks(message.subject, message.body, _check_context(context)) == []


@pytest.mark.parametrize(("step", "channel"), ALL_DEFAULTS)
def test_default_rendered_with_a_sparse_context_is_not_blocked(step, channel):
    context = _sparse_context(step, channel)
    message = render(*default_template(step, channel), context)
    assert blocking(run_checks(message.subject, message.body, _check_context(context))) == []


@pytest.mark.parametrize(
    "step", [s for s, channels in DEFAULT_CHANNELS.items() if "sms" in channels]
)
def test_sms_defaults_fit_in_two_segments(make_template_context, step):
    message = render(*default_template(step, "sms"), make_template_context(step, "sms"))
    assert sms_segments(message.body) <= 2


@pytest.mark.parametrize(("step", "channel"), [(s, c) for s, c in ALL_DEFAULTS if c != "email"])
def test_sms_and_call_defaults_have_no_subject(step, channel):
    assert default_template(step, channel)[0] == ""


def test_thank_you_email_has_the_r3_elements(make_template_context):
    message = render(*default_template("thank_you", "email"), make_template_context())
    assert message.body.startswith("Dear Ms. Jones,")
    assert "Thank you for taking the time" in message.body
    assert "moving the billing service to event sourcing" in message.body
    assert "excited about the opportunity" in message.body
    assert "alex.kim@example.com" in message.body  # contact details
    assert word_count(message.body) <= 150


def test_follow_up_email_threads_onto_the_thank_you(make_template_context):
    context = make_template_context("follow_up")
    message = render(*default_template("follow_up", "email"), context)
    assert message.subject == "Re: Thank you for the Senior Backend Engineer interview"


def test_follow_up_email_without_a_thank_you_has_its_own_subject(make_template_context):
    context = make_template_context("follow_up", previous={})
    message = render(*default_template("follow_up", "email"), context)
    assert message.subject == "Following up on the Senior Backend Engineer interview"


@pytest.mark.parametrize("channel", ["email", "sms", "call"])
def test_follow_up_says_who_which_position_and_when(make_template_context, channel):
    message = render(*default_template("follow_up", channel), make_template_context())
    for fact in ("Alex Kim", "Senior Backend Engineer", "March 4, 2025", "next steps"):
        assert fact in message.body


def test_call_script_covers_the_r11_points(make_template_context):
    body = render(*default_template("call", "call"), make_template_context("call", "call")).body
    for fact in ("Alex Kim", "Senior Backend Engineer", "March 4, 2025", "Python and PostgreSQL"):
        assert fact in body
    assert "when I might expect to hear" in body


def test_post_rejection_note_is_short_and_keeps_the_door_open(make_template_context):
    body = render(*default_template("post_rejection", "email"), make_template_context()).body
    assert "Thank you" in body
    assert "feedback" in body
    assert "future roles" in body
    assert word_count(body) <= 100


def test_next_round_reply_accepts_and_offers_availability(make_template_context):
    body = render(*default_template("next_round_reply", "email"), make_template_context()).body
    assert "delighted to accept" in body
    assert "available" in body


@pytest.mark.parametrize(("step", "channel"), [("nope", "email"), ("call", "email")])
def test_unknown_default_is_refused(step, channel):
    with pytest.raises(ValueError):
        default_template(step, channel)
