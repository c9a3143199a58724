"""The notes (R9, R10) that several candidates' responses propose in one batch are
proposed together, from shared reads (api.scheduling.proposing), with exactly the effect
of proposing each alone, one after another."""

from __future__ import annotations

from sqlalchemy import select

import api.scheduling.proposing as proposing
import api.scheduling.responses as responses
from api.inbound.pipeline import receive_many
from api.models import ChannelSetting, User, utcnow
from api.scheduling.channels import usable_channels, usable_channels_many
from tests.inbound.test_batch import end_state, heard_both_ways

NOTES = ("post_rejection", "next_round_reply")


def proposed_both_ways(app, org_id, raws, monkeypatch, state) -> list:
    """``state(session)`` after one batch of ``raws``, its notes proposed one by one, then
    after the same batch with its notes proposed together (each in a savepoint)."""
    now = utcnow()
    states = []
    with app.extensions["touchbase.sessionmaker"]() as session:
        for batched in (False, True):
            monkeypatch.setattr(responses, "BATCHED_PROPOSALS", batched)
            savepoint = session.begin_nested()
            receive_many(session, org_id, raws, source="imap", now=now, config=app.config)
            states.append(state(session))
            savepoint.rollback()
        session.rollback()
    return states


def notes_of(state: dict) -> list[tuple]:
    return [t for t in state["touches"] if t[3] in NOTES]


def test_a_batch_proposes_the_notes_its_messages_heard_one_after_another_propose(
    app, note_office, note_answers
):
    (one_by_one, alone), (batch, together) = heard_both_ways(
        app, note_office.org_id, note_answers, utcnow()
    )

    assert batch == one_by_one
    assert together == alone
    # each invitation answered; the rejections' notes refused by the rules, as alone
    assert [t[3] for t in notes_of(together)] == ["next_round_reply"] * (len(note_answers) // 2)


def test_notes_proposed_together_are_those_proposed_one_by_one(
    app, note_office, note_answers, monkeypatch
):
    states = proposed_both_ways(app, note_office.org_id, note_answers, monkeypatch, end_state)

    assert states[0] == states[1]


def test_one_wave_proposes_the_notes_of_several_candidates(
    app, note_office, note_answers, monkeypatch
):
    waves = []

    def spy(session, asked, *args, **kwargs):
        waves.append(sum(r.kind in proposing.PROPOSED for r, _, _ in asked))
        return proposing.propose_wave(session, asked, *args, **kwargs)

    monkeypatch.setattr(responses, "propose_wave", spy)
    with app.extensions["touchbase.sessionmaker"]() as session:
        receive_many(
            session,
            note_office.org_id,
            note_answers,
            source="imap",
            now=utcnow(),
            config=app.config,
        )
        session.rollback()

    assert max(waves) > 1


def test_channels_read_for_a_wave_are_those_read_for_each_candidate(app, note_office):
    with app.extensions["touchbase.sessionmaker"]() as session:
        ids = session.scalars(
            select(User.id).where(User.org_id == note_office.org_id, User.role == "candidate")
        ).all()
        own = ChannelSetting(
            org_id=note_office.org_id,
            candidate_id=ids[0],
            channel="sms",
            values={"from_number": "x"},
        )
        session.add(own)
        session.flush()
        keys = [(note_office.org_id, i) for i in ids]

        many = usable_channels_many(session, keys, app.config)
        each = {k: usable_channels(session, *k, app.config) for k in keys}
        session.rollback()

    assert many == each
    assert many[keys[0]].why_not != many[keys[1]].why_not  # the candidate's own row counts
