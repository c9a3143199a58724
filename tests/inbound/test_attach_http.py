"""POST /v1/inbound/{id}/attach: an unmatched message the candidate recognises is recorded
against the contact they name, through the same act path as a matched one."""

from __future__ import annotations

import pytest

from api.models import Application, InboundMail, Response
from tests.api.helpers import assert_problem
from tests.inbound.http import THANKS, attach, fresh, heard, post_mail

STRANGER = "Dana J. <dana.private@elsewhere.example>"
DECISION = "Hi Ana,\n\nThanks again. We will let you know by Friday, June 14, 2030.\n\nDana\n"


@pytest.fixture
def unmatched(mail):
    """A reply from an address nobody knows, posted to the candidate's forwarding route."""
    answer = heard(
        post_mail(mail, fresh(THANKS, STRANGER), query=f"?candidate_id={mail.candidate.id}")
    )
    assert answer["outcome"] == "unmatched"
    return answer["inbound_id"]


def test_attaching_records_the_reply_and_stops_that_contacts_sequence(mail, unmatched):
    answer = attach(mail, unmatched, {"contact_id": mail.dana.id})

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["outcome"], body["classification"]) == ("recorded", "replied")
    assert (body["contact_id"], body["inbound_id"]) == (mail.dana.id, unmatched)
    assert body["response_id"] is not None
    assert mail.pending() == {}  # R8


def test_the_attached_message_shows_what_it_recorded(mail, unmatched, row):
    body = attach(mail, unmatched, {"contact_id": mail.dana.id}).get_json()

    stored = row(InboundMail, unmatched)
    assert (stored["outcome"], stored["response_id"]) == ("recorded", body["response_id"])
    assert stored["application_id"] == mail.application.id


def test_attaching_keeps_the_date_the_message_promised(mail, row):
    raw = fresh(DECISION, STRANGER)
    posted = heard(post_mail(mail, raw, query=f"?candidate_id={mail.candidate.id}"))

    body = attach(mail, posted["inbound_id"], {"contact_id": mail.dana.id}).get_json()

    assert body["classification"] == "decision_date"
    assert str(row(Application, mail.application.id)["decision_expected_on"]) == "2030-06-14"


def test_attaching_twice_is_a_409(mail, unmatched, count):
    attach(mail, unmatched, {"contact_id": mail.dana.id})

    answer = attach(mail, unmatched, {"contact_id": mail.dana.id})

    assert_problem(answer, 409)
    assert count(Response) == 1


def test_an_ignored_message_cannot_be_attached(mail, snapshot):
    raw = fresh("This is an automatic reply.\n", STRANGER, Auto_Submitted="auto-replied")
    posted = heard(post_mail(mail, raw, query=f"?candidate_id={mail.candidate.id}"))
    before = snapshot()

    answer = attach(mail, posted["inbound_id"], {"contact_id": mail.dana.id})

    assert_problem(answer, 409)
    assert snapshot() == before


def test_another_candidates_message_is_a_404(mail, unmatched, world, snapshot):
    before = snapshot()

    answer = attach(
        mail, unmatched, {"contact_id": mail.dana.id}, token=world.tokens["other_candidate"]
    )

    assert assert_problem(answer, 404)["detail"] == "No such inbound mail."
    assert snapshot() == before


def test_another_candidates_contact_is_a_404(mail, unmatched, factory, world, snapshot):
    theirs = factory.contact(world.other_candidate, name="Lee Wong")
    before = snapshot()

    answer = attach(mail, unmatched, {"contact_id": theirs.id}, token=mail.admin)

    assert assert_problem(answer, 404)["detail"] == "No such contact."
    assert snapshot() == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "contact_id"),
        ({"contact_id": "one"}, "contact_id"),
        ({"contact_id": 1, "application_id": 0}, "application_id"),
        ({"contact_id": 1, "kind": "offer"}, "kind"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(mail, unmatched, snapshot, body, field):
    before = snapshot()

    assert_problem(attach(mail, unmatched, body), 422, field)
    assert snapshot() == before


def test_an_application_of_another_candidate_is_a_422_naming_it(
    mail, unmatched, factory, world, snapshot
):
    theirs = factory.application(world.other_candidate)
    before = snapshot()

    answer = attach(mail, unmatched, {"contact_id": mail.dana.id, "application_id": theirs.id})

    assert_problem(answer, 422, "application_id")
    assert snapshot() == before
