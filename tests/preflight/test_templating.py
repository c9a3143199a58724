"""Templates: validation when saved, rendering, the variable namespace."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from api.templating import (
    MAX_BODY_CHARS,
    MAX_SUBJECT_CHARS,
    NAMESPACE,
    RenderedMessage,
    TemplateIssue,
    TemplateRenderError,
    build_context,
    render,
    sample_context,
    validate_template,
)

GOOD_SUBJECT = "Thank you for the {{ application.position }} interview"
GOOD_BODY = """Dear {{ contact.salutation }},

Thank you for your time{% if interview.date %} on {{ interview.date }}{% endif %}.
{% for topic in notes.topics %}
- {{ topic }}
{% endfor %}

Best regards,
{{ candidate.name }}"""


def _reasons(issues: list[TemplateIssue], field: str = "body") -> str:
    return " | ".join(i.reason for i in issues if i.field == field)


# --------------------------------------------------------------------------- #
# validate_template
# --------------------------------------------------------------------------- #


def test_good_template_is_accepted():
    assert validate_template(GOOD_SUBJECT, GOOD_BODY, channel="email") == []


def test_unknown_variable_is_refused():
    [issue] = validate_template("", "Hello {{ interviewer.name }}")
    assert issue.field == "body"
    assert '"interviewer" is not a known variable' in issue.reason


def test_unknown_attribute_of_a_known_object_is_refused():
    [issue] = validate_template("", "Dear {{ contact.nmae }},")
    assert issue.field == "body"
    assert '"contact.nmae" is not a known field' in issue.reason
    assert "salutation" in issue.reason  # lists the fields that exist


def test_unknown_attribute_hidden_behind_a_default_filter_is_refused():
    assert validate_template("", "Dear {{ contact.nmae | default('you') }},")


def test_unknown_attribute_in_a_branch_the_sample_does_not_take_is_refused():
    body = "{% if contact.name %}Dear {{ contact.name }}{% else %}Hi {{ contact.frist }}{% endif %}"
    assert "contact.frist" in _reasons(validate_template("", body))


def test_unknown_attribute_through_an_alias_is_refused_by_rendering():
    issues = validate_template("", "{% set c = contact %}Dear {{ c.nmae }},")
    assert issues and issues[0].field == "body"


def test_unsafe_attribute_is_refused():
    [issue] = validate_template("", "{{ ''.__class__ }}")
    assert "__class__" in issue.reason
    assert "unsafe" in issue.reason


def test_unsafe_attribute_via_subscript_is_refused():
    assert "__class__" in _reasons(validate_template("", "{{ contact['__class__'] }}"))


def test_unsafe_attribute_is_refused_by_the_sandbox_at_render_time():
    # Bypasses validation: the sandbox itself refuses.
    with pytest.raises(TemplateRenderError, match="not allowed"):
        render("", "{{ candidate.name.__class__.__mro__ }}", sample_context())


def test_oversize_body_is_refused():
    [issue] = validate_template("", "a" * (MAX_BODY_CHARS + 1))
    assert issue.field == "body"
    assert str(MAX_BODY_CHARS) in issue.reason


def test_oversize_subject_is_refused():
    [issue] = validate_template("x" * (MAX_SUBJECT_CHARS + 1), "Hello")
    assert issue.field == "subject"


def test_syntax_error_is_refused_with_its_line():
    [issue] = validate_template("", "Hello\n{% if contact.name %}unclosed")
    assert issue.field == "body"
    assert issue.reason.startswith("syntax error on line")


def test_error_in_the_subject_names_the_subject():
    [issue] = validate_template("Re: {{ previous.subjet }}", "Hello")
    assert issue.field == "subject"
    assert str(issue).startswith("subject: ")


def test_unknown_filter_is_refused():
    [issue] = validate_template("", "{{ candidate.name | center(1000000000) }}")
    assert "center" in issue.reason


def test_including_other_templates_is_refused():
    assert "including" in _reasons(validate_template("", "{% include 'x.j2' %}"))


def test_nested_loops_are_refused():
    body = "{% for a in notes.topics %}{% for b in notes.skills %}{{ a }}{% endfor %}{% endfor %}"
    assert "loops inside loops" in _reasons(validate_template("", body))


def test_huge_repetition_is_refused():
    assert "too large" in _reasons(validate_template("", "{{ 'x' * 1000000000 }}"))


def test_printing_a_whole_group_is_refused():
    assert "contact.name" in _reasons(validate_template("", "Dear {{ contact }},"))


def test_assigning_a_namespace_variable_is_refused():
    assert "cannot be assigned" in _reasons(validate_template("", "{% set notes = 1 %}x"))


def test_empty_body_is_refused():
    [issue] = validate_template("Subject", "  ")
    assert issue.field == "body"


def test_email_template_needs_a_subject():
    [issue] = validate_template("", "Hello", channel="email")
    assert issue.field == "subject"


def test_sms_template_has_no_subject():
    [issue] = validate_template("Hi", "Hello", channel="sms")
    assert issue.field == "subject"


def test_issue_serialises_to_a_dict():
    assert TemplateIssue("body", "why").as_dict() == {"field": "body", "reason": "why"}


# --------------------------------------------------------------------------- #
# render
# --------------------------------------------------------------------------- #


def test_render_fills_in_the_context():
    message = render(GOOD_SUBJECT, GOOD_BODY, sample_context())
    assert message == RenderedMessage(
        subject="Thank you for the Senior Backend Engineer interview",
        body=(
            "Dear Ms. Jones,\n\nThank you for your time on March 4, 2025.\n"
            "- incident response\n- on-call rotation\n\nBest regards,\nAlex Kim"
        ),
    )


def test_lines_holding_only_tags_vanish_but_paragraphs_stay_apart():
    body = (
        "One{% if notes.topics %} two{% endif %}\n"
        "\n"
        "{% if candidate.phone %}\n"
        "Three\n"
        "{% endif %}\n"
        "Four"
    )
    assert render("", body, sample_context()).body == "One two\n\nThree\nFour"


def test_render_is_plain_text_without_html_escaping():
    context = build_context(application={"company": "R&D <Labs>"})
    assert render("", "{{ application.company }}", context).body == "R&D <Labs>"


def test_lists_print_as_a_sentence():
    assert render("", "{{ notes.topics }}", sample_context()).body == (
        "incident response and on-call rotation"
    )


def test_subject_is_one_line_and_threads_without_doubling_re():
    context = build_context(previous={"subject": "Re: Thank you"})
    message = render("Re: {{ previous.subject }}\n", "x", context)
    assert message.subject == "Re: Thank you"


def test_render_reports_the_failing_field():
    with pytest.raises(TemplateRenderError) as error:
        render("{{ contact.nmae }}", "body", sample_context())
    assert error.value.field == "subject"


def test_render_stops_output_that_grows_too_large():
    body = "{% for i in notes.topics %}{{ 'x' * 15000 }}{% endfor %}"
    with pytest.raises(TemplateRenderError, match="longer than"):
        render("", body, sample_context())


# --------------------------------------------------------------------------- #
# build_context
# --------------------------------------------------------------------------- #


def test_context_has_exactly_the_documented_namespace():
    context = build_context()
    assert {k: tuple(v) for k, v in context.items()} == NAMESPACE


def test_missing_values_are_empty():
    context = build_context()
    assert context["contact"]["salutation"] == ""
    assert list(context["notes"]["topics"]) == []


def test_salutation_uses_the_honorific_and_last_name():
    context = build_context(contact={"name": "Dana Jones", "honorific": "Ms"})
    assert context["contact"]["salutation"] == "Ms. Jones"


def test_salutation_falls_back_to_the_full_name():
    context = build_context(contact={"first_name": "Dana", "last_name": "Jones"})
    assert context["contact"]["salutation"] == "Dana Jones"
    assert context["contact"]["name"] == "Dana Jones"


def test_explicit_salutation_wins():
    context = build_context(contact={"name": "Dana Jones", "salutation": "Dr. Jones"})
    assert context["contact"]["salutation"] == "Dr. Jones"


def test_name_parts_are_derived_from_the_full_name():
    contact = build_context(contact={"name": "Dana Maria Jones"})["contact"]
    assert (contact["first_name"], contact["last_name"]) == ("Dana", "Jones")


def test_interview_date_is_formatted():
    context = build_context(interview={"date": date(2025, 3, 4), "round": 2})
    assert context["interview"]["date"] == "March 4, 2025"
    assert context["interview"]["round"] == "2"


def test_interview_time_is_converted_to_the_candidates_local_date():
    starts = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)  # evening of March 4 in California
    context = build_context(interview={"starts_at": starts}, tz="America/Los_Angeles")
    assert context["interview"]["date"] == "March 4, 2025"


def test_topics_may_be_given_as_comma_separated_text():
    context = build_context(notes={"topics": "latency, cost ,"})
    assert list(context["notes"]["topics"]) == ["latency", "cost"]


def test_contact_and_application_company_fill_each_other_in():
    context = build_context(application={"company": "Initech", "position": "SRE"})
    assert context["contact"]["company"] == "Initech"
