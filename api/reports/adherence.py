"""The adherence report: per candidate the caller may see, and in total.

An admin's report covers the organisation: its total adds the erased candidates'
anonymous tallies (api.reports.anonymous) and the unmatched mail no candidate was named
for. An advisor's covers their assigned candidates, a candidate's their own row; neither
total can include the erased (they are no one's any more).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import ledger
from api.auth import Principal, scope, visible_candidates
from api.models import User
from api.reports import anonymous, attention, figures

#: The summable figures, in the order the report and the CSV give them.
COUNTED = (
    "interviews",
    "interviewers",
    "interviewers_thanked",
    "thanked_within_24h",
    "thanked_within_48h",
    "interviewers_answered",
    "follow_ups_sent",
    "follow_ups_after_wait",
    "calls_made",
    *figures.RESPONSE_FIGURES,
)
MAX_SPAN = timedelta(days=366)
REFUSED = "refused:"


@dataclass
class Line:
    """One row of the report: counts, refusals by rule, the median first-reply delay (not
    summable: the total's is taken over every seat), attention."""

    counts: Counter = field(default_factory=Counter)
    median: float | None = None
    now: Counter = field(default_factory=Counter)

    def add(self, other: Line) -> None:
        self.counts.update(other.counts)
        self.now.update(other.now)

    def as_dict(self) -> dict:
        refused = {
            k.removeprefix(REFUSED): n
            for k, n in sorted(self.counts.items())
            if k.startswith(REFUSED)
        }
        median = self.median
        return {
            **{name: self.counts.get(name, 0) for name in COUNTED},
            "refused": sum(refused.values()),
            "refused_by_rule": refused,
            "median_hours_to_first_reply": round(median, 2) if median is not None else None,
            "attention": {name: self.now.get(name, 0) for name in attention.FIGURES},
        }


def narrow_to(principal: Principal):
    def narrow(query, model):
        return scope(query, model, principal)

    return narrow


def candidates(session: Session, principal: Principal) -> list[User]:
    query = select(User).where(User.id.in_(visible_candidates(principal))).order_by(User.id)
    return list(session.scalars(query))


def report(
    session: Session, principal: Principal, start: datetime, end: datetime, now: datetime
) -> dict:
    narrow = narrow_to(principal)
    settings, _ = ledger.effective_policy(session, principal.org_id)
    people = candidates(session, principal)
    lines = {user.id: Line() for user in people}
    medians: dict = {}
    for candidate_id, counted in figures.counts(
        session, narrow, figures.by_candidate, start, end, settings, medians
    ).items():
        if candidate_id in lines:
            lines[candidate_id].counts.update(counted)
    for candidate_id, median in medians.items():
        if candidate_id in lines:
            lines[candidate_id].median = median
    total = Line(median=medians.get(None))
    for candidate_id, counted in attention.attention(session, narrow, now).items():
        if candidate_id in lines:
            lines[candidate_id].now.update(counted)
        elif candidate_id is None and principal.is_admin:
            total.now.update(counted)
    for line in lines.values():
        total.add(line)
    erased = principal.is_admin
    if erased:
        total.counts.update(anonymous.tallies(session, principal.org_id, start, end))
    return {
        "start": start,
        "end": end,
        "generated_at": now,
        "candidates": [
            {"candidate_id": u.id, "name": u.name, "email": u.email, **lines[u.id].as_dict()}
            for u in people
        ],
        "total": {**total.as_dict(), "candidates": len(people), "includes_erased": erased},
    }


@dataclass(frozen=True)
class Week:
    start: date
    interviewers: int
    thanked_within_24h: int
    answered: int

    @property
    def thanked_rate(self) -> float | None:
        return self.thanked_within_24h / self.interviewers if self.interviewers else None

    @property
    def reply_rate(self) -> float | None:
        return self.answered / self.interviewers if self.interviewers else None


def weekly(session: Session, principal: Principal, start: datetime, end: datetime) -> list[Week]:
    """Seven-day weeks from ``start``'s UTC day: each week's seats (by the interview's
    end), the share thanked within 24 h and the share that answered (the admin's include
    the erased candidates' tallies)."""
    narrow = narrow_to(principal)
    per_day = figures.seat_figures(session, narrow, figures.by_day, start, end)
    if principal.is_admin:
        for day, counted in anonymous.tallies(
            session, principal.org_id, start, end, by_day=True
        ).items():
            per_day.setdefault(day, Counter()).update(counted)
    first = start.date()
    weeks: dict[int, Counter] = {}
    for i in range((end.date() - first).days // 7 + 1):
        weeks[i] = Counter()
    for day, counted in per_day.items():
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        weeks.setdefault((day - first).days // 7, Counter()).update(counted)
    return [
        Week(
            start=first + timedelta(days=7 * i),
            interviewers=c["interviewers"],
            thanked_within_24h=c["thanked_within_24h"],
            answered=c["interviewers_answered"],
        )
        for i, c in sorted(weeks.items())
        if first + timedelta(days=7 * i) < end.date() or c
    ]
