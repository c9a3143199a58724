"""A reply that answers no stored Message-ID and comes from no contact: a recruiter of the
panel's company answering for it is matched by domain; a public mail domain never is; and
a message posted for one candidate is matched among that candidate's contacts only."""

from __future__ import annotations

from api.models import Application, Response
from tests.api.helpers import assert_problem
from tests.inbound.conftest import build
from tests.inbound.http import THANKS, fresh, heard, inbound, post_mail

RECRUITER = "Jordan Lee <jordan.lee@acme.example>"
REJECTION = (
    "Hi Ana,\n\nThank you for your time with the team. Unfortunately we have decided to move "
    "forward with other candidates.\n\nBest,\nJordan\n"
)


def scheduled(scene) -> list[dict]:
    return [t for t in scene.touches() if t["status"] == "scheduled"]


def test_a_recruiter_of_the_panels_company_is_recorded_against_the_contact_it_names(panel):
    body = "Hi Ana,\n\nRaj asked me to let you know he enjoyed the conversation.\n\nJordan\n"

    answer = heard(post_mail(panel, fresh(body, RECRUITER)))

    assert (answer["outcome"], answer["contact_id"]) == ("recorded", panel.raj.id)
    assert "acme.example" in answer["reason"] and "Raj Patel, whom it names" in answer["reason"]


def test_a_recruiter_naming_no_one_is_recorded_against_the_most_recent_touch(mail):
    answer = heard(post_mail(mail, fresh(THANKS, RECRUITER)))

    assert (answer["outcome"], answer["contact_id"]) == ("recorded", mail.dana.id)
    assert "names no one on the panel" in answer["reason"]
    assert "Dana Jones" in answer["reason"]


def test_a_recruiters_rejection_closes_the_whole_panel_with_one_note(panel, row):
    answer = heard(post_mail(panel, fresh(REJECTION, RECRUITER)))

    assert (answer["outcome"], answer["classification"]) == ("recorded", "rejected")
    assert row(Application, panel.application.id)["status"] == "rejected"
    left = scheduled(panel)  # R9: nothing to anyone on the panel but the one note
    assert [t["step"] for t in left] == ["post_rejection"]


def test_a_public_mail_domain_never_matches_by_domain(mail, db, count):
    mail.dana.email = "dana.jones@gmail.com"
    db.commit()

    answer = heard(post_mail(mail, fresh(THANKS, "someone.else@gmail.com")))

    assert answer["outcome"] == "unmatched"
    assert count(Response) == 0


def test_the_candidates_own_address_at_the_panels_domain_is_no_recruiter(mail, db, count):
    mail.candidate.email = "ana@acme.example"
    db.commit()

    answer = heard(post_mail(mail, fresh(THANKS, "Ana <ana@acme.example>")))

    assert answer["outcome"] == "unmatched"
    assert count(Response) == 0


def test_a_message_for_one_candidate_never_matches_anothers_contact(mail, world):
    query = f"?candidate_id={world.other_candidate.id}"
    raw = fresh(THANKS, f"Dana Jones <{mail.dana.email}>")

    answer = heard(post_mail(mail, raw, query=query))

    assert answer["outcome"] == "unmatched"
    assert pending_thank_you_follow_up(mail)


def pending_thank_you_follow_up(scene) -> bool:
    return {"thank_you", "follow_up"} <= set(scene.pending())


def test_a_message_for_one_candidate_never_matches_anothers_thread(mail, world):
    raw = build(
        THANKS, From="Dana <dana@elsewhere.example>", In_Reply_To=mail.thank_you["message_id"]
    )

    answer = heard(post_mail(mail, raw, query=f"?candidate_id={world.other_candidate.id}"))

    assert answer["outcome"] == "unmatched"


def test_a_candidate_may_post_their_own_mail(mail):
    raw = fresh(THANKS, f"Dana Jones <{mail.dana.email}>")

    answer = heard(post_mail(mail, raw, token=mail.token))

    assert (answer["outcome"], answer["contact_id"]) == ("recorded", mail.dana.id)


def test_a_candidate_may_not_post_for_another_candidate(mail, world, snapshot):
    before = snapshot()
    query = f"?candidate_id={world.other_candidate.id}"

    answer = post_mail(mail, fresh(THANKS, "x@elsewhere.example"), token=mail.token, query=query)

    assert_problem(answer, 422, "candidate_id")
    assert snapshot() == before


def test_an_admin_naming_no_candidate_of_the_org_is_a_422(mail, world, snapshot):
    before = snapshot()

    answer = post_mail(
        mail, fresh(THANKS, "x@elsewhere.example"), query=f"?candidate_id={world.stranger.id}"
    )

    assert_problem(answer, 422, "candidate_id")
    assert snapshot() == before


def test_unmatched_mail_for_a_candidate_is_theirs_and_their_advisors_to_see(mail, world):
    heard(
        post_mail(
            mail, fresh(THANKS, "x@elsewhere.example"), query=f"?candidate_id={mail.candidate.id}"
        )
    )

    seen = {
        who: [m["sender"] for m in inbound(mail, world.tokens[who])]
        for who in ("candidate", "advisor", "other_candidate")
    }

    assert seen == {
        "candidate": ["x@elsewhere.example"],
        "advisor": ["x@elsewhere.example"],
        "other_candidate": [],
    }
