"""The worker's batch-loaded send context says exactly what the ledger's own path says.

``api.dispatch.context`` loads, for a whole batch at once, what ``ledger.situation``,
``compose.Parties.load`` / ``compose.check_context`` and
``channel_settings.effective_settings`` load touch by touch. These tests compare the two
on a busy scene; when the ledger learns something new, they fail until the loader does too.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from api import compose, ledger
from api.channel_settings import effective_settings
from api.dispatch import worker as worker_module
from api.dispatch.context import current_stamp, load_contexts
from api.models import (
    Application,
    Contact,
    Interview,
    Interviewer,
    PolicySetting,
    Response,
    Touch,
)
from channels.registry import get_channel
from tests.dispatch.conftest import use_channel


def _busy_scene(db, world, factory, clock, smtp_peer):
    cand = world.candidate
    org = world.org
    dana = factory.contact(cand, name="Dana Jones", email="dana@acme.example")
    raj = factory.contact(
        cand, name="Raj Patel", email="raj@acme.example", timezone="Europe/London"
    )
    asha = factory.contact(cand, name="Asha Rao", email="asha@globex.example", company="Globex")
    acme = factory.application(cand, decision_expected_on=date(2026, 11, 25))
    globex = factory.application(cand, company="Globex", position="Analyst")
    interview = factory.interview(
        acme, [dana, raj], starts_at=clock.now - timedelta(days=2), round=1
    )
    factory.interview(acme, [dana], starts_at=clock.now - timedelta(days=9), round=1)
    db.add_all(
        [
            PolicySetting(org_id=org.id, values={"min_gap_hours": 24}),
            PolicySetting(org_id=org.id, candidate_id=cand.id, values={"daily_cap": 7}),
            PolicySetting(org_id=org.id, contact_id=raj.id, values={"touch_budget": 2}),
            Response(
                org_id=org.id,
                candidate_id=cand.id,
                contact_id=raj.id,
                application_id=acme.id,
                round=1,
                kind="out_of_office",
                occurred_at=clock.now - timedelta(days=1),
                until=(clock.now + timedelta(days=3)).date(),
            ),
        ]
    )
    db.commit()
    use_channel(db, org.id, "email", smtp_peer.settings())
    use_channel(db, org.id, "sms", {"account_sid": "not a sid"})  # invalid on purpose
    body = "Dear Dana,\n\nThank you for your time.\n\nBest,\nAlex\n"
    touches = [
        factory.touch(dana, acme, scheduled_for=clock.now, interview_id=interview.id, body=body),
        factory.touch(
            dana,
            acme,
            step="follow_up",
            scheduled_for=clock.now - timedelta(hours=1),
            body=body,
        ),
        factory.touch(raj, acme, scheduled_for=clock.now, body="Dear Raj, thanks."),
        factory.touch(asha, globex, scheduled_for=clock.now, channel="sms", subject=None),
        factory.touch(
            asha,
            globex,
            status="sent",
            sent_at=clock.now - timedelta(days=1),
            scheduled_for=clock.now - timedelta(days=1),
        ),
    ]
    return touches


def test_the_batch_context_matches_the_ledger_touch_by_touch(
    db, world, factory, clock, smtp_peer, app
):
    touches = _busy_scene(db, world, factory, clock, smtp_peer)
    due = [t for t in touches if t.status == "scheduled"]
    channels = {"email": get_channel("email"), "sms": get_channel("sms")}

    contexts = load_contexts(db, due, app.config, channels)

    assert set(contexts) == {t.id for t in due}
    for touch in due:
        ctx = contexts[touch.id]
        contact, application = ctx.contact, ctx.application
        expected = ledger.situation(db, contact, application, touch.round)
        assert ctx.situation == expected, touch.id
        assert ledger.decide(
            db,
            contact,
            application,
            round_=touch.round,
            step=touch.step,
            channel=touch.channel,
            at=touch.scheduled_for,
            automated=True,
            now=clock.now,
            touch_id=touch.id,
            where=ctx.situation,
        ) == ledger.recheck(db, touch, clock.now)

        parties = compose.Parties.load(db, contact, application, touch.interview_id)
        assert ctx.parties.candidate.id == parties.candidate.id
        assert (ctx.parties.interview and ctx.parties.interview.id) == (
            parties.interview and parties.interview.id
        )
        assert (ctx.parties.notes and ctx.parties.notes.contact_id) == (
            parties.notes and parties.notes.contact_id
        )
        limits = ledger.message_limits(expected.settings)
        assert _sorted(ctx.check_context(touch.step, touch.channel)) == _sorted(
            compose.check_context(db, parties, touch.step, touch.channel, limits)
        )
        assert ctx.check_message(touch) == compose.check_message(
            db, parties, touch.step, touch.channel, touch.subject, touch.body, limits
        )
        try:
            settings = effective_settings(
                db, touch.org_id, touch.candidate_id, touch.channel, app.config
            )
        except Exception as exc:  # the invalid SMS settings
            assert type(ctx.channel_settings) is type(exc)
            assert ctx.channel_settings.messages == exc.messages
        else:
            assert ctx.channel_settings == settings
        assert ctx.stamp == current_stamp(db, touch)
    db.commit()


def test_the_batch_context_combines_the_candidates_own_rules_as_the_ledger_does(
    db, world, factory, clock, smtp_peer, app
):
    touches = _busy_scene(db, world, factory, clock, smtp_peer)
    dana_id = touches[0].contact_id
    own = {"min_gap_hours": 72, "daily_cap": 50}  # stricter gap; a looser cap, stored anyway
    db.add(
        PolicySetting(
            org_id=world.org.id,
            candidate_id=world.candidate.id,
            contact_id=dana_id,
            values={},
            own_values=own,
        )
    )
    db.commit()
    due = [t for t in touches if t.status == "scheduled" and t.contact_id == dana_id]

    contexts = load_contexts(db, due, app.config, {"email": get_channel("email")})

    for touch in due:
        settings = contexts[touch.id].situation.settings
        assert (settings.min_gap_hours, settings.daily_cap) == (72, 7)
        contact, application = contexts[touch.id].contact, contexts[touch.id].application
        assert settings == ledger.situation(db, contact, application, touch.round).settings


def test_the_stamp_notices_a_reply_a_manual_touch_and_a_contact_change(
    db, world, factory, clock, smtp_peer, app
):
    touches = _busy_scene(db, world, factory, clock, smtp_peer)
    touch = touches[0]

    def fresh():
        db.expire_all()
        row = db.get(Touch, touch.id)
        return load_contexts(db, [row], app.config)[touch.id].stamp, row

    stamp, row = fresh()
    assert current_stamp(db, row) == stamp

    db.add(
        Response(
            org_id=world.org.id,
            candidate_id=world.candidate.id,
            contact_id=touch.contact_id,
            application_id=touch.application_id,
            round=1,
            kind="replied",
            occurred_at=clock.now,
        )
    )
    db.commit()
    assert current_stamp(db, row) != stamp

    stamp, row = fresh()
    factory.touch(
        _contact(db, row),
        _application(db, row),
        channel="manual",
        status="sent",
        automated=False,
        sent_at=clock.now,
    )
    assert current_stamp(db, row) != stamp

    stamp, row = fresh()
    contact = _contact(db, row)
    contact.do_not_contact = True
    db.commit()
    assert current_stamp(db, row) != stamp

    stamp, row = fresh()
    interview = db.query(Interview).filter_by(application_id=row.application_id).first()
    interview.ends_at = interview.ends_at + timedelta(minutes=30)
    db.commit()
    assert current_stamp(db, row) != stamp
    db.commit()


def _sorted(check_context):
    """compose.check_context leaves the order of the names to the database."""
    return dataclasses.replace(
        check_context,
        other_contacts=tuple(sorted(check_context.other_contacts)),
        other_companies=tuple(sorted(check_context.other_companies)),
    )


def _contact(db, touch):
    return db.get(Contact, touch.contact_id)


def _application(db, touch):
    return db.get(Application, touch.application_id)


def test_interviewer_notes_reach_the_check_context(db, world, factory, clock, smtp_peer, app):
    touches = _busy_scene(db, world, factory, clock, smtp_peer)
    touch = touches[0]
    ctx = load_contexts(db, [touch], app.config)[touch.id]
    assert isinstance(ctx.parties.notes, Interviewer)
    assert "billing pipeline" in ctx.check_context(touch.step, touch.channel).notes.specific_point
    db.commit()


def test_a_batch_of_a_whole_panel_is_rechecked_without_reloading_touch_by_touch(
    db, world, factory, clock, smtp_peer, make_worker, monkeypatch
):
    """Ten notes to one panel share their application's history: each send changes what
    the next one sees, and the worker folds its own changes in instead of reloading."""
    use_channel(db, world.org.id, "email", smtp_peer.settings())
    application = factory.application(world.candidate)
    names = ["Dana Jones", "Raj Patel", "Asha Rao", "Lena Meyer", "Tomas Novak"]
    names += ["Ingrid Berg", "Kofi Mensah", "Mei Chen", "Olga Ivanova", "Pablo Ruiz"]
    for n, name in enumerate(names):
        contact = factory.contact(world.candidate, name=name, email=f"p{n}@acme.example")
        first = name.split()[0]
        factory.touch(
            contact,
            application,
            scheduled_for=clock.now - timedelta(minutes=1),
            body=f"Dear {first},\n\nThank you for your time today.\n\nBest,\nAlex\n",
        )
    loads = []

    def counting(session, touches, *args, **kwargs):
        loads.append(len(touches))
        return load_contexts(session, touches, *args, **kwargs)

    monkeypatch.setattr(worker_module, "load_contexts", counting)
    stats = make_worker(batch=10).run_once()

    assert stats.outcomes == {"sent": 10}
    assert len(smtp_peer.messages) == 10
    assert loads == [10]  # once for the batch, never touch by touch
