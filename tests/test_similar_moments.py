"""The coach's growth points cite similar, well-handled moments – only from sessions the
viewer may see."""

from __future__ import annotations

import pytest

from coach.schema import CoachReport
from practice.services import build_services
from practice.settings import load_settings


@pytest.fixture
def svc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RELPRACTICE_SEARCH_INDEX", "sync")
    services = build_services(load_settings())
    yield services
    services.db.dispose()


def _session(svc, user, scenario_id: str, turns: list[str]) -> str:
    sid = svc.practice.start(user, scenario_id).info.id
    for text in turns:
        svc.practice.send(user, sid, text)
    svc.practice.end(user, sid)
    return sid


def test_growth_point_finds_own_good_moment_but_not_others(svc) -> None:
    from practice.db import User
    from practice.search import similar_good_moments

    scenario_id = "ledig-jonas-da"
    me = svc.practice.local_user()
    with svc.db.Session() as s:
        other = User(username="else", display_name="Else", role="practitioner")
        s.add(other)
        s.commit()
    good = [
        "Hej Jonas. Hvad tænker du selv, vi skal bruge tiden på i dag?",
        "Det lyder som om, du er træt af at fortælle din historie forfra. Hvad er vigtigst for dig nu?",
        "Hvem i dit liv giver dig energi?",
    ]
    others_good = _session(svc, other, scenario_id, good)
    bad_sid = _session(
        svc,
        me,
        scenario_id,
        [
            "Du skal møde op til aktivering mandag, ellers bliver din ydelse trukket.",
            "Har du virkelig været syg hele tiden?",
        ],
    )
    report = CoachReport.model_validate_json(svc.practice.view(me, bad_sid).report_json)
    assert report.notes is not None
    assert report.notes.growth_points
    quote = report.notes.growth_points[0].quote
    # only the other practitioner has good moments: I may not see them
    assert similar_good_moments(quote, "da", me, exclude_session=bad_sid) == []
    mine_good = _session(svc, me, scenario_id, good)
    hits = similar_good_moments(quote, "da", me, exclude_session=bad_sid, k=3)
    assert hits, "my own well-handled moments are found"
    assert {h.session_id for h in hits} == {mine_good}
    assert others_good not in {h.session_id for h in hits}
