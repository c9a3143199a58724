"""The adherence report's counts, each an aggregate query (GROUP BY, CASE sums).

Every figure is summed over a *key*: the candidate (the report's rows) or the UTC day of
the fact (the anonymous tallies an erasure keeps, the weekly chart). Each fact is dated
by its own instant, and a range keeps the facts dated in ``[start, end)``:

- a panel seat (one interviewer of one application's round, R1's unit, R2's clock) by the
  end of that round's last interview with them (as api.ledger.interview_end);
- an interview by its end; a follow-up or a call by when it was sent;
- a refusal by its event; a response by when it happened.

``narrow(query, model)`` restricts every query to the caller's candidates (api.auth.scope)
or to one candidate (the fold), so a figure is counted the same way for both.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, and_, case, func, literal, select, tuple_
from sqlalchemy.orm import Session

from api.models import Application, Interview, Interviewer, Response, Touch, TouchEvent
from api.models.base import UTCDateTime
from api.policy import PolicySettings
from api.reports.sqltime import seconds_between, utc_day

Narrow = Callable[[Select, type], Select]
#: (the fact's instant, its candidate column) -> the key column.
Key = Callable[[object, object], object]

SENT = ("sent", "delivered")
#: Events that say a rule stopped a touch: a proposed change refused, a touch skipped or
#: cancelled because a rule no longer allowed it (api.ledger events with their rule).
REFUSING = ("refused", "skipped", "cancelled")
#: Responses the report counts, by figure; a decision date is an answer too.
RESPONSE_FIGURES = {
    "replies": ("replied", "decision_date"),
    "rejections": ("rejected",),
    "next_rounds": ("next_round",),
    "offers": ("offer",),
}
HOUR = 3600.0
#: A follow-up "after the right wait" (R4/R5) allows for the contact's zone: R4 waits until
#: local midnight (UTC-12..+14), R5 counts local days (a daylight-saving hour).
R4_ALLOWANCE = 14 * HOUR
R5_ALLOWANCE = 1 * HOUR


def by_candidate(_at, candidate):
    return candidate


def by_day(at, _candidate):
    return utc_day(at)


def _in_range(column, start: datetime | None, end: datetime | None):
    clauses = []
    if start is not None:
        clauses.append(column >= literal(start, UTCDateTime()))
    if end is not None:
        clauses.append(column < literal(end, UTCDateTime()))
    return and_(True, *clauses)


def _sum(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def panels(narrow: Narrow):
    """One row per seat: (candidate, contact, application, round, ended)."""
    query = (
        select(
            Interview.candidate_id,
            Interviewer.contact_id,
            Interview.application_id,
            Interview.round,
            func.max(Interview.ends_at).label("ended"),
        )
        .join(Interviewer, Interviewer.interview_id == Interview.id)
        .group_by(
            Interview.candidate_id,
            Interviewer.contact_id,
            Interview.application_id,
            Interview.round,
        )
    )
    return narrow(query, Interview).subquery("panels")


def first_sends(narrow: Narrow):
    """Per (contact, application, round): the first touch sent, the first thank-you sent."""
    query = (
        select(
            Touch.contact_id,
            Touch.application_id,
            Touch.round,
            func.min(Touch.sent_at).label("first_sent"),
            func.min(case((Touch.step == "thank_you", Touch.sent_at))).label("first_thanks"),
        )
        .where(Touch.status.in_(SENT), Touch.sent_at.is_not(None))
        .group_by(Touch.contact_id, Touch.application_id, Touch.round)
    )
    return narrow(query, Touch).subquery("sends")


def first_answers(narrow: Narrow):
    """Per (contact, application, round): the first response that is not an out-of-office."""
    query = (
        select(
            Response.contact_id,
            Response.application_id,
            Response.round,
            func.min(Response.occurred_at).label("first_answer"),
        )
        .where(Response.kind != "out_of_office")
        .group_by(Response.contact_id, Response.application_id, Response.round)
    )
    return narrow(query, Response).subquery("answers")


def _same_panel(a, b):
    return and_(
        a.c.contact_id == b.c.contact_id,
        a.c.application_id == b.c.application_id,
        a.c.round == b.c.round,
    )


def _seats_query(narrow: Narrow, start, end):
    p, s, a = panels(narrow), first_sends(narrow), first_answers(narrow)
    joined = p.outerjoin(s, _same_panel(p, s)).outerjoin(a, _same_panel(p, a))
    return p, s, a, joined, _in_range(p.c.ended, start, end)


def seat_figures(
    session: Session, narrow: Narrow, key: Key, start, end, medians: dict | None = None
) -> dict:
    """Seats, thanked (within 24 h, 48 h) and answered, per key. With ``medians`` (per
    candidate only) it is also given the median first-reply delays: see
    :func:`reply_medians`."""
    p, s, a, joined, in_range = _seats_query(narrow, start, end)
    thanks_delay = seconds_between(p.c.ended, s.c.first_thanks)
    k = key(p.c.ended, p.c.candidate_id).label("k")
    columns = [
        k,
        func.count().label("interviewers"),
        _sum(s.c.first_thanks.is_not(None)).label("interviewers_thanked"),
        _sum(thanks_delay <= 24 * HOUR).label("thanked_within_24h"),
        _sum(thanks_delay <= 48 * HOUR).label("thanked_within_48h"),
        _sum(a.c.first_answer.is_not(None)).label("interviewers_answered"),
    ]
    grouping = [k]
    in_query = medians is not None and session.get_bind().dialect.name == "postgresql"
    if in_query:
        # one pass: percentile_cont over the same join, GROUPING SETS adding the total
        delay = seconds_between(s.c.first_sent, a.c.first_answer) / HOUR
        columns += [
            func.grouping(k).label("is_total"),
            func.percentile_cont(0.5)
            .within_group(delay)
            .filter(a.c.first_answer >= s.c.first_sent)
            .label("median"),
        ]
        grouping = [func.grouping_sets(k, tuple_())]
    query = select(*columns).select_from(joined).where(in_range).group_by(*grouping)
    if not in_query:
        if medians is not None:
            medians.update(reply_medians(session, narrow, start, end))
        return _rows(session, query)
    found: dict = defaultdict(Counter)
    for row in session.execute(query).mappings():
        values = dict(row)
        k_value, is_total, median = values.pop("k"), values.pop("is_total"), values.pop("median")
        if median is not None:
            medians[None if is_total else k_value] = float(median)
        if not is_total:
            found[k_value].update({name: int(n) for name, n in values.items() if n})
    return found


def reply_medians(session: Session, narrow: Narrow, start, end) -> dict:
    """Median hours from each seat's first touch sent to the contact's first answer after
    it: {candidate_id: hours, None: over every seat}, over the small column of delays (for
    SQLite, which has no percentile_cont; PostgreSQL takes them in :func:`seat_figures`)."""
    p, s, a, joined, in_range = _seats_query(narrow, start, end)
    delay = seconds_between(s.c.first_sent, a.c.first_answer) / HOUR
    query = (
        select(p.c.candidate_id, delay)
        .select_from(joined)
        .where(in_range, a.c.first_answer >= s.c.first_sent)
    )
    delays: dict = defaultdict(list)
    for candidate, hours in session.execute(query):
        delays[candidate].append(float(hours))
        delays[None].append(float(hours))
    return {k: statistics.median(v) for k, v in delays.items()}


def interview_figures(session: Session, narrow: Narrow, key: Key, start, end) -> dict:
    k = key(Interview.ends_at, Interview.candidate_id).label("k")
    query = (
        select(k, func.count().label("interviews"))
        .where(_in_range(Interview.ends_at, start, end))
        .group_by(k)
    )
    return _rows(session, narrow(query, Interview))


def first_thanks(narrow: Narrow):
    """Per (contact, application, round): the first thank-you sent (R5's clock)."""
    query = (
        select(
            Touch.contact_id,
            Touch.application_id,
            Touch.round,
            func.min(Touch.sent_at).label("first_thanks"),
        )
        .where(Touch.status.in_(SENT), Touch.step == "thank_you", Touch.sent_at.is_not(None))
        .group_by(Touch.contact_id, Touch.application_id, Touch.round)
    )
    return narrow(query, Touch).subquery("thanks")


def _decision_dates(narrow: Narrow):
    """Per application and round, the latest decision date a response gave (R4)."""
    query = (
        select(
            Response.application_id,
            Response.round,
            func.max(Response.decision_date).label("decision_date"),
        )
        .where(Response.kind == "decision_date", Response.decision_date.is_not(None))
        .group_by(Response.application_id, Response.round)
    )
    return narrow(query, Response).subquery("decisions")


def send_figures(
    session: Session, narrow: Narrow, key: Key, start, end, settings: PolicySettings
) -> dict:
    """Follow-ups sent, those sent after the wait R4/R5 ask (the org's policy numbers), and
    calls made."""
    s, d = first_thanks(narrow), _decision_dates(narrow)
    decision = func.coalesce(d.c.decision_date, Application.decision_expected_on)
    grace = settings.decision_grace_days * 86400.0
    r4_applies = seconds_between(s.c.first_thanks, decision) + grace + R4_ALLOWANCE > 0
    r4_waited = seconds_between(decision, Touch.sent_at) >= grace - R4_ALLOWANCE
    r5_waited = (
        seconds_between(s.c.first_thanks, Touch.sent_at)
        >= settings.follow_up_wait_days * 86400.0 - R5_ALLOWANCE
    )
    waited = case(
        (s.c.first_thanks.is_(None), False),
        (and_(decision.is_not(None), r4_applies), r4_waited),
        else_=r5_waited,
    )
    follow_up = Touch.step == "follow_up"
    k = key(Touch.sent_at, Touch.candidate_id).label("k")
    query = (
        select(
            k,
            _sum(follow_up).label("follow_ups_sent"),
            _sum(and_(follow_up, waited)).label("follow_ups_after_wait"),
            _sum(Touch.step == "call").label("calls_made"),
        )
        .join(Application, Application.id == Touch.application_id)
        .outerjoin(
            s,
            and_(
                s.c.contact_id == Touch.contact_id,
                s.c.application_id == Touch.application_id,
                s.c.round == Touch.round,
            ),
        )
        .outerjoin(d, and_(d.c.application_id == Touch.application_id, d.c.round == Touch.round))
        .where(
            Touch.status.in_(SENT),
            Touch.step.in_(("follow_up", "call")),
            _in_range(Touch.sent_at, start, end),
        )
        .group_by(k)
    )
    return _rows(session, narrow(query, Touch))


def refusal_figures(session: Session, narrow: Narrow, key: Key, start, end) -> dict:
    """``refused:<rule>``: how often each rule stopped a touch."""
    k = key(TouchEvent.at, Touch.candidate_id).label("k")
    query = (
        select(k, TouchEvent.rule, func.count())
        .join(Touch, Touch.id == TouchEvent.touch_id)
        .where(
            TouchEvent.kind.in_(REFUSING),
            TouchEvent.rule.is_not(None),
            _in_range(TouchEvent.at, start, end),
        )
        .group_by(k, TouchEvent.rule)
    )
    found: dict = defaultdict(Counter)
    for k_value, rule, n in session.execute(narrow(query, Touch)):
        found[k_value][f"refused:{rule}"] += n
    return found


def response_figures(session: Session, narrow: Narrow, key: Key, start, end) -> dict:
    k = key(Response.occurred_at, Response.candidate_id).label("k")
    query = (
        select(
            k,
            *(
                _sum(Response.kind.in_(kinds)).label(name)
                for name, kinds in RESPONSE_FIGURES.items()
            ),
        )
        .where(_in_range(Response.occurred_at, start, end))
        .group_by(k)
    )
    return _rows(session, narrow(query, Response))


def _rows(session: Session, query) -> dict:
    found: dict = defaultdict(Counter)
    for row in session.execute(query).mappings():
        values = dict(row)
        k_value = values.pop("k")
        found[k_value].update({name: int(n) for name, n in values.items() if n})
    return found


def counts(
    session: Session,
    narrow: Narrow,
    key: Key,
    start: datetime | None,
    end: datetime | None,
    settings: PolicySettings,
    medians: dict | None = None,
) -> dict:
    """Every summable figure, per key: {key: Counter(figure -> count)}; ``medians`` (a
    dict, per candidate only) is filled as :func:`reply_medians` answers."""
    found: dict = defaultdict(Counter)
    for part in (
        interview_figures(session, narrow, key, start, end),
        seat_figures(session, narrow, key, start, end, medians),
        send_figures(session, narrow, key, start, end, settings),
        refusal_figures(session, narrow, key, start, end),
        response_figures(session, narrow, key, start, end),
    ):
        for k_value, figures in part.items():
            found[k_value].update(figures)
    return found
