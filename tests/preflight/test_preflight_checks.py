"""Built-in message checks: each one fires on a bad message and stays quiet on
a good one (false-positive guards)."""

from __future__ import annotations

import pytest

from api.preflight import BLOCK, WARN, sms_segments, word_count


def test_a_good_thank_you_has_no_findings(findings, good_body):
    assert findings(good_body) == []


# --------------------------------------------------------------------------- #
# empty body / subject
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("body", ["", "   \n\n  "])
def test_empty_body_blocks(findings, body):
    [finding] = findings(body, check="empty_body")
    assert finding.severity == BLOCK
    assert "empty" in finding.detail


def test_empty_body_is_not_also_reported_by_content_checks(findings):
    assert {f.check for f in findings("")} == {"empty_body"}


def test_email_without_subject_blocks(findings, good_body):
    [finding] = findings(good_body, subject="  ", check="missing_subject")
    assert finding.severity == BLOCK


def test_sms_needs_no_subject(findings, good_body):
    assert findings(good_body, subject="", channel="sms", check="missing_subject") == []


# --------------------------------------------------------------------------- #
# placeholders (R13)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "placeholder",
    [
        "[Company Name]",
        "[Interviewer's name]",
        "{{ contact.name }}",
        "{first_name}",
        "${name}",
        "<NAME>",
        "XXX",
        "TODO",
    ],
)
def test_unfilled_placeholder_blocks(findings, with_middle, placeholder):
    [finding] = findings(with_middle(f"I am sure {placeholder} will agree."), check="placeholders")
    assert finding.severity == BLOCK
    assert finding.rule == "R13"
    assert f'"{placeholder}"' in finding.detail


def test_placeholder_in_the_subject_blocks(findings, good_body):
    found = findings(good_body, subject="Thank you, [Interviewer Name]", check="placeholders")
    assert [f.severity for f in found] == [BLOCK]


@pytest.mark.parametrize(
    "text",
    [
        "You can reach me at <alex.kim@example.com>.",
        "It is first on my to-do list.",
        "I shipped it in Python 3.12 (2023).",
    ],
)
def test_ordinary_text_is_not_a_placeholder(findings, with_middle, text):
    assert findings(with_middle(text), check="placeholders") == []


# --------------------------------------------------------------------------- #
# wrong person (R1)
# --------------------------------------------------------------------------- #


def test_greeting_naming_another_contact_blocks(findings, good_body):
    body = good_body.replace("Dear Ms. Jones,", "Dear Mr. Patel,")
    [finding] = findings(body, check="wrong_person")
    assert finding.severity == BLOCK
    assert finding.rule == "R1"
    assert finding.detail == (
        'The greeting names "Mr. Patel" (Raj Patel, another of your contacts) '
        "but this note goes to Dana Jones."
    )


def test_greeting_naming_an_unknown_person_blocks(findings, good_body):
    body = good_body.replace("Dear Ms. Jones,", "Dear Mr. Smithers,")
    [finding] = findings(body, check="wrong_person")
    assert finding.severity == BLOCK
    assert '"Mr. Smithers"' in finding.detail


def test_greeting_naming_two_people_blocks(findings, good_body):
    body = good_body.replace("Dear Ms. Jones,", "Dear Dana and Raj,")
    found = findings(body, check="wrong_person")
    assert [f.severity for f in found] == [BLOCK]
    assert '"Raj"' in found[0].detail


@pytest.mark.parametrize("greeting", ["Dear Ms. Jones,", "Hi Dana,", "Dear Dana Jones,", "Hi Dan,"])
def test_greeting_naming_the_contact_passes(findings, good_body, greeting):
    body = good_body.replace("Dear Ms. Jones,", greeting)
    assert findings(body, check="wrong_person") == []


def test_contact_sharing_a_first_name_with_another_contact_is_not_mixed_up(findings, good_body):
    # Dana Smith is another contact; "Hi Dana" still means Dana Jones.
    body = good_body.replace("Dear Ms. Jones,", "Hi Dana,")
    assert findings(body, check="wrong_person", other_contacts=["Dana Smith"]) == []


