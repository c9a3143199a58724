"""Which panel member a recruiter's reply names (api.inbound.matching.named)."""

from __future__ import annotations

from api.inbound.matching import named
from api.models import Contact

BOB, DAN, DANA = Contact(name="Bob Chen"), Contact(name="Dan Okafor"), Contact(name="Dana Jones")


def test_a_capitalised_first_name_names_that_contact():
    assert named([BOB, DAN], "Bob is travelling and asked me to reply.") is BOB


def test_a_possessive_names_the_contact():
    assert named([BOB, DAN], "I'm the recruiter working with Dan's team.") is DAN


def test_a_full_name_wins_over_a_first_name_shared_by_another():
    assert named([DAN, DANA], "Dana Jones asked me to write; Dan is away.") is DANA


def test_two_people_named_by_first_name_name_no_one():
    assert named([BOB, DAN], "Bob and Dan enjoyed meeting you.") is None


def test_a_lower_case_word_is_no_name():
    assert named([Contact(name="Will Smith")], "We will be in touch.") is None
