"""Where every pending touch of an application goes, computed from the facts alone.

This is the scheduling core's pure heart. It never looks at where a pending touch sat
before: each step is placed from what happened (sends, replies, out-of-office, manual
touches), what was asked (a time the candidate chose) and the rules, so re-planning after
any change, any number of times and in any order, gives the same calendar.

Steps are placed in chain order per contact and round (thank-you, follow-up, call, then
the rest), each from the step before it: a late send moves the steps after it by the
delay, never the other way round, and an earlier step is never pushed behind a later one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from api import approval, policy
from api.policy import ContactInfo, PolicySettings, ResponseRecord, TouchRecord
from api.timewindow import local_day_bounds, local_label

#: Chain order inside one contact's round; later ranks yield to earlier ones.
STEP_RANK = {
    "thank_you": 0,
    "follow_up": 1,
    "call": 2,
    "next_round_reply": 3,
    "post_rejection": 4,
    "custom": 5,
}
#: Pending states the core places; the worker sends only ``scheduled``.
MOVABLE = ("scheduled", "draft")
#: Rounds of "refused, try the named time" before a placement gives up; each one moves
#: forward past at least one rule, and the policy's own search already chains most.
_ATTEMPTS = 12


@dataclass(frozen=True)
class Pending:
    """A pending automated touch of the application: the facts about it, not its time.

    ``requested_at`` is a time a person chose (``None``: as the rules say). ``due_since``
    is the stored time of a touch that is already due: it stays there while it may go
    now, so a touch the worker has yet to reach does not creep forward with the clock.
    ``not_before`` is a floor nothing else explains: a failed attempt's backoff.
    """

    id: int | None
    contact_id: int
    application_id: int
    round: int
    step: str
    channel: str
    status: str = "scheduled"
    requested_at: datetime | None = None
    due_since: datetime | None = None
    not_before: datetime | None = None
    #: A draft's approval deadline: past it, unapproved, it is skipped (api.approval).
    approve_by: datetime | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the placement of one application's pending touches depends on."""

    now: datetime
    application_id: int
    decision_date: date | None
    contacts: Mapping[int, ContactInfo]
    settings: Mapping[int, PolicySettings]
    #: (contact id, round) -> when that contact's interview of the round ended.
    interview_ends: Mapping[tuple[int, int], datetime]
    #: Touches that are not ours to move: sent, sending, unknown, manual, failed..., and
    #: pending touches of other applications to the same people.
    fixed: Sequence[TouchRecord]
    pending: Sequence[Pending]
    responses: Sequence[ResponseRecord]
    #: When the candidate's other counting automated touches go (the daily cap).
    candidate_sends: Sequence[datetime] = ()
    #: The application's status: a withdrawn or ended one sends nothing more, a rejected
    #: one only the post-rejection note (R9).
    application_status: str = "active"


@dataclass(frozen=True)
class Placement:
    """The core's answer for one pending touch: its time (``None``: it cannot go), the
    rule that decided it and a sentence a candidate can read."""

    pending: Pending
    at: datetime | None
    rule: str | None
    reason: str
    flags: tuple[str, ...] = field(default=())
    #: How a touch that cannot go ends: cancelled by a rule, or skipped (an expired draft).
    ending: str = "cancelled"

    @property
    def cancelled(self) -> bool:
        return self.at is None


def placement_order(p: Pending) -> tuple:
    far = datetime.max.replace(tzinfo=None)
    requested = p.requested_at.replace(tzinfo=None) if p.requested_at else far
    return (p.contact_id, p.round, STEP_RANK[p.step], requested, p.id or 0)


def place(facts: Facts) -> list[Placement]:
    """Place every pending touch of ``facts``, in chain order; see the module docstring."""
    placer = _Placer(facts)
    return [placer.place(p) for p in sorted(facts.pending, key=placement_order)]


