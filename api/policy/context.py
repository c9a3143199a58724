"""What one evaluation knows: the refusal a check returns and the context it reads.

:func:`_build_ctx` filters the caller's history and responses once into the slices the
rules need (this contact, this round, this application), so every check module reads the
same precomputed view instead of filtering again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from api.policy.records import ContactInfo, ProposedTouch, ResponseRecord, TouchRecord, is_manual
from api.policy.settings import PolicySettings
from api.policy.timing import window_for
from api.timebounds import bounded, clamp_day
from api.timewindow import Window, local_date, next_opening


@dataclass(frozen=True)
class _Refusal:
    rule: str
    detail: str
    next_at: datetime | None  # None: waiting does not help


@dataclass(frozen=True)
class _Ctx:
    policy: PolicySettings
    contact: ContactInfo
    proposed: ProposedTouch
    contact_touches: tuple[TouchRecord, ...]  # counting, to this contact, minus itself
    round_touches: tuple[TouchRecord, ...]  # ... and in this application and round
    app_touches: tuple[TouchRecord, ...]  # counting, any contact of this application
    contact_responses: tuple[ResponseRecord, ...]  # from this contact, any application
    app_responses: tuple[ResponseRecord, ...]  # any contact of this application
    candidate_sends_today: int
    cap_day: date
    thank_you_anchor: datetime | None
    interview_end: datetime | None
    decision_date: date | None
    manual: bool

    @property
    def window(self) -> Window:
        return window_for(self.policy, self.proposed.step, self.proposed.channel)

    def opening(self, at: datetime, window: Window | None = None) -> datetime:
        return next_opening(
            at,
            self.contact.tz,
            window or self.window,
            self.policy.business_days,
            self.contact.country,
            self.policy.observe_holidays,
        )


def _same_app(record_app: int, app: int | None) -> bool:
    return app is None or record_app == app


def _build_ctx(
    policy: PolicySettings,
    contact: ContactInfo,
    history: Sequence[TouchRecord],
    responses: Sequence[ResponseRecord],
    proposed: ProposedTouch,
    t: datetime,
    candidate_sends_today: int,
    thank_you_anchor: datetime | None,
    interview_end: datetime | None,
    decision_date: date | None,
) -> _Ctx:
    if proposed.contact_id != contact.id:
        raise ValueError(
            f"proposed touch is for contact {proposed.contact_id}, not contact {contact.id}"
        )
    app = proposed.application_id
    counting = [
        h for h in history if h.counts and (proposed.touch_id is None or h.id != proposed.touch_id)
    ]
    contact_touches = tuple(h for h in counting if h.contact_id == contact.id)
    return _Ctx(
        policy=policy,
        contact=contact,
        proposed=proposed,
        contact_touches=contact_touches,
        round_touches=tuple(
            h
            for h in contact_touches
            if _same_app(h.application_id, app) and h.round == proposed.round
        ),
        app_touches=tuple(h for h in counting if _same_app(h.application_id, app)),
        contact_responses=tuple(r for r in responses if r.contact_id == contact.id),
        app_responses=tuple(r for r in responses if _same_app(r.application_id, app)),
        candidate_sends_today=candidate_sends_today,
        cap_day=local_date(t, contact.tz),
        thank_you_anchor=bounded(thank_you_anchor) if thank_you_anchor else None,
        interview_end=bounded(interview_end) if interview_end else None,
        decision_date=clamp_day(decision_date),
        manual=is_manual(proposed),
    )
