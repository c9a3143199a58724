"""What an erased candidate leaves behind for the organisation's records: their report
figures, summed per UTC day into ``anonymous_tallies`` with no user id and no name.

The privacy erasure calls :func:`fold_candidate` just before it deletes the candidate's
rows, in the same transaction: the organisation's totals for any range of whole UTC days
are then the same before and after. Only the summable figures are kept: the median time
to a first reply, and what needs attention now, leave with the candidate.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api import ledger
from api.models import AnonymousTally, User
from api.reports import figures


def fold_candidate(session: Session, user_id: int) -> int:
    """Add the candidate's figures, day by day, to their org's tallies; flushed, not
    committed (the caller's erasure commits). Answers how many (day, figure) cells moved."""
    user = session.get(User, user_id)
    if user is None:
        return 0
    settings, _ = ledger.effective_policy(session, user.org_id)

    def narrow(query, model):
        return query.where(model.org_id == user.org_id, model.candidate_id == user_id)

    per_day = figures.counts(session, narrow, figures.by_day, None, None, settings)
    rows = [
        {"org_id": user.org_id, "day": day, "figure": figure, "count": n}
        for day, counted in per_day.items()
        for figure, n in counted.items()
        if n
    ]
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(AnonymousTally).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["org_id", "day", "figure"],
        set_={"count": AnonymousTally.count + statement.excluded.count},
    )
    session.execute(statement)
    session.flush()
    return len(rows)


def tallies(
    session: Session, org_id: int, start: datetime, end: datetime, by_day: bool = False
) -> dict:
    """The erased candidates' figures for the days that start in ``[start, end)``:
    a Counter, or {day: Counter} with ``by_day``."""
    day = AnonymousTally.day
    first, last = _days(start, end)
    query = select(day, AnonymousTally.figure, func.sum(AnonymousTally.count)).where(
        AnonymousTally.org_id == org_id, day >= first, day < last
    )
    query = query.group_by(day, AnonymousTally.figure)
    if by_day:
        found: dict = {}
        for d, figure, n in session.execute(query):
            found.setdefault(d, Counter())[figure] += int(n)
        return found
    total: Counter = Counter()
    for _d, figure, n in session.execute(query):
        total[figure] += int(n)
    return total


def _days(start: datetime, end: datetime):
    """The first day starting at or after ``start``, the first starting at or after ``end``."""

    def ceil(t: datetime):
        t = t.astimezone(UTC)
        d = t.date()
        return d if t.time() == datetime.min.time() else d + timedelta(days=1)

    return ceil(start), ceil(end)