class _Placer:
    def __init__(self, facts: Facts) -> None:
        self.f = facts
        self.history: list[TouchRecord] = [h for h in facts.fixed if h.counts]
        self.sends: list[datetime] = list(facts.candidate_sends)

    # -- anchors: where a step would go if no rule but its own applied ---------------------

    def _round_times(self, p: Pending, step: str, channel: str | None = None) -> list[datetime]:
        return sorted(
            h.at
            for h in self.history
            if h.contact_id == p.contact_id
            and h.application_id == p.application_id
            and h.round == p.round
            and h.step == step
            and (channel is None or h.channel == channel)
        )

    def _anchor(self, p: Pending, pol: PolicySettings, tz: str) -> tuple[datetime, str, str]:
        """(time, rule, why) of the step's own timing rule, before windows and spacing."""
        if p.requested_at is not None:
            return p.requested_at, "ASKED", f"asked for {local_label(p.requested_at, tz)}"
        ends = self.f.interview_ends.get((p.contact_id, p.round))
        if p.step == "thank_you" and ends is not None:
            due = ends + timedelta(hours=pol.thank_you_due_hours)
            return due, "R2", f"R2: due {pol.thank_you_due_hours} h after the interview ends"
        if p.step == "follow_up":
            thanks = self._round_times(p, "thank_you")
            if thanks:
                decision = policy.effective_decision_date(
                    self.f.responses, p.application_id, p.round, self.f.decision_date
                )
                return policy.follow_up_earliest(pol, tz, thanks[0], decision)
        if p.step == "call":
            follow_ups = self._round_times(p, "follow_up", "email")
            if follow_ups:
                why = (
                    f"R11: call if the email follow-up stays unanswered, {pol.min_gap_hours} h "
                    "after it (R7), in the call window"
                )
                return follow_ups[0] + pol.min_gap, "R11", why
        return self.f.now, "NOW", "due now"

    # -- the daily cap ----------------------------------------------------------------------

    def _sends_on_day(self, at: datetime, tz: str) -> int:
        start, end = local_day_bounds(max(at, self.f.now), tz)
        return sum(1 for s in self.sends if start <= s < end)

    # -- placement --------------------------------------------------------------------------

    def _closed(self, p: Pending) -> Placement | None:
        """The application's own status, for what its responses do not already say (a
        status set by hand): withdrawn or hired ends everything, an offer stops the
        sequence (R8), a rejection leaves only the post-rejection note (R9)."""
        status = self.f.application_status
        if status in ("withdrawn", "hired"):
            why = f"The application is {status}: nothing more goes out for it."
            return Placement(p, None, "CLOSED", why)
        if status == "offer":
            return Placement(p, None, "R8", "R8: the application has an offer; it stops here.")
        if status == "rejected" and p.step != "post_rejection":
            why = "R9: the application was rejected; only the one post-rejection note may go."
            return Placement(p, None, "R9", why)
        return None

    def place(self, p: Pending) -> Placement:
        if self.f.application_status in ("withdrawn", "hired"):
            return self._closed(p)  # type: ignore[return-value]
        if approval.expired(p, self.f.now):
            reason, rule = approval.expiry(p, self.f.contacts[p.contact_id].tz)
            return Placement(p, None, rule, reason, ending="skipped")
        contact = self.f.contacts[p.contact_id]
        pol = self.f.settings[p.contact_id]
        base, rule, why = self._anchor(p, pol, contact.tz)
        if p.not_before is not None and p.not_before > base:
            base, rule, why = p.not_before, "RETRY", "after a failed attempt, retried"
        now = self.f.now
        at = policy.adjust_to_window(pol, contact, max(base, now), step=p.step, channel=p.channel)
        pushed_by = None if at == max(base, now) else window_rule(p.step, p.channel)
        decision = None
        for _ in range(_ATTEMPTS):
            decision = policy.evaluate(
                pol,
                contact,
                self.history,
                self.f.responses,
                policy.ProposedTouch(
                    p.contact_id,
                    p.application_id,
                    p.round,
                    p.step,
                    p.channel,
                    at,
                    automated=True,
                    touch_id=p.id,
                ),
                now,
                candidate_sends_today=self._sends_on_day(at, contact.tz),
                interview_end=self.f.interview_ends.get((p.contact_id, p.round)),
                decision_date=self.f.decision_date,
            )
            if decision.allowed or decision.next_allowed_at is None:
                break
            pushed_by = pushed_by or decision.rule
            at = decision.next_allowed_at
        assert decision is not None
        if not decision.allowed:
            return Placement(p, None, decision.rule, decision.detail)
        closed = self._closed(p)
        if closed is not None:
            return closed
        if p.due_since is not None and at <= now:
            at = p.due_since  # due, and free to go: it stays where it was
        self.history.append(
            TouchRecord(
                p.id,
                p.contact_id,
                p.application_id,
                p.round,
                p.step,
                p.channel,
                "scheduled",
                max(at, now),
            )
        )
        self.sends.append(max(at, now))
        reason = why[:1].upper() + why[1:] if rule in _NO_RULE else why
        if pushed_by is None:
            reason += f"; at {local_label(max(at, now), contact.tz)}."
        else:
            reason += f"; moved to {local_label(max(at, now), contact.tz)} ({pushed_by})."
        # A window only rounds a time up; the rule that set the day is the one to name.
        decisive = pushed_by if pushed_by not in (None, "R15", "R11") else None
        return Placement(p, at, decisive or _rule_code(rule) or pushed_by, reason, decision.flags)


_NO_RULE = ("ASKED", "NOW", "RETRY")


def _rule_code(rule: str) -> str | None:
    return None if rule in _NO_RULE else rule


def window_rule(step: str, channel: str) -> str:
    """R11 owns the call window, R15 the send window of everything else."""
    return "R11" if policy.is_call(step, channel) else "R15"


def yields_to(record: TouchRecord, proposed: policy.ProposedTouch) -> bool:
    """Whether a pending ``record`` gives way to ``proposed``: a later step of the same
    contact's chain in the same application and round. Checked without them, an earlier
    step is never refused for crowding a later one (that one moves instead)."""
    return (
        record.status in MOVABLE
        and record.automated
        and record.id != proposed.touch_id
        and record.contact_id == proposed.contact_id
        and record.application_id == proposed.application_id
        and record.round == proposed.round
        and STEP_RANK[record.step] > STEP_RANK[proposed.step]
    )
