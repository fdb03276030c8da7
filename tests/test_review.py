"""Review services: comments on turns, assessments (override needs a reason), what the
practitioner sees, and the coach-supervisor agreement figures."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers_review import fast_hashing, make_session, make_user, report_dict, services
from sqlalchemy import update

from practice.db import ScoreOverride
from practice.review import ReviewError, ReviewService, period_key


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def team():
    svc = services()
    sup = make_user(svc, "sofie", "supervisor")
    anna = make_user(svc, "anna", supervisor=sup)
    sid = make_session(svc, anna)
    reviews = ReviewService(svc.db)
    reviews.share(anna, sid)
    yield svc, reviews, sup, anna, sid
    svc.db.dispose()


def test_comment_on_a_turn_and_on_the_whole_session(team) -> None:
    _svc, reviews, sup, anna, sid = team
    reviews.add_comment(sup, sid, "  Fint åbent spørgsmål.  ", turn_idx=1)
    reviews.add_comment(sup, sid, "Tal om ejerskab næste gang.")
    seen = reviews.comments(anna, sid)
    assert [(c.turn_idx, c.text, c.author_name) for c in seen] == [
        (1, "Fint åbent spørgsmål.", "Sofie"),
        (None, "Tal om ejerskab næste gang.", "Sofie"),
    ]
    with pytest.raises(ReviewError) as empty:
        reviews.add_comment(sup, sid, " \n\t ")
    assert empty.value.code == "comment_empty"
    with pytest.raises(ReviewError) as bad_turn:
        reviews.add_comment(sup, sid, "?", turn_idx=99)
    assert bad_turn.value.code == "bad_turn"
    with pytest.raises(ReviewError) as long:
        reviews.add_comment(sup, sid, "x" * 5000)
    assert long.value.code == "comment_long"


def test_override_needs_a_reason_agreement_does_not(team) -> None:
    _svc, reviews, sup, anna, sid = team
    with pytest.raises(ReviewError) as exc:
        reviews.assess(sup, sid, "stand_beside", 4, "")
    assert exc.value.code == "reason_required"
    with pytest.raises(ReviewError):
        reviews.assess(sup, sid, "stand_beside", 4, "ok")  # too short to be a reason
    with pytest.raises(ReviewError) as bad:
        reviews.assess(sup, sid, "stand_beside", 6, "for højt")
    assert bad.value.code == "bad_score"
    with pytest.raises(ReviewError) as unknown:
        reviews.assess(sup, sid, "no_such_principle", 3, "")
    assert unknown.value.code == "unknown_principle"
    same = reviews.assess(sup, sid, "meet_where_they_are", 4)  # the coach said 4
    assert not same.is_override
    assert same.agrees
    over = reviews.assess(sup, sid, "stand_beside", 4, "Hun fulgte borgerens tempo hele vejen.")
    assert over.is_override
    assert not over.agrees
    assert over.coach_score == pytest.approx(2.3)
    # the practitioner sees the override with its reason
    seen = reviews.overrides(anna, sid)
    assert [(o.principle_id, o.score, o.reason) for o in seen] == [
        ("stand_beside", 4, "Hun fulgte borgerens tempo hele vejen.")
    ]


def test_latest_assessment_wins_and_confirm_fills_the_rest(team) -> None:
    _svc, reviews, sup, anna, sid = team
    reviews.assess(sup, sid, "stand_beside", 5, "første indtryk")
    reviews.assess(sup, sid, "stand_beside", 3, "ved nærmere eftersyn")
    assert reviews.confirm_coach(sup, sid) == 2  # the two principles not yet assessed
    assert reviews.confirm_coach(sup, sid) == 0
    latest = {a.principle_id: a.score for a in reviews.assessments(anna, sid)}
    assert latest == {"stand_beside": 3, "meet_where_they_are": 4, "trust_not_suspicion": 3}
    assert len(reviews.assessments(anna, sid, latest_only=False)) == 4


def test_no_report_no_assessment(team) -> None:
    svc, reviews, sup, anna, _ = team
    bare = make_session(svc, anna, report=None)
    reviews.share(anna, bare)
    with pytest.raises(ReviewError) as exc:
        reviews.assess(sup, bare, "stand_beside", 3, "")
    assert exc.value.code == "no_report"


def test_agreement_rate_and_mean_absolute_difference(team) -> None:
    svc, reviews, sup, anna, sid = team
    # coach raw scores: meet 3.8, stand 2.3, trust 3.4
    reviews.assess(sup, sid, "meet_where_they_are", 4)  # |4-3.8| = 0.2 agree
    reviews.assess(sup, sid, "stand_beside", 3, "mere end coachen så")  # 0.7 disagree
    reviews.assess(sup, sid, "trust_not_suspicion", 3)  # 0.4 agree
    second = make_session(svc, anna, report=report_dict(principles={"stand_beside": (2, 2.0)}))
    reviews.share(anna, second)
    reviews.assess(sup, second, "stand_beside", 2)  # 0.0 agree
    rows = {(r.principle_id, r.period): r for r in reviews.agreement(sup)}
    stand = rows[("stand_beside", "all")]
    assert (stand.n, stand.agree) == (2, 1)
    assert stand.agree_rate == pytest.approx(0.5)
    assert stand.mean_abs_diff == pytest.approx(0.35)
    meet = rows[("meet_where_they_are", "all")]
    assert (meet.n, meet.agree, meet.mean_abs_diff) == (1, 1, pytest.approx(0.2))


def test_agreement_over_time_by_month_and_week(team) -> None:
    svc, reviews, sup, anna, sid = team
    reviews.assess(sup, sid, "stand_beside", 4, "tydeligt bedre end coachen siger")
    reviews.assess(sup, sid, "meet_where_they_are", 4)
    old = make_session(svc, anna)
    reviews.share(anna, old)
    reviews.assess(sup, old, "stand_beside", 2)
    # move the older assessment back in time
    with svc.db.Session() as s:
        s.execute(
            update(ScoreOverride)
            .where(ScoreOverride.session_id == old)
            .values(created_at=dt.datetime(2026, 9, 2, 10, 0))
        )
        s.commit()
    months = {(r.principle_id, r.period): r for r in reviews.agreement(sup, "month")}
    assert months[("stand_beside", "2026-09")].agree == 1
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert months[("stand_beside", period_key(now, "month"))].agree == 0
    weeks = {r.period for r in reviews.agreement(sup, "week") if r.principle_id == "stand_beside"}
    assert weeks == {"2026-W36", period_key(now, "week"), "all"}


def test_period_keys() -> None:
    assert period_key(dt.datetime(2026, 1, 1), "month") == "2026-01"
    assert period_key(dt.datetime(2026, 1, 1), "week") == "2026-W01"
    assert period_key(dt.datetime(2027, 1, 1), "week") == "2026-W53"
