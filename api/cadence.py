"""The cadence planner: one thank-you -> follow-up -> call plan per interviewer (R1).

Pure: it proposes times, it stores nothing. Every planned step has passed
:func:`api.policy.evaluate` against the existing touches plus the plan built so far, so
the caller can create the touches as they are. Re-planning is idempotent: a step that
already exists for the contact and round (in any status but cancelled) is reported as
``exists`` and never planned twice; a failed or skipped step is left for the candidate
to decide on rather than silently retried.

The daily cap is not applied here (it depends on the candidate's other applications); the
send-time check enforces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from api.policy import (
    ContactInfo,
    Decision,
    InterviewInfo,
    PolicySettings,
    ProposedTouch,
    ResponseRecord,
    TouchRecord,
    adjust_to_window,
    effective_decision_date,
    evaluate,
    follow_up_earliest,
    stop_state,
)
from api.scheduling.channels import Usable, blocked, pick
from api.timebounds import bounded, clamp_day
from api.timewindow import zone

__all__ = [
    "PLAN_STEPS",
    "PlannedStep",
    "follow_up_channel",
    "plan_interview",
    "thank_you_channel",
]

PLAN_STEPS = ("thank_you", "follow_up", "call")
_STEP_RULE = {"thank_you": "R2", "follow_up": "R5", "call": "R11"}
_PLACE_ATTEMPTS = 4


@dataclass(frozen=True)
class PlannedStep:
    """One row of an interviewer's plan.

    ``status`` is ``planned`` (create it at ``scheduled_for``), ``exists`` (already there,
    ``scheduled_for`` is its time) or ``skipped`` (``scheduled_for`` is None and
    ``reason``/``rule`` say why).
    """

    contact_id: int
    step: str
    channel: str | None
    scheduled_for: datetime | None
    reason: str
    rule: str
    status: str = "planned"
    #: Why the channel cannot send yet (not configured): the step becomes a draft saying so.
    unsendable: str | None = None

    @property
    def planned(self) -> bool:
        return self.status == "planned"


def thank_you_channel(contact: ContactInfo) -> str | None:
    """R14: thank-you notes prefer email; SMS only when there is no email address."""
    if contact.email and not contact.email_undeliverable:
        return "email"
    if contact.phone and not contact.sms_opted_out:
        return "sms"
    return None


def follow_up_channel(contact: ContactInfo) -> str | None:
    """R14: the contact's preferred written channel when usable, else email."""
    preferred = contact.preferred_channel
    if preferred == "email" and contact.email and not contact.email_undeliverable:
        return "email"
    if preferred == "sms" and contact.phone and not contact.sms_opted_out:
        return "sms"
    return thank_you_channel(contact)


def _fmt(at: datetime, tz: str) -> str:
    local = at.astimezone(zone(tz))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"


def _placed(at: datetime, wanted: datetime, tz: str, mover: str) -> str:
    if at == wanted:
        return f"; at {_fmt(at, tz)}"
    return f"; moved to {_fmt(at, tz)} ({mover})"


def plan_interview(
    policy: PolicySettings | Mapping[int, PolicySettings],
    interview: InterviewInfo,
    panel: Sequence[ContactInfo],
    existing: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    now: datetime,
    decision_date: date | None = None,
    usable: Usable | None = None,
) -> list[PlannedStep]:
    """Plan thank-you, follow-up and call for each interviewer, in panel order.

    ``policy`` may be one settings object or a mapping contact id -> merged settings (the
    contact layer of the overrides). ``existing`` should hold the application's touches
    (and any other touches to these contacts, for R7). ``decision_date`` defaults to the
    interview's ``decision_expected_on``; a decision_date response of the round wins.
    ``usable``: the candidate's channels that can send (api.scheduling.channels); without
    it every built-in channel is assumed configured.
    """
    now = bounded(now, "now")
    planner = _Planner(interview, list(existing), responses, now, clamp_day(decision_date))
    planner.usable = usable
    planner.unsendable = {}
    out: list[PlannedStep] = []
    for contact in panel:
        pol = policy if isinstance(policy, PolicySettings) else policy[contact.id]
        out.extend(planner.plan_contact(pol, contact))
    return [
        replace(s, unsendable=planner.unsendable.get((s.contact_id, s.step))) if s.planned else s
        for s in out
    ]


