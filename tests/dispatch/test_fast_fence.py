"""The one-statement fence (PostgreSQL) fences only what a full re-check would let go.

When nothing changed since the batch was loaded a touch costs one statement; a reply,
a contact's change or another process's send in between moves the stamp, and the touch
is re-checked in full, with the verdict the ledger gives (R8 stops a replied sequence).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from api import ledger
from api.models import Response, Touch, TouchEvent
from tests.dispatch.conftest import requires_postgres, use_channel


@pytest.fixture
def panel(db, world, factory, clock, smtp_peer):
    """Five due thank-you notes to the five interviewers of one application."""
    use_channel(db, world.org.id, "email", smtp_peer.settings())
    application = factory.application(world.candidate)
    touches = []
    for n, name in enumerate(["Dana Jones", "Raj Patel", "Asha Rao", "Lena Meyer", "Mei Chen"]):
        contact = factory.contact(world.candidate, name=name, email=f"p{n}@acme.example")
        touches.append(
            factory.touch(
                contact,
                application,
                scheduled_for=clock.now - timedelta(minutes=5 - n),
                body=f"Dear {name.split()[0]},\n\nThank you for your time today.\n\nBest,\nAlex\n",
            )
        )
    return touches


def statuses(db, touches) -> list[str]:
    db.expire_all()
    found = [db.get(Touch, t.id).status for t in touches]
    db.commit()
    return found


@requires_postgres
def test_a_batch_where_nothing_changed_is_fenced_by_the_statement(
    db, panel, make_worker, smtp_peer
):
    worker = make_worker(batch=5)

    stats = worker.run_once()

    assert stats.outcomes == {"sent": 5}
    assert worker.fast_fenced == 5
    assert statuses(db, panel) == ["sent"] * 5


@requires_postgres
def test_its_events_are_those_of_the_full_way(db, panel, make_worker):
    make_worker(batch=5).run_once()

    kinds = db.scalars(
        select(TouchEvent.kind).where(TouchEvent.touch_id == panel[0].id).order_by(TouchEvent.id)
    ).all()
    data = db.scalars(
        select(TouchEvent.data).where(TouchEvent.touch_id == panel[0].id, TouchEvent.kind == "sent")
    ).one()
    db.commit()
    assert kinds[-2:] == ["sending", "sent"]
    assert data["attempt"] == 1 and data["provider_id"] == panel[0].message_id


@requires_postgres
def test_a_reply_during_the_batch_stops_the_next_note_as_a_full_recheck_does(
    db, app, world, panel, make_worker, smtp_peer, clock
):
    engine = app.extensions["touchbase.engine"]
    second = panel[1]

    def reply_to_the_second(_mail):  # while the first note is being sent
        smtp_peer.deliver = None
        with engine.begin() as conn:
            conn.execute(
                Response.__table__.insert().values(
                    org_id=world.org.id,
                    candidate_id=world.candidate.id,
                    contact_id=second.contact_id,
                    application_id=second.application_id,
                    round=1,
                    kind="replied",
                    occurred_at=clock.now,
                )
            )

    smtp_peer.deliver = reply_to_the_second
    make_worker(batch=5, fence_batch=1).run_once()

    db.expire_all()
    row = db.get(Touch, second.id)
    verdict = ledger.recheck(db, row, clock.now)
    db.commit()
    assert row.status != "sent"
    assert not verdict.allowed and verdict.rule == row.rule
    recipients = [mail.rcpt_tos[0] for mail in smtp_peer.messages]
    assert "p1@acme.example" not in recipients and len(recipients) == 4


@requires_postgres
def test_a_touch_changed_by_another_process_is_rechecked_in_full(
    db, app, panel, make_worker, smtp_peer
):
    engine = app.extensions["touchbase.engine"]
    last = panel[-1]

    def cancel_the_last(_mail):
        smtp_peer.deliver = None
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE touches SET status = 'cancelled', updated_at = now() WHERE id = :i"),
                {"i": last.id},
            )

    smtp_peer.deliver = cancel_the_last
    worker = make_worker(batch=5)
    stats = worker.run_once()

    assert stats.outcomes == {"sent": 4, "lost": 1}
    assert statuses(db, panel) == ["sent"] * 4 + ["cancelled"]


@requires_postgres
def test_a_fence_batch_fences_k_touches_in_one_statement(db, panel, make_worker, smtp_peer):
    make_worker(batch=5, fence_batch=3).run_once()

    fences = db.scalars(
        select(TouchEvent.at)
        .where(TouchEvent.touch_id.in_([t.id for t in panel]), TouchEvent.kind == "sending")
        .order_by(TouchEvent.at)
    ).all()
    db.commit()
    assert len(fences) == 5
    assert len(set(fences)) == 2  # 3 touches in the first statement, 2 in the second
    assert statuses(db, panel) == ["sent"] * 5
    assert len(smtp_peer.messages) == 5


def test_the_batch_goes_over_one_smtp_connection(db, panel, make_worker, smtp_peer):
    make_worker(batch=5).run_once()

    assert [mail.connection for mail in smtp_peer.messages] == [1] * 5
    assert smtp_peer.rsets == 4