def test_greeting_by_title_and_last_name_passes_when_the_last_name_is_unknown(findings, good_body):
    assert findings(good_body, check="wrong_person", contact={"name": "Dana"}) == []


def test_contact_listed_among_the_other_contacts_is_not_a_mix_up(findings, good_body):
    others = ["Dana Jones", "Raj Patel"]
    assert findings(good_body, check="wrong_person", other_contacts=others) == []


def test_greeting_naming_the_namesake_blocks(findings, good_body):
    body = good_body.replace("Dear Ms. Jones,", "Dear Dana Smith,")
    [finding] = findings(body, check="wrong_person")
    assert finding.severity == BLOCK


def test_body_naming_another_contact_warns(findings, with_middle):
    [finding] = findings(
        with_middle("Raj Patel explained the on-call setup."), check="wrong_person"
    )
    assert finding.severity == WARN
    assert '"Raj Patel"' in finding.detail
    assert "Dana Jones" in finding.detail


def test_body_addressing_another_contact_by_first_name_warns(findings, with_middle):
    [finding] = findings(with_middle("Raj, your question stayed with me."), check="wrong_person")
    assert finding.severity == WARN
    assert "looks like Raj Patel" in finding.detail


def test_first_name_that_is_an_ordinary_word_is_not_a_mention(findings, with_middle):
    body = with_middle("Will you share the next steps? I will be glad to help.")
    assert findings(body, check="wrong_person", other_contacts=["Will Turner"]) == []


def test_candidate_signature_sharing_a_contact_first_name_is_not_a_mention(findings, good_body):
    assert findings(good_body, check="wrong_person", other_contacts=["Alex Moreno"]) == []


# --------------------------------------------------------------------------- #
# wrong company (R1)
# --------------------------------------------------------------------------- #


def test_body_naming_another_application_company_blocks(findings, with_middle):
    [finding] = findings(with_middle("Globex is a great place."), check="wrong_company")
    assert finding.severity == BLOCK
    assert finding.rule == "R1"
    assert '"Globex"' in finding.detail
    assert "Dana Jones at Initech" in finding.detail


def test_company_is_found_without_its_legal_suffix(findings, with_middle):
    found = findings(with_middle("Umbrella has a bold vision."), check="wrong_company")
    assert [f.severity for f in found] == [BLOCK]


def test_company_is_found_in_the_subject(findings, good_body):
    found = findings(good_body, subject="Thank you - Globex interview", check="wrong_company")
    assert [f.severity for f in found] == [BLOCK]


def test_own_company_passes(findings, with_middle):
    assert findings(with_middle("Initech's culture impressed me."), check="wrong_company") == []


def test_another_application_at_the_same_company_is_not_a_mix_up(findings, good_body):
    assert findings(good_body, check="wrong_company", other_companies=["Initech Inc."]) == []


def test_other_company_inside_the_contacts_company_name_passes(findings, good_body):
    body = good_body.replace("Initech", "Acme Robotics")
    contact = {"name": "Dana Jones", "company": "Acme Robotics"}
    assert findings(body, check="wrong_company", contact=contact, other_companies=["Acme"]) == []


def test_company_name_inside_another_word_passes(findings, with_middle):
    body = with_middle("The Metadata service was fascinating.")
    assert findings(body, check="wrong_company", other_companies=["Meta"]) == []


def test_company_name_that_is_a_common_word_passes_in_lower_case(findings, with_middle):
    body = with_middle("We met our target for latency.")
    assert findings(body, check="wrong_company", other_companies=["Target"]) == []


# --------------------------------------------------------------------------- #
# greetings (R13)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("greeting", ["To whom it may concern,", "Dear Sir or Madam,", "Dear Sir,"])
def test_impersonal_greeting_blocks(findings, good_body, greeting):
    body = good_body.replace("Dear Ms. Jones,", greeting)
    [finding] = findings(body, check="generic_greeting")
    assert finding.severity == BLOCK
    assert '"Dear Ms. Jones,"' in finding.detail  # suggests addressing her by name


@pytest.mark.parametrize(
    "greeting", ["Dear Hiring Manager,", "Hi team,", "Dear Initech Hiring Team,"]
)
def test_role_greeting_warns(findings, good_body, greeting):
    body = good_body.replace("Dear Ms. Jones,", greeting)
    [finding] = findings(body, check="generic_greeting")
    assert finding.severity == WARN