class _Planner:
    def __init__(
        self,
        interview: InterviewInfo,
        history: list[TouchRecord],
        responses: Sequence[ResponseRecord],
        now: datetime,
        decision_date: date | None,
    ) -> None:
        self.interview = interview
        self.history = history  # grows with each planned step
        self.responses = responses
        self.now = now
        self.decision_date = decision_date or interview.decision_expected_on

    @property
    def app(self) -> int:
        return self.interview.application_id

    @property
    def round(self) -> int:
        return self.interview.round

    usable: Usable | None = None
    unsendable: dict[tuple[int, str], str]

    def _channel(self, step: str, contact: ContactInfo) -> tuple[str | None, str]:
        if self.usable is not None:
            channel, why = pick(step, contact, self.usable)
            if channel is None and (wanted := blocked(step, contact, self.usable)):
                self.unsendable[(contact.id, step)] = why
                return wanted, why
            return channel, why
        channel = thank_you_channel(contact) if step == "thank_you" else follow_up_channel(contact)
        return channel, "No email or usable phone number."

    def _existing(self, contact: ContactInfo, step: str) -> TouchRecord | None:
        found = sorted(
            (
                h
                for h in self.history
                if h.contact_id == contact.id
                and h.application_id == self.app
                and h.round == self.round
                and h.step == step
                and h.status != "cancelled"
            ),
            key=lambda h: h.at,
        )
        return found[0] if found else None

    def _place(
        self, pol: PolicySettings, contact: ContactInfo, step: str, channel: str, base: datetime
    ) -> tuple[datetime | None, Decision, str | None]:
        """First allowed time at or after ``base``: (time, decision, rule that pushed it)."""
        at = adjust_to_window(pol, contact, max(base, self.now), step=step, channel=channel)
        pushed_by = None
        for _ in range(_PLACE_ATTEMPTS):
            proposal = ProposedTouch(contact.id, self.app, self.round, step, channel, at)
            decision = evaluate(
                pol,
                contact,
                self.history,
                self.responses,
                proposal,
                self.now,
                interview_end=self.interview.ends_at,
                decision_date=self.decision_date,
            )
            if decision.allowed:
                return at, decision, pushed_by
            if decision.next_allowed_at is None:
                return None, decision, pushed_by
            pushed_by = pushed_by or decision.rule
            at = decision.next_allowed_at
        return None, decision, pushed_by

    def _record(self, contact: ContactInfo, step: str, channel: str, at: datetime) -> None:
        self.history.append(
            TouchRecord(None, contact.id, self.app, self.round, step, channel, "scheduled", at)
        )

    def _exists(self, contact: ContactInfo, touch: TouchRecord) -> PlannedStep:
        return PlannedStep(
            contact.id,
            touch.step,
            touch.channel,
            touch.at,
            f"Already exists ({touch.status}); not planned again.",
            _STEP_RULE[touch.step],
            "exists",
        )

    @staticmethod
    def _skip(contact: ContactInfo, step: str, reason: str, rule: str) -> PlannedStep:
        return PlannedStep(contact.id, step, None, None, reason, rule, "skipped")

    def plan_contact(self, pol: PolicySettings, contact: ContactInfo) -> list[PlannedStep]:
        existing = {step: self._existing(contact, step) for step in PLAN_STEPS}
        stop = stop_state(pol, contact, self.responses, self.app, self.round, self.now)
        if stop is not None:
            rule, why = stop
            return [
                self._exists(contact, touch) if touch else self._skip(contact, step, why, rule)
                for step, touch in existing.items()
            ]
        thank_you = self._thank_you(pol, contact, existing["thank_you"])
        follow_up = self._follow_up(pol, contact, existing["follow_up"], thank_you)
        call = self._call(pol, contact, existing["call"], follow_up)
        return [thank_you, follow_up, call]

    def _thank_you(
        self, pol: PolicySettings, contact: ContactInfo, touch: TouchRecord | None
    ) -> PlannedStep:
        if touch is not None:
            return self._exists(contact, touch)
        channel, why = self._channel("thank_you", contact)
        if channel is None:
            return self._skip(contact, "thank_you", why, "ADDRESS")
        ends = self.interview.ends_at
        due = ends + timedelta(hours=pol.thank_you_due_hours)
        at, decision, pushed_by = self._place(pol, contact, "thank_you", channel, due)
        if at is None:
            return self._skip(contact, "thank_you", decision.detail, decision.rule or "R2")
        self._record(contact, "thank_you", channel, at)
        reason = f"R2: due {pol.thank_you_due_hours} h after the interview ends"
        reason += _placed(at, max(due, self.now), contact.tz, pushed_by or "R15")
        if "R2_LATE" in decision.flags:
            reason += f"; more than {pol.thank_you_late_hours} h late, sent anyway"
        elif at > ends + timedelta(hours=pol.thank_you_deadline_hours):
            reason += f"; past the {pol.thank_you_deadline_hours} h target"
        return PlannedStep(contact.id, "thank_you", channel, at, reason + ".", "R2")

    def _follow_up(
        self,
        pol: PolicySettings,
        contact: ContactInfo,
        touch: TouchRecord | None,
        thank_you: PlannedStep,
    ) -> PlannedStep:
        if touch is not None:
            return self._exists(contact, touch)
        if thank_you.scheduled_for is None:
            return self._skip(contact, "follow_up", "R5: there is no thank-you to follow.", "R5")
        channel, why = self._channel("follow_up", contact)
        if channel is None:
            return self._skip(contact, "follow_up", why, "ADDRESS")
        decision_date = effective_decision_date(
            self.responses, self.app, self.round, self.decision_date
        )
        earliest, rule, why = follow_up_earliest(
            pol, contact.tz, thank_you.scheduled_for, decision_date
        )
        at, decision, pushed_by = self._place(pol, contact, "follow_up", channel, earliest)
        if at is None:
            return self._skip(contact, "follow_up", decision.detail, decision.rule or rule)
        self._record(contact, "follow_up", channel, at)
        reason = why
        reason += _placed(at, max(earliest, self.now), contact.tz, pushed_by or "R15")
        return PlannedStep(contact.id, "follow_up", channel, at, reason + ".", rule)

    def _call(
        self,
        pol: PolicySettings,
        contact: ContactInfo,
        touch: TouchRecord | None,
        follow_up: PlannedStep,
    ) -> PlannedStep:
        if touch is not None:
            return self._exists(contact, touch)
        if not contact.phone:
            return self._skip(contact, "call", "R11: no phone number, so no call step.", "R11")
        if follow_up.scheduled_for is None:
            return self._skip(contact, "call", "R11: there is no follow-up to call after.", "R11")
        if self.usable is not None and not self.usable.can_send("call"):
            return self._skip(contact, "call", "R11: " + self.usable.settings_hint("call"), "R11")
        if follow_up.channel != "email":
            return self._skip(
                contact,
                "call",
                f"R11: the follow-up goes by {follow_up.channel}; a call only follows an "
                "unanswered email follow-up.",
                "R11",
            )
        base = follow_up.scheduled_for + pol.min_gap
        at, decision, pushed_by = self._place(pol, contact, "call", "call", base)
        if at is None:
            return self._skip(contact, "call", decision.detail, decision.rule or "R11")
        self._record(contact, "call", "call", at)
        reason = (
            f"R11: call if the email follow-up stays unanswered, {pol.min_gap_hours} h after it "
            f"(R7), in the call window"
        )
        reason += _placed(at, max(base, self.now), contact.tz, pushed_by or "R11")
        return PlannedStep(contact.id, "call", "call", at, reason + ".", "R11")
