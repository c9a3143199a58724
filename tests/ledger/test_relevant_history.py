"""The policy reads only the history that can decide a touch (api.ledger.relevant), and
decides exactly as it does over the whole history.

The property: over random ledgers (two people, two applications, two rounds, every step
and status, sent and pending touches near and far from the time judged, every kind of
response) and random touches to check (new or stored, automated or manual, any time),
``ledger.decide`` with the situation loaded for the time judged gives the very verdict it
gives with the whole history (``ledger.situation`` without ``since``), and the budget
summary is the same from both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from api import ledger, policy
from api.ledger.relevant import relevant_history
from api.models import Response, Touch
from tests.live_server import PG_URL

needs_postgres = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="reads PostgreSQL's plans: set TOUCHBASE_TEST_DATABASE_URL to a postgresql:// URL",
)

BASE = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # a Monday, inside the send window (UTC)

hours = st.integers(-150, 150)
touches = st.lists(
    st.fixed_dictionaries(
        {
            "who": st.sampled_from([0, 0, 1]),  # 0: the contact judged
            "app": st.sampled_from([0, 0, 1]),  # 0: the application judged
            "round": st.sampled_from([1, 1, 2]),
            "step": st.sampled_from(policy.STEPS),
            "status": st.sampled_from(policy.STATUSES),
            "automated": st.booleans(),
            "scheduled": st.none() | hours,
            "sent": st.none() | hours,
            "created": hours,
        }
    ),
    max_size=14,
)
responses = st.lists(
    st.fixed_dictionaries(
        {
            "who": st.sampled_from([0, 1]),
            "app": st.sampled_from([0, 0, 1]),
            "round": st.sampled_from([1, 2]),
            "kind": st.sampled_from(policy.RESPONSE_KINDS),
            "occurred": hours,
            "days": st.integers(-10, 20),  # the decision date or the last day away
        }
    ),
    max_size=4,
)
checks = st.fixed_dictionaries(
    {
        "stored": st.none() | st.integers(0, 13),  # re-check a stored touch of the round
        "round": st.sampled_from([1, 2]),
        "step": st.sampled_from(policy.STEPS),
        "channel": st.sampled_from(["email", "sms", "call", "manual"]),
        "at": hours,
        "now": st.integers(-100, 100),
    }
)
policies = st.fixed_dictionaries(
    {
        "min_gap_hours": st.sampled_from([0, 24, 48, 200]),
        "touch_budget": st.integers(1, 4),
        "daily_cap": st.integers(1, 3),
    }
)


def _at(offset: int | None) -> datetime | None:
    return None if offset is None else BASE + timedelta(hours=offset)


def _store(db, factory, world, ledger_rows, heard, values):
    candidate, _ = factory.user(world.org, "candidate")
    people = [factory.contact(candidate), factory.contact(candidate, timezone="Asia/Kolkata")]
    apps = [factory.application(candidate), factory.application(candidate, company="Globex")]
    factory.policy(world.org, candidate, **values)
    for row in ledger_rows:
        db.add(
            Touch(
                org_id=candidate.org_id,
                candidate_id=candidate.id,
                contact_id=people[row["who"]].id,
                application_id=apps[row["app"]].id,
                round=row["round"],
                step=row["step"],
                channel="email" if row["automated"] else "manual",
                status=row["status"],
                automated=row["automated"],
                scheduled_for=_at(row["scheduled"]),
                sent_at=_at(row["sent"]),
                created_at=_at(row["created"]),
            )
        )
    for row in heard:
        day = (BASE + timedelta(days=row["days"])).date()
        db.add(
            Response(
                org_id=candidate.org_id,
                candidate_id=candidate.id,
                contact_id=people[row["who"]].id,
                application_id=apps[row["app"]].id,
                round=row["round"],
                kind=row["kind"],
                occurred_at=_at(row["occurred"]),
                decision_date=day if row["kind"] == "decision_date" else None,
                until=day if row["kind"] == "out_of_office" else None,
            )
        )
    db.commit()
    return people[0], apps[0]


def _asked(db, contact, application, check):
    """The touch to check: a new one, or a stored one of the contact in the application
    (re-checked at send time, so not counted against itself)."""
    stored = db.scalars(
        Touch.__table__.select()
        .with_only_columns(Touch.id)
        .where(Touch.contact_id == contact.id, Touch.application_id == application.id)
        .order_by(Touch.id)
    ).all()
    asked = {
        "round_": check["round"],
        "step": check["step"],
        "channel": check["channel"],
        "at": _at(check["at"]),
        "automated": check["channel"] != "manual",
        "now": BASE + timedelta(hours=check["now"]),
        "touch_id": None,
    }
    if check["stored"] is not None and stored:
        touch = db.get(Touch, stored[check["stored"] % len(stored)])
        asked.update(
            round_=touch.round,
            step=touch.step,
            channel=touch.channel,
            at=touch.scheduled_for or asked["at"],
            automated=touch.automated,
            touch_id=touch.id,
        )
    return asked


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledger_rows=touches, heard=responses, check=checks, values=policies)
def test_the_decision_from_the_relevant_history_is_the_decision_from_the_whole_history(
    db, factory, world, ledger_rows, heard, check, values
):
    contact, application = _store(db, factory, world, ledger_rows, heard, values)
    asked = _asked(db, contact, application, check)
    whole = ledger.situation(db, contact, application, asked["round_"])

    expected = ledger.decide(db, contact, application, where=whole, **asked)

    assert ledger.decide(db, contact, application, **asked) == expected
    db.rollback()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledger_rows=touches, heard=responses, values=policies, round_=st.sampled_from([1, 2]))
def test_the_budget_summary_from_the_relevant_history_is_the_one_from_the_whole_history(
    db, factory, world, ledger_rows, heard, values, round_
):
    contact, application = _store(db, factory, world, ledger_rows, heard, values)
    now = BASE

    def summary(where):
        return where.budget(round_, now, application.id)

    whole = ledger.situation(db, contact, application, round_)
    relevant = ledger.situation(db, contact, application, round_, since=now)
    assert summary(relevant) == summary(whole)


def test_a_long_past_leaves_the_relevant_history_short(db, factory, world):
    """A year of sent touches to the contact in the application, one a week, and the
    round's own: the relevant history is the round's touches and the last gap's."""
    candidate = world.candidate
    contact, application = factory.contact(candidate), factory.application(candidate)
    for week in range(52):
        sent = BASE - timedelta(weeks=52 - week)
        db.add(
            Touch(
                org_id=candidate.org_id,
                candidate_id=candidate.id,
                contact_id=contact.id,
                application_id=application.id,
                round=100 + week,
                step="custom",
                channel="email",
                status="sent",
                scheduled_for=sent,
                sent_at=sent,
            )
        )
    db.commit()
    settings = policy.PolicySettings(min_gap_hours=24 * 8)

    found = relevant_history(db, contact.id, application.id, 1, BASE, settings)

    assert [r.round for r in found] == [151]  # the last week's, within the 8-day gap
    assert len(ledger.history(db, [contact.id], [application.id])) == 52