@pytest.mark.parametrize("greeting", ["Dear Ms. Jones,", "Hi Allison,", "Hello Dana, all good?"])
def test_greeting_by_name_is_not_generic(findings, good_body, greeting):
    body = good_body.replace("Dear Ms. Jones,", greeting)
    assert findings(body, check="generic_greeting") == []


def test_email_without_a_greeting_warns(findings, good_body):
    body = good_body.replace("Dear Ms. Jones,\n\n", "")
    [finding] = findings(body, check="missing_greeting")
    assert finding.severity == WARN


def test_sms_without_a_greeting_passes(findings, good_body):
    body = good_body.replace("Dear Ms. Jones,\n\n", "")
    assert findings(body, check="missing_greeting", channel="sms") == []


def test_email_opening_with_the_contacts_name_passes(findings, good_body):
    body = good_body.replace("Dear Ms. Jones,", "Dana,")
    assert findings(body, check="missing_greeting") == []


# --------------------------------------------------------------------------- #
# thank-you content (R3)
# --------------------------------------------------------------------------- #

_WITHOUT_POINT = """Dear Ms. Jones,

Thank you for taking the time to meet with me. I enjoyed meeting the team.
I am excited about the opportunity.

Best regards,
Alex Kim"""


def test_thank_you_without_anything_from_the_notes_blocks(findings):
    [finding] = findings(_WITHOUT_POINT, check="missing_specific_point")
    assert finding.severity == BLOCK
    assert finding.rule == "R3"
    assert "moving the billing service to event sourcing" in finding.detail


def test_paraphrased_specific_point_passes(findings, with_middle):
    body = _WITHOUT_POINT.replace("the team.", "the team and hearing about event-based billing.")
    assert findings(body, check="missing_specific_point") == []


def test_mentioning_a_noted_topic_passes(findings):
    body = _WITHOUT_POINT.replace("the team.", "the team and our talk on incident response.")
    assert findings(body, check="missing_specific_point") == []


def test_thank_you_without_notes_warns(findings):
    [finding] = findings(_WITHOUT_POINT, check="missing_specific_point", notes={})
    assert finding.severity == WARN


def test_specific_point_is_only_required_in_a_thank_you(findings):
    assert findings(_WITHOUT_POINT, check="missing_specific_point", step="follow_up") == []


def test_thank_you_without_gratitude_warns(findings, good_body):
    body = good_body.replace("Thank you for taking the time to meet", "I met")
    [finding] = findings(body, check="missing_gratitude")
    assert (finding.severity, finding.rule) == (WARN, "R3")


def test_appreciation_counts_as_gratitude(findings, good_body):
    body = good_body.replace("Thank you for taking the time to meet", "I appreciated meeting")
    assert findings(body, check="missing_gratitude") == []


def test_post_rejection_note_without_gratitude_warns(findings):
    body = "Dear Ms. Jones,\n\nI understand your decision.\n\nBest regards,\nAlex Kim"
    [finding] = findings(body, check="missing_gratitude", step="post_rejection")
    assert (finding.severity, finding.rule) == (WARN, "R9")


def test_thank_you_without_enthusiasm_warns(findings, good_body):
    body = good_body.replace(
        "Our discussion made me even more excited about the opportunity to join your team.", ""
    )
    [finding] = findings(body, check="missing_enthusiasm")
    assert finding.severity == WARN


def test_looking_forward_counts_as_enthusiasm(findings, good_body):
    body = good_body.replace(
        "Our discussion made me even more excited about the opportunity to join your team.",
        "I look forward to the next steps.",
    )
    assert findings(body, check="missing_enthusiasm") == []


# --------------------------------------------------------------------------- #
# length (R12)
# --------------------------------------------------------------------------- #


def _padded(good_body: str, words: int) -> str:
    extra = words - word_count(good_body)
    return good_body.replace("Best regards,", "word " * extra + "\n\nBest regards,")


def test_thank_you_over_150_words_blocks(findings, good_body):
    [finding] = findings(_padded(good_body, 151), check="length")
    assert finding.severity == BLOCK
    assert finding.rule == "R12"
    assert "151 words" in finding.detail
    assert "150" in finding.detail


