"""Properties of the engine over arbitrary histories.

A small simulation plays a random stream of proposals, responses and the passing of time
through :func:`evaluate` the way the product does: proposals are checked at creation
(automated ones first moved into the window), accepted ones are stored as scheduled, and
every scheduled touch is checked again at its send time (sent if allowed, else cancelled).
Whatever happens, the touches that went out respect the budget, the gap, the stops and
the windows, and every ``next_allowed_at`` really is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from api.policy import (
    BUDGET_EXEMPT_STEPS,
    ContactInfo,
    PolicySettings,
    ProposedTouch,
    ResponseRecord,
    TouchRecord,
    adjust_to_window,
    evaluate,
    is_call,
    is_manual,
)
from api.timewindow import in_window

START = datetime(2026, 6, 8, 10, tzinfo=UTC)  # the interview ends; Monday
APP = 10
CONTACTS = {
    1: ContactInfo(1, "UTC", None, "+15550001", "a@example.com"),
    2: ContactInfo(2, "America/New_York", "US", "+15550002", "b@example.com"),
    3: ContactInfo(3, "Asia/Kolkata", "IN", "+15550003", "c@example.com"),
}

policies = st.builds(
    PolicySettings,
    touch_budget=st.integers(1, 4),
    min_gap_hours=st.sampled_from([0, 24, 48, 72]),
    follow_up_wait_days=st.integers(1, 8),
    decision_grace_days=st.integers(0, 3),
    stop_on_response=st.booleans(),
)
propose_ops = st.tuples(
    st.just("propose"),
    st.sampled_from([1, 1, 2, 3]),
    st.sampled_from(
        [
            *("thank_you", "thank_you", "follow_up", "follow_up", "call", "custom"),
            *("post_rejection", "next_round_reply"),
        ]
    ),
    # "natural": the step's own channel (call for calls, else email).
    st.sampled_from(["natural", "natural", "natural", "sms", "manual"]),
    st.integers(0, 240),  # hours ahead
    st.sampled_from([1, 1, 1, 2]),  # round
)
respond_ops = st.tuples(
    st.just("respond"),
    st.sampled_from(sorted(CONTACTS)),
    st.sampled_from(
        ["replied", "decision_date", "next_round", "rejected", "offer", "out_of_office"]
    ),
    st.integers(0, 10),  # days: decision date / out-of-office until
    st.integers(1, 2),
)
advance_ops = st.tuples(st.just("advance"), st.integers(1, 96))
# The planner's three shots to one contact in a row, each at its earliest allowed time.
sequence_ops = st.tuples(st.just("sequence"), st.sampled_from(sorted(CONTACTS)), st.integers(1, 2))
OP_KINDS = {
    "propose": propose_ops,
    "advance": advance_ops,
    "respond": respond_ops,
    "sequence": sequence_ops,
}
# Mostly proposals: responses end sequences, so too many of them leave nothing to check.
operations = st.lists(
    st.sampled_from(("propose",) * 5 + ("advance",) * 2 + ("respond", "sequence")).flatmap(
        OP_KINDS.get
    ),
    min_size=8,
    max_size=40,
)


@dataclass
class World:
    policy: PolicySettings
    decision_date: date | None
    now: datetime = START
    touches: list[TouchRecord] = field(default_factory=list)
    responses: list[ResponseRecord] = field(default_factory=list)
    next_id: int = 1
    # Event order: when each touch went out and each response was recorded. A response
    # recorded after a touch went out cannot have stopped it, even at the same instant.
    clock: int = 0
    sent_at_event: dict[int, int] = field(default_factory=dict)
    recorded_at_event: dict[int, int] = field(default_factory=dict)

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def evaluate(self, proposal: ProposedTouch, now: datetime):
        return evaluate(
            self.policy,
            CONTACTS[proposal.contact_id],
            self.touches,
            self.responses,
            proposal,
            now,
            interview_end=START,
            decision_date=self.decision_date,
        )

    def propose(self, contact_id, step, channel, hours, rnd):
        if channel == "natural":
            channel = "call" if step == "call" else "email"
        automated = channel != "manual"
        at = self.now + timedelta(hours=hours) if automated else self.now
        if automated:
            at = adjust_to_window(self.policy, CONTACTS[contact_id], at, step=step, channel=channel)
        proposal = ProposedTouch(contact_id, APP, rnd, step, channel, at, automated)
        decision = self.evaluate(proposal, self.now)
        if not decision.allowed and decision.next_allowed_at is not None:
            # Whatever a refusal promises must hold; the candidate takes the offered time.
            proposal = replace(proposal, at=decision.next_allowed_at)
            retry = self.evaluate(proposal, self.now)
            assert retry.allowed, (decision, retry)
            decision = retry
        if decision.allowed:
            if proposal.at <= self.now:
                self.sent_at_event[self.next_id] = self.tick()
            self.touches.append(
                TouchRecord(
                    self.next_id,
                    contact_id,
                    APP,
                    rnd,
                    step,
                    channel,
                    "scheduled" if proposal.at > self.now else "sent",
                    proposal.at,
                    automated,
                )
            )
            self.next_id += 1

    def sequence(self, contact_id, rnd):
        for step in ("thank_you", "follow_up", "call"):
            self.propose(contact_id, step, "natural", 0, rnd)

    def respond(self, contact_id, kind, days, rnd):
        self.recorded_at_event[len(self.responses) + 1] = self.tick()
        self.responses.append(
            ResponseRecord(
                len(self.responses) + 1,
                contact_id,
                APP,
                rnd,
                kind,
                self.now,
                decision_date=(START + timedelta(days=days)).date()
                if kind == "decision_date"
                else None,
                until=(self.now + timedelta(days=days)).date() if kind == "out_of_office" else None,
            )
        )

    def advance(self, hours):
        until = self.now + timedelta(hours=hours)
        due = sorted(
            (t for t in self.touches if t.status == "scheduled" and t.at <= until),
            key=lambda t: t.at,
        )
        for touch in due:
            proposal = ProposedTouch(
                touch.contact_id,
                APP,
                touch.round,
                touch.step,
                touch.channel,
                touch.at,
                touch.automated,
                touch_id=touch.id,
            )
            allowed = self.evaluate(proposal, touch.at).allowed
            index = self.touches.index(touch)
            self.touches[index] = replace(touch, status="sent" if allowed else "cancelled")
            if allowed:
                self.sent_at_event[touch.id] = self.tick()
        self.now = until

    def run(self, ops):
        for op in ops:
            getattr(self, op[0])(*op[1:])
        self.advance(24 * 400)  # the worker eventually sends or cancels everything
        return [t for t in self.touches if t.status == "sent"]


def _stopped_by(world, touch):
    """The responses recorded before this touch went out that should have stopped it."""
    policy = world.policy
    for r in world.responses:
        if world.recorded_at_event[r.id] > world.sent_at_event[touch.id]:
            continue
        if r.kind == "rejected" and touch.step != "post_rejection":
            yield r
        if is_manual(touch) or not policy.stop_on_response or touch.step in BUDGET_EXEMPT_STEPS:
            continue
        if (
            (r.kind == "replied" and r.contact_id == touch.contact_id and r.round == touch.round)
            or (r.kind == "offer" and r.round <= touch.round)
            or (r.kind == "next_round" and r.round == touch.round)
        ):
            yield r


def _gap_exempt(a, b):
    if "next_round_reply" in (a.step, b.step):
        return True
    return a.round == b.round and {a.step, b.step} == {"thank_you", "follow_up"}


SIMULATION = settings(max_examples=200, deadline=None)


@SIMULATION
@given(policy=policies, decision_day=st.none() | st.integers(0, 12), ops=operations)
def test_sent_touches_never_exceed_the_budget(policy, decision_day, ops):
    world = World(policy, _day(decision_day))
    sent = world.run(ops)
    for contact_id in CONTACTS:
        for rnd in (1, 2):
            used = [
                t
                for t in sent
                if t.contact_id == contact_id
                and t.round == rnd
                and t.step not in BUDGET_EXEMPT_STEPS
            ]
            assert len(used) <= policy.touch_budget


@SIMULATION
@given(policy=policies, decision_day=st.none() | st.integers(0, 12), ops=operations)
def test_sent_touches_to_one_person_keep_the_minimum_gap(policy, decision_day, ops):
    sent = World(policy, _day(decision_day)).run(ops)
    for contact_id in CONTACTS:
        mine = sorted((t for t in sent if t.contact_id == contact_id), key=lambda t: t.at)
        for i, a in enumerate(mine):
            for b in mine[i + 1 :]:
                if not _gap_exempt(a, b):
                    assert b.at - a.at >= policy.min_gap, (a, b)


@SIMULATION
@given(policy=policies, decision_day=st.none() | st.integers(0, 12), ops=operations)
def test_nothing_goes_out_after_a_stop_but_the_single_post_rejection_note(
    policy, decision_day, ops
):
    world = World(policy, _day(decision_day))
    sent = world.run(ops)
    for touch in sent:
        assert not list(_stopped_by(world, touch)), touch
    assert len([t for t in sent if t.step == "post_rejection"]) <= 1


@SIMULATION
@given(policy=policies, decision_day=st.none() | st.integers(0, 12), ops=operations)
def test_automated_touches_only_go_out_inside_the_contacts_window(policy, decision_day, ops):
    sent = World(policy, _day(decision_day)).run(ops)
    for touch in sent:
        if is_manual(touch):
            continue
        contact = CONTACTS[touch.contact_id]
        window = policy.call_window if is_call(touch.step, touch.channel) else policy.send_window
        assert in_window(
            touch.at,
            contact.tz,
            window,
            policy.business_days,
            contact.country,
            policy.observe_holidays,
        )


def _day(offset: int | None) -> date | None:
    return None if offset is None else (START + timedelta(days=offset)).date()
