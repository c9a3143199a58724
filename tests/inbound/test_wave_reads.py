"""What a wave's notes read from shared reads (api.scheduling.wave_reads) is what each
note reads alone (api.compose.Reads), and so are the notes composed from it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.compose import Reads
from api.models import (
    Application,
    Contact,
    Interview,
    Interviewer,
    Template,
    Touch,
    User,
    utcnow,
)
from api.scheduling.facts import FactSource
from api.scheduling.proposing import situations
from api.scheduling.wave_reads import WaveReads
from tests.inbound.test_batch_notes import NOTES, proposed_both_ways

STEPS = ("thank_you", "follow_up", "post_rejection", "next_round_reply")


@pytest.fixture
def own_templates(app, note_office):
    """An org template for one step and a candidate's own for another, on email."""
    with app.extensions["touchbase.sessionmaker"]() as session:
        first = session.scalars(
            select(User.id).where(User.org_id == note_office.org_id, User.role == "candidate")
        ).first()
        session.add_all(
            [
                Template(
                    org_id=note_office.org_id,
                    candidate_id=None,
                    step="post_rejection",
                    channel="email",
                    subject="Thank you, {{ contact.name }}",
                    body="Thank you for your time, {{ contact.name }}. {{ candidate.name }}",
                ),
                Template(
                    org_id=note_office.org_id,
                    candidate_id=first,
                    step="next_round_reply",
                    channel="email",
                    subject="Glad to, {{ contact.name }}",
                    body="I would be glad to meet again, {{ contact.name }}. {{ candidate.name }}",
                ),
            ]
        )
        session.commit()


def pairs(session, org_id: int) -> list[tuple[Contact, Application]]:
    touches = session.scalars(select(Touch).where(Touch.org_id == org_id)).all()
    seen = sorted({(t.contact_id, t.application_id) for t in touches})
    return [(session.get(Contact, c), session.get(Application, a)) for c, a in seen]


def read_both_ways(session, org_id: int, ask):
    asked = pairs(session, org_id)
    source = FactSource(session, sorted({a for _, a in asked}, key=lambda a: a.id), utcnow())
    shared = WaveReads(session, asked, source)
    alone = Reads(session)
    return [(ask(shared, c, a), ask(alone, c, a)) for c, a in asked]


def test_shared_reads_find_each_notes_parties(app, note_office):
    def ask(reads, contact, application):
        p = reads.parties(contact, application)
        notes = p.notes and (p.notes.interview_id, p.notes.contact_id, p.notes.specific_point)
        return p.candidate.id, p.interview and p.interview.id, notes

    with app.extensions["touchbase.sessionmaker"]() as session:
        for interview in session.scalars(select(Interview)).all():
            # a later meeting, then an earlier one stored after it: the latest one counts
            for days, point in ((3, "the later chat"), (-3, "the earlier chat")):
                again = Interview(
                    org_id=interview.org_id,
                    candidate_id=interview.candidate_id,
                    application_id=interview.application_id,
                    round=interview.round,
                    starts_at=interview.starts_at + timedelta(days=days),
                    ends_at=interview.ends_at + timedelta(days=days),
                )
                again.interviewers = [
                    Interviewer(contact_id=i.contact_id, position=i.position, specific_point=point)
                    for i in interview.interviewers
                ]
                session.add(again)
        session.flush()
        found = read_both_ways(session, note_office.org_id, ask)
        session.rollback()

    assert all(shared == alone for shared, alone in found)
    assert {shared[2][2] for shared, _ in found if shared[2]} == {"the later chat"}


def test_shared_reads_find_the_thank_you_a_note_threads_onto(app, note_office):
    def ask(reads, contact, _):
        return [reads.previous_subject(contact.id, r) for r in (1, 2)]

    with app.extensions["touchbase.sessionmaker"]() as session:
        found = read_both_ways(session, note_office.org_id, ask)

    assert all(shared == alone for shared, alone in found)
    assert any(shared[0][1] for shared, _ in found)


def test_shared_reads_find_each_steps_template(app, note_office, own_templates):
    def ask(reads, contact, _):
        return [
            reads.template(contact.org_id, contact.candidate_id, step, channel)
            for step in STEPS
            for channel in ("email", "sms")
        ]

    with app.extensions["touchbase.sessionmaker"]() as session:
        found = read_both_ways(session, note_office.org_id, ask)

    assert all(shared == alone for shared, alone in found)
    sources = {t.source for shared, _ in found for t in shared}
    assert sources == {"candidate", "org", "default"}


def test_shared_reads_find_the_names_the_message_check_compares(app, note_office):
    with app.extensions["touchbase.sessionmaker"]() as session:
        found = read_both_ways(session, note_office.org_id, lambda r, c, _: r.acquaintances(c))

    assert all(shared == alone for shared, alone in found)
    assert all(shared[0] and shared[1] for shared, _ in found)


def test_situations_from_the_batchs_source_are_those_read(app, note_office):
    with app.extensions["touchbase.sessionmaker"]() as session:
        asked = [(c, a, r) for c, a in pairs(session, note_office.org_id) for r in (1, 2)]
        source = FactSource(session, sorted({a for _, a, _ in asked}, key=lambda a: a.id), utcnow())

        assert all(source.holds(c, a) for c, a, _ in asked)
        assert situations(session, asked, source) == situations(session, asked)


def composed_notes(session) -> list[tuple]:
    """The notes' texts and what they point at (the thread as the contact it was to)."""
    session.flush()
    contact_of = dict(session.execute(select(Touch.id, Touch.contact_id)).all())
    rows = session.execute(
        select(
            Touch.contact_id,
            Touch.step,
            Touch.subject,
            Touch.body,
            Touch.interview_id,
            Touch.warnings,
            Touch.thread_of_id,
        ).where(Touch.step.in_(NOTES))
    )
    return sorted((*row[:-1], contact_of.get(row[-1])) for row in rows)


def test_notes_composed_together_read_as_those_composed_one_by_one(
    app,
    note_office,
    note_answers,
    own_templates,
    monkeypatch,
):
    states = proposed_both_ways(app, note_office.org_id, note_answers, monkeypatch, composed_notes)

    assert states[0] == states[1]
    assert states[1]
    assert any("glad to meet again" in note[3] for note in states[1])  # the candidate's own