def test_thank_you_of_150_words_passes(findings, good_body):
    assert findings(_padded(good_body, 150), check="length") == []


def test_follow_up_may_be_longer_than_a_thank_you(findings, good_body):
    assert findings(_padded(good_body, 190), check="length", step="follow_up") == []


def test_word_limit_comes_from_the_policy(findings, good_body):
    found = findings(_padded(good_body, 120), check="length", limits={"thank_you_max_words": 100})
    assert [f.severity for f in found] == [BLOCK]


def test_sms_over_two_segments_blocks(findings):
    body = "Hi Dana, " + "a" * 300  # 309 GSM-7 characters: 3 segments
    [finding] = findings(body, subject="", channel="sms", check="length", step="custom")
    assert finding.severity == BLOCK
    assert "3 SMS segments" in finding.detail


def test_sms_of_two_segments_passes(findings):
    body = "Hi Dana, " + "a" * 297  # 306 characters
    assert findings(body, subject="", channel="sms", check="length", step="custom") == []


def test_sms_with_a_character_outside_gsm7_gets_shorter_segments(findings):
    body = "Hi Dana, it\u2019s " + "a" * 130  # a curly apostrophe forces UCS-2
    [finding] = findings(body, subject="", channel="sms", check="length", step="custom")
    assert "\u2019" in finding.detail


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # extension characters take two septets
        ("[" * 81, 2),
        ("\u00e9" * 160, 1),  # é is in the GSM-7 alphabet
        ("\u0107" * 70, 1),  # ć is not: UCS-2
        ("\u0107" * 71, 2),
        ("\U0001f600" * 35, 1),  # an emoji takes two UTF-16 units
        ("\U0001f600" * 36, 2),
    ],
)
def test_sms_segment_count(text, segments):
    assert sms_segments(text) == segments


def test_word_count_ignores_lone_punctuation():
    assert word_count("Thank you - really \u2014 Dana.") == 4


# --------------------------------------------------------------------------- #
# tone (R13)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("smiley", ["\U0001f642", "\U0001f44d", "\u2764\ufe0f", ":)", ";-)", ":D"])
def test_emoji_blocks(findings, with_middle, smiley):
    [finding] = findings(with_middle(f"It was fun {smiley}"), check="emoji")
    assert finding.severity == BLOCK
    assert finding.rule == "R13"


@pytest.mark.parametrize(
    "text",
    [
        "We spoke at 10:30 (PT).",
        "Details: https://example.com/talk",
        "Topics: (1) latency, (2) cost.",
        "It costs \u20ac10 \u2013 a bargain\u2026",
    ],
)
def test_text_without_emoji_passes(findings, with_middle, text):
    assert findings(with_middle(text), check="emoji") == []


def test_two_exclamation_marks_block(findings, with_middle):
    [finding] = findings(with_middle("It was great! Really!"), check="exclamation_marks")
    assert finding.severity == BLOCK
    assert "2 exclamation marks" in finding.detail


def test_one_exclamation_mark_passes(findings, with_middle):
    assert findings(with_middle("It was great!"), check="exclamation_marks") == []


@pytest.mark.parametrize("word", ["gonna", "thx", "u", "btw", "lol", "awesome"])
def test_slang_warns(findings, with_middle, word):
    [finding] = findings(with_middle(f"It was {word} fun."), check="slang")
    assert finding.severity == WARN
    assert f'"{word}"' in finding.detail


def test_words_containing_slang_pass(findings, with_middle):
    body = with_middle("They told you about the U.S. office yesterday; thanks.")
    assert findings(body, check="slang") == []


def test_capital_letters_warn(findings, with_middle):
    [finding] = findings(with_middle("I am SO EXCITED about it."), check="shouting")
    assert finding.severity == WARN
    assert '"SO EXCITED"' in finding.detail


def test_acronyms_and_upper_case_names_pass(findings, with_middle):
    body = with_middle("I have run AWS, SQL and CI/CD at NVIDIA scale.")
    assert findings(body, check="shouting", other_companies=["NVIDIA"]) == []
