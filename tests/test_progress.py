"""Progress: principle scores over own sessions, goals from supervision notes, branches
("try again from turn N") and their side-by-side comparison."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers_review import TURNS, fast_hashing, make_session, make_user, report_dict, services

from practice.access import AccessDenied
from practice.progress import ProgressService
from practice.review import ReviewService


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def svc():
    s = services()
    yield s
    s.db.dispose()


def test_history_per_principle_oldest_first_with_reviewer_scores(svc) -> None:
    sup = make_user(svc, "sofie", "supervisor")
    anna = make_user(svc, "anna", supervisor=sup)
    early = make_session(
        svc,
        anna,
        created=dt.datetime(2026, 10, 1),
        report=report_dict(principles={"stand_beside": (2, 2.2)}, next_goal="Lyt mere."),
    )
    late = make_session(
        svc,
        anna,
        created=dt.datetime(2026, 11, 1),
        report=report_dict(principles={"stand_beside": (4, 3.9)}, next_goal="Spørg til planen."),
    )
    make_session(svc, anna, report=None)  # not scored: not in the history
    reviews = ReviewService(svc.db)
    reviews.share(anna, late)
    reviews.assess(sup, late, "stand_beside", 5, "Hun stod helt ved siden af.")
    points = ProgressService(svc.db).history(anna)
    assert [(p.session_id, p.principle_id, p.score, p.raw) for p in points] == [
        (early, "stand_beside", 2, 2.2),
        (late, "stand_beside", 4, 3.9),
    ]
    assert [p.reviewer_score for p in points] == [None, 5]
    goals = ProgressService(svc.db).goals(anna)
    assert [g.next_goal for g in goals] == ["Spørg til planen.", "Lyt mere."]
    assert goals[0].reflective_questions == ["Hvem ejede problemet?"]


def test_unusable_reports_are_skipped(svc) -> None:
    anna = make_user(svc, "anna")
    empty = report_dict()
    empty["status"] = "no_practitioner_turns"
    make_session(svc, anna, report=empty)
    assert ProgressService(svc.db).history(anna) == []


def test_branch_family_and_comparison(svc) -> None:
    anna = make_user(svc, "anna")
    bo = make_user(svc, "bo")
    root = make_session(svc, anna, created=dt.datetime(2026, 11, 1, 9))
    retry_turns = [*TURNS[:3], ("practitioner", "Hvad ville hjælpe dig med huslejen?")]
    branch = make_session(
        svc,
        anna,
        turns=retry_turns,
        report=report_dict(retry_turns, overall=71.0),
        parent_id=root,
        branch_turn=2,
        created=dt.datetime(2026, 11, 1, 10),
    )
    unrelated = make_session(svc, anna)
    progress = ProgressService(svc.db)
    for member in (root, branch):
        family = progress.family(anna, member)
        assert [f.session_id for f in family] == [root, branch]
        assert unrelated not in [f.session_id for f in family]
    left, right = progress.compare(anna, root, branch)
    assert (left.overall, right.overall) == (55.0, 71.0)
    assert right.branch_turn == 2
    assert right.parent_id == root
    assert right.turns[-1] == ("practitioner", "Hvad ville hjælpe dig med huslejen?")
    assert left.turns[:3] == right.turns[:3]
    with pytest.raises(AccessDenied):
        progress.family(bo, root)
    with pytest.raises(AccessDenied):
        progress.compare(bo, root, branch)
