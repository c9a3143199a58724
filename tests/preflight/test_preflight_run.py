"""run_checks plumbing: extra (plugin) checks, the blocking helper, the context."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.preflight import (
    BLOCK,
    BUILTIN_CHECKS,
    DEFAULT_LIMITS,
    WARN,
    CheckContext,
    Finding,
    Message,
    blocking,
    run_checks,
)
from api.templating import sample_context


def test_extra_check_receives_the_message_and_context(make_ctx, good_subject, good_body):
    seen = []

    def spy(message, ctx):
        seen.append((message.subject, message.body, ctx.step))
        return []

    run_checks(good_subject, good_body, make_ctx(), extra_checks=[spy])
    assert seen == [(good_subject, good_body, "thank_you")]


def test_extra_check_findings_are_returned_after_the_builtin_ones(make_ctx, good_body):
    def no_salary_talk(message, ctx):
        if "salary" in message.body:
            yield Finding("no_salary_talk", None, BLOCK, "Do not discuss salary in a thank-you.")

    body = good_body.replace("Best regards,", "What is the salary?\n\nBest regards,")
    found = run_checks("Thanks", body, make_ctx(), extra_checks=[no_salary_talk])
    assert found[-1].check == "no_salary_talk"


def test_failing_extra_check_becomes_a_warning_and_others_still_run(make_ctx, good_body):
    def broken(message, ctx):
        raise RuntimeError("boom")

    def fine(message, ctx):
        return [Finding("fine", None, WARN, "ok")]

    found = run_checks("Thanks", good_body, make_ctx(), extra_checks=[broken, fine])
    assert [(f.check, f.severity) for f in found] == [("broken", WARN), ("fine", WARN)]
    assert "boom" in found[0].detail


def test_extra_check_returning_something_else_becomes_a_warning(make_ctx, good_body):
    def sloppy(message, ctx):
        return ["not a finding"]

    [finding] = run_checks("Thanks", good_body, make_ctx(), extra_checks=[sloppy])
    assert (finding.check, finding.severity) == ("sloppy", WARN)


def test_blocking_keeps_only_blocking_findings():
    block = Finding("emoji", "R13", BLOCK, "x")
    warn = Finding("slang", "R13", WARN, "y")
    assert blocking([warn, block, warn]) == [block]


def test_finding_is_immutable():
    finding = Finding("emoji", "R13", BLOCK, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.severity = WARN  # type: ignore[misc]


def test_finding_serialises_to_a_dict():
    assert Finding("emoji", "R13", BLOCK, "x").as_dict() == {
        "check": "emoji",
        "rule": "R13",
        "severity": "block",
        "detail": "x",
    }


def test_builtin_checks_have_stable_names():
    assert [c.__name__ for c in BUILTIN_CHECKS] == [
        "empty_body",
        "missing_subject",
        "placeholders",
        "wrong_person",
        "wrong_company",
        "generic_greeting",
        "missing_greeting",
        "missing_specific_point",
        "missing_gratitude",
        "missing_enthusiasm",
        "length",
        "emoji",
        "exclamation_marks",
        "slang",
        "shouting",
    ]


def test_builtin_checks_accept_any_object_with_subject_and_body(make_ctx, good_body):
    class Draft:
        subject = ""
        body = good_body

    for check in BUILTIN_CHECKS:
        list(check(Draft(), make_ctx()))


def test_context_accepts_plain_dicts_and_derives_name_parts():
    ctx = CheckContext(
        step="thank_you",
        channel="email",
        contact={"name": "Dr. Dana Jones", "company": "Initech"},
        notes={"topics": "incident response, on-call", "skills": None},
        other_contacts=[{"name": "Raj Patel"}, "Sam Lee", ""],
    )
    assert (ctx.contact.first_name, ctx.contact.last_name) == ("Dana", "Jones")
    assert ctx.notes.topics == ("incident response", "on-call")
    assert ctx.other_contacts == ("Raj Patel", "Sam Lee")


def test_policy_limits_override_the_defaults():
    ctx = CheckContext(step="thank_you", channel="sms", limits={"sms_max_segments": 1})
    assert ctx.max_sms_segments() == 1
    assert ctx.max_words() == DEFAULT_LIMITS["thank_you_max_words"]


def test_steps_without_their_own_limit_use_max_words():
    ctx = CheckContext(step="post_rejection", channel="email", limits={"max_words": 120})
    assert ctx.max_words() == 120


def test_context_can_be_built_from_a_template_context():
    ctx = CheckContext.from_template_context(
        sample_context(), other_contacts=["Raj Patel"], other_companies=["Globex"]
    )
    assert (ctx.step, ctx.channel) == ("thank_you", "email")
    assert ctx.contact.name == "Dana Jones"
    assert ctx.contact.company == "Initech"
    assert ctx.notes.specific_point == "moving the billing service to event sourcing"
    assert ctx.candidate_name == "Alex Kim"
    assert ctx.position == "Senior Backend Engineer"


def test_message_defaults_to_empty_strings():
    assert Message() == Message(subject="", body="")


@settings(max_examples=200, deadline=None)
@given(subject=st.text(max_size=200), body=st.text(max_size=2000))
def test_builtin_checks_never_raise(subject, body):
    ctx = CheckContext(
        step="thank_you",
        channel="sms",
        contact={"name": "Dana Jones", "company": "Initech"},
        other_contacts=["Raj Patel", "Will Turner"],
        other_companies=["Globex", "Target"],
        notes={"specific_point": "event sourcing"},
    )
    for finding in run_checks(subject, body, ctx):
        assert finding.severity in (BLOCK, WARN)
        assert finding.detail
