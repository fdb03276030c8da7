"""The progress page in AppTest: the chart of principle scores, the goals, "try again from
turn N" (a real branch through PracticeService) and the side-by-side comparison."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from app_test_helpers import open_page
from helpers_review import fast_hashing, make_session, make_user, report_dict, services
from streamlit.testing.v1 import AppTest

from base.i18n import t
from practice.db import PracticeSession

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 90


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def svc():
    s = services()
    yield s
    s.db.dispose()


def open_progress(user) -> AppTest:
    return open_page(user, "app_pages/progress.py", TIMEOUT)


def test_chart_and_goals(svc) -> None:
    anna = make_user(svc, "anna")
    make_session(
        svc,
        anna,
        created=dt.datetime(2026, 10, 1),
        report=report_dict(next_goal="Lyt før du råder."),
    )
    make_session(
        svc,
        anna,
        created=dt.datetime(2026, 11, 1),
        report=report_dict(next_goal="Spørg til planen."),
    )
    at = open_progress(anna)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    goals = [m.value for m in at.markdown if m.value.startswith("🎯")]
    assert goals == ["🎯 Spørg til planen.", "🎯 Lyt før du råder."]
    assert t("progress.sessions_scored", "da", n=2) in [c.value for c in at.caption]


def test_empty_progress(svc) -> None:
    anna = make_user(svc, "anna")
    at = open_progress(anna)
    assert t("progress.empty", "da") in [i.value for i in at.info]


def test_try_again_from_turn_n_then_compare(svc) -> None:
    anna = make_user(svc, "anna")
    lib = svc.library()
    scenario = sorted(s.id for s in lib.scenarios.values() if s.language == "da")[0]
    sid = svc.practice.start(anna, scenario).info.id
    for text in ("Hej. Hvad vil du gerne tale om i dag?", "Du skal bare gøre, som jeg siger."):
        svc.practice.send(anna, sid, text)
    at = open_progress(anna)
    at.selectbox(key="progress.session").set_value(sid)
    at.selectbox(key="progress.turn_n").set_value(2).run()
    at.button(key="progress.try_again").click().run()
    assert not at.exception, at.exception
    with svc.db.Session() as s:
        branch = s.query(PracticeSession).filter_by(parent_id=sid).one()
    assert branch.branch_turn == 2
    assert branch.owner_id == anna.id
    # the practise page opened on the branch: the kept turns, waiting for the new attempt
    assert at.query_params.get("session") in (branch.id, [branch.id])
    # back on the progress page both attempts are compared side by side
    at = open_progress(anna)
    at.selectbox(key="progress.session").set_value(sid).run()
    assert at.selectbox(key="progress.left").value == sid
    assert at.selectbox(key="progress.right").value == branch.id
    assert len(at.metric) == 2
    said = [m.value for m in at.markdown]
    assert any("Du skal bare gøre, som jeg siger." in m for m in said)  # only in the original
