"""The corpus's recruiter replies through the whole pipeline (POST /v1/inbound/email):
they answer no Message-ID Touchbase stored and come from no contact, so they are matched
by the company domain and recorded against the panel member they name
(`recorded_against` in corpus/expected.toml)."""

from __future__ import annotations

import tomllib

import pytest

from api.models import Contact
from tests.inbound.cases import CORPUS
from tests.inbound.http import heard, post_mail

EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))
RECRUITER_CASES = sorted(name for name, e in EXPECTED.items() if "recorded_against" in e)


@pytest.fixture
def example_com(panel, db):
    """The panel of the corpus: Bob Chen and Dan Okafor at example.com."""
    for person, name in ((panel.dana, "Bob Chen"), (panel.raj, "Dan Okafor")):
        person.name, person.email = name, name.lower().replace(" ", ".") + "@example.com"
    db.commit()
    return panel


def test_the_corpus_has_recruiter_cases():
    assert len(RECRUITER_CASES) >= 2


@pytest.mark.parametrize("name", RECRUITER_CASES, ids=lambda n: n.removesuffix(".eml"))
def test_a_recruiter_reply_is_recorded_against_the_panel_member_it_names(example_com, row, name):
    expected = EXPECTED[name]

    answer = heard(post_mail(example_com, (CORPUS / name).read_bytes()))

    assert (answer["outcome"], answer["classification"]) == ("recorded", expected["kind"])
    assert row(Contact, answer["contact_id"])["name"] == expected["recorded_against"]
