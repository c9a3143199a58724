"""What an erasure keeps: the candidate's counts, folded into anonymous tallies just
before their rows go, so the organisation's totals for a range do not change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, inspect, select

from api.models import AnonymousTally, User
from api.reports.anonymous import fold_candidate
from tests.reports.conftest import INTERVIEW_ENDS

HOURS = timedelta(hours=1)
#: Everything the report sums, for the totals' comparison (the median and the attention
#: figures leave with the candidate).
SUMMED_OUT = ("median_hours_to_first_reply", "attention", "candidates")


def busy_candidate(cohort, factory, candidate) -> None:
    """A week with one of everything: a panel of two, thanked, followed up, called,
    answered, rejected, and refusals."""
    app, (dana, lee) = cohort.interviewed(candidate, panel=2)
    cohort.sent(dana, app, at=INTERVIEW_ENDS + 5 * HOURS)
    cohort.sent(lee, app, at=INTERVIEW_ENDS + 30 * HOURS)
    cohort.sent(dana, app, "follow_up", at=INTERVIEW_ENDS + timedelta(days=3))
    cohort.sent(lee, app, "call", at=INTERVIEW_ENDS + timedelta(days=4))
    factory.response(dana, app, "replied", occurred_at=INTERVIEW_ENDS + 20 * HOURS)
    factory.response(lee, app, "rejected", occurred_at=INTERVIEW_ENDS + timedelta(days=5))
    stopped = factory.touch(lee, app, step="follow_up", status="cancelled")
    cohort.stopped(stopped, "cancelled", "R9")
    cohort.stopped(stopped, "refused", "R7")


def summed(total: dict) -> dict:
    return {k: v for k, v in total.items() if k not in SUMMED_OUT}


def erase(db, candidate) -> None:
    fold_candidate(db, candidate.id)
    db.execute(delete(User).where(User.id == candidate.id))
    db.commit()


def test_the_admins_totals_are_unchanged_after_a_fold_and_an_erasure(
    report, cohort, factory, world, db
):
    busy_candidate(cohort, factory, world.candidate)
    busy_candidate(cohort, factory, world.other_candidate)
    before = report("admin")["total"]
    erase(db, world.candidate)
    after = report("admin")["total"]
    assert summed(after) == summed(before)


def test_the_totals_really_counted_the_erased_candidate(report, cohort, factory, world):
    busy_candidate(cohort, factory, world.candidate)
    total = report("admin")["total"]
    assert (total["interviewers"], total["refused_by_rule"]) == (2, {"R7": 1, "R9": 1})


def test_an_erased_candidate_leaves_the_rows(report, cohort, factory, world, db):
    busy_candidate(cohort, factory, world.candidate)
    erase(db, world.candidate)
    rows = report("admin")["candidates"]
    assert [r["candidate_id"] for r in rows] == [world.other_candidate.id]


def test_an_advisors_totals_cannot_include_the_erased(report, cohort, factory, world, db):
    busy_candidate(cohort, factory, world.candidate)
    erase(db, world.candidate)
    total = report("advisor")["total"]
    assert (total["interviewers"], total["includes_erased"]) == (0, False)


def test_folding_twice_counts_twice(cohort, factory, world, db):
    """The fold adds: the erasure calls it once, just before the rows go."""
    busy_candidate(cohort, factory, world.candidate)
    fold_candidate(db, world.candidate.id)
    fold_candidate(db, world.candidate.id)
    db.commit()
    seats = db.scalar(select(AnonymousTally.count).where(AnonymousTally.figure == "interviewers"))
    assert seats == 4


def test_tallies_name_no_one():
    columns = {c.name for c in inspect(AnonymousTally).columns}
    assert columns == {"id", "org_id", "day", "figure", "count"}


def test_another_organisations_tallies_are_not_in_the_total(report, cohort, factory, world, db):
    busy_candidate(cohort, factory, world.stranger)
    erase(db, world.stranger)
    assert report("admin")["total"]["interviewers"] == 0


def test_an_erasure_through_the_api_leaves_the_admins_totals_unchanged(
    report, cohort, factory, world, call
):
    busy_candidate(cohort, factory, world.candidate)
    busy_candidate(cohort, factory, world.other_candidate)
    before = report("admin")["total"]
    answer = call(
        "POST",
        f"/v1/users/{world.candidate.id}/erasure",
        world.tokens["admin"],
        json={"confirm": world.candidate.email},
    )
    assert answer.status_code < 300, answer.get_json()
    after = report("admin")["total"]
    assert summed(after) == summed(before)
    assert after["includes_erased"] is True
