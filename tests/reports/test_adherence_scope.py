"""Whose candidates a report covers: the admin's organisation, the advisor's assigned
candidates, the candidate alone; never another organisation's."""


def ids(found: dict) -> list[int]:
    return [row["candidate_id"] for row in found["candidates"]]


def test_an_admin_sees_every_candidate_of_the_organisation(report, world):
    assert ids(report("admin")) == [world.candidate.id, world.other_candidate.id]


def test_an_advisor_sees_only_the_assigned_candidates(report, world):
    assert ids(report("advisor")) == [world.candidate.id]


def test_an_advisor_total_counts_only_the_assigned_candidates(report, cohort, world):
    cohort.interviewed(world.other_candidate)
    assert report("advisor")["total"]["interviews"] == 0


def test_a_candidate_sees_their_own_row_only(report, world):
    assert ids(report("candidate")) == [world.candidate.id]


def test_another_organisations_admin_sees_none_of_its_candidates_or_counts(report, cohort, world):
    cohort.interviewed(world.candidate)
    found = report("stranger_admin")
    assert ids(found) == [world.stranger.id]
    assert found["total"]["interviews"] == 0


def test_without_a_token_the_report_is_refused(call):
    assert call("GET", "/v1/reports/adherence").status_code == 401