def test_a_situation_loaded_for_later_is_reloaded_for_an_earlier_time(db, factory, world):
    """A manual touch logged in the past is judged at its own time: a situation loaded
    for now does not cover it, and ``decide`` reads the history from that time on."""
    candidate = world.candidate
    contact, application = factory.contact(candidate), factory.application(candidate)
    earlier = BASE - timedelta(days=10)
    factory.touch(  # another round: R7 spaces touches to a person across rounds
        contact,
        application,
        round=2,
        step="custom",
        status="sent",
        scheduled_for=earlier,
        sent_at=earlier,
    )
    where = ledger.situation(db, contact, application, 1, since=BASE)
    assert where.history == []

    decision = ledger.decide(
        db,
        contact,
        application,
        round_=1,
        step="custom",
        channel="manual",
        at=earlier + timedelta(hours=1),
        automated=False,
        now=BASE,
        where=where,
    )

    assert decision.rule == "R7"


def test_a_post_rejection_note_rechecked_still_sees_the_applications_other_one(db, factory, world):
    """R9's one note per application: re-checking the contact's own note (left out as
    itself) must still find the note someone else of the panel already has."""
    candidate = world.candidate
    contact, other = factory.contact(candidate), factory.contact(candidate)
    application = factory.application(candidate)
    factory.response(contact, application, "rejected", occurred_at=BASE - timedelta(days=1))
    mine = factory.touch(contact, application, step="post_rejection", scheduled_for=BASE)
    factory.touch(other, application, step="post_rejection", status="sent", sent_at=BASE)
    asked = {
        "round_": 1,
        "step": "post_rejection",
        "channel": "email",
        "at": BASE + timedelta(days=3),
        "automated": True,
        "now": BASE,
        "touch_id": mine.id,
    }
    whole = ledger.situation(db, contact, application, 1)

    decision = ledger.decide(db, contact, application, **asked)

    assert decision.rule == "R9"
    assert decision == ledger.decide(db, contact, application, where=whole, **asked)


def _spread(db, contact, application, n: int = 5000) -> None:
    """``n`` sent touches of the contact, one every two hours back from BASE, analysed:
    enough rows for the planner to choose by the indexes' worth."""
    db.execute(
        text(
            "INSERT INTO touches (org_id, candidate_id, contact_id, application_id, round,"
            " step, channel, status, automated, planned, sequence, attempts, flags, warnings,"
            " scheduled_for, sent_at, created_at, updated_at)"
            " SELECT :org, :cand, :contact, :app, 1, 'custom', 'email', 'sent', true, false,"
            " 0, 0, '[]', '[]', t, t, t, t FROM (SELECT :base - make_interval(hours => 2 * i)"
            " AS t FROM generate_series(1, :n) AS i) AS s"
        ),
        {
            "org": contact.org_id,
            "cand": contact.candidate_id,
            "contact": contact.id,
            "app": application.id,
            "base": BASE,
            "n": n,
        },
    )
    db.commit()
    db.execute(text("ANALYZE touches"))


def _plan(db, statement, params) -> str:
    state = statement.compile(db.get_bind()).construct_expanded_state(params)
    rows = db.connection().exec_driver_sql(f"EXPLAIN {state.statement}", state.parameters)
    return "\n".join(r[0] for r in rows)


@needs_postgres
def test_the_daily_cap_count_reads_its_day_from_the_index(db, factory, world):
    contact, application = factory.contact(world.candidate), factory.application(world.candidate)
    _spread(db, contact, application)
    params = ledger.daily_cap_params(
        contact, channel="email", at=BASE, automated=True, now=BASE, touch_id=None
    )

    plan = _plan(db, ledger.SENDS_ON_LOCAL_DAY, params)

    assert "ix_touches_cap_day" in plan, plan
