"""The review page end to end in AppTest: a supervisor comments on a turn and overrides a
principle score with a reason; the practitioner sees both (review page and the
``render_review_notes`` component); the agreement view shows the figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_review import fast_hashing, make_session, make_user, services
from streamlit.testing.v1 import AppTest

from base.i18n import t
from practice.review import ReviewService, principle_titles

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 90


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def team():
    svc = services()
    sup = make_user(svc, "sofie", "supervisor")
    anna = make_user(svc, "anna", supervisor=sup)
    sid = make_session(svc, anna)
    ReviewService(svc.db).share(anna, sid)
    yield svc, sup, anna, sid
    svc.db.dispose()


def open_review(user, session_id: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["shell.user_id"] = user.id
    at.run()
    if session_id:
        at.query_params["session"] = session_id
    at.switch_page("app_pages/review.py").run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(parts)


def test_transcript_shows_behaviour_codes_and_evidence(team) -> None:
    _svc, sup, _anna, sid = team
    at = open_review(sup, sid)
    assert len(at.chat_message) == 5
    text = page_text(at)
    assert t("report.behaviour.open_question", "da") in text
    assert t("report.behaviour.advice", "da") in text
    # evidence is titled in the reader's language (Danish UI), not the report's wording
    from practice.review import principle_titles

    assert f"✅ {principle_titles('da')['stand_beside']}: “Hvad tænker du selv,”" in text


def test_supervisor_comments_and_overrides_practitioner_sees_both(team) -> None:
    svc, sup, anna, sid = team
    at = open_review(sup, sid)
    at.selectbox(key="review.comment_turn").set_value(1)
    at.text_area(key="review.comment_text").input("Godt åbent spørgsmål – du gav hende ordet.")
    at.button(key="review.comment_submit").click().run()
    assert not at.exception, at.exception
    assert t("review.commented", "da") in page_text(at)

    # an override without a reason is refused, with a reason it is saved
    at.selectbox(key="review.assess_principle").set_value("stand_beside")
    at.number_input(key="review.assess_score").set_value(4)
    at.button(key="review.assess_submit").click().run()
    assert [e.value for e in at.error] == [t("review.error.reason_required", "da")]
    at.text_area(key="review.assess_reason").input("Hun fulgte borgerens tempo.")
    at.button(key="review.assess_submit").click().run()
    assert not at.error
    at.button(key="review.confirm_coach").click().run()
    assert t("review.confirmed", "da", n=2) in page_text(at)

    # the practitioner's review page: the comment inline at turn 1, the override listed
    mine = open_review(anna, sid)
    text = page_text(mine)
    assert "Godt åbent spørgsmål – du gav hende ordet." in text
    table = mine.dataframe[0].value
    assert "Hun fulgte borgerens tempo." in table.to_string()

    # the component the practise page calls
    def notes_script() -> None:
        import streamlit as st

        from app_pages import shell
        from app_pages.components.review_notes import render_review_notes

        viewer = shell.current_user()
        render_review_notes(st.session_state["sid"], viewer, "en")

    comp = AppTest.from_function(notes_script, default_timeout=TIMEOUT)
    comp.session_state["shell.user_id"] = anna.id
    comp.session_state["sid"] = sid
    comp.run()
    assert not comp.exception, comp.exception
    shown = "\n".join(m.value for m in comp.markdown) + "\n".join(c.value for c in comp.caption)
    assert "Godt åbent spørgsmål" in shown
    assert "On turn 1" in shown
    title = principle_titles("en")["stand_beside"]
    assert f"**Sofie** scores *{title}* **4** (the coach: 2)" in shown
    assert "Reason: Hun fulgte borgerens tempo." in shown
    assert "agrees with the coach on 2 principles" in shown

    # someone else running the component sees nothing
    bo = make_user(svc, "bo")
    comp2 = AppTest.from_function(notes_script, default_timeout=TIMEOUT)
    comp2.session_state["shell.user_id"] = bo.id
    comp2.session_state["sid"] = sid
    comp2.run()
    assert not comp2.exception
    assert not comp2.markdown


def test_practitioner_shares_from_the_review_page(team) -> None:
    svc, sup, anna, _sid = team
    fresh = make_session(svc, anna, title="Ikke delt endnu")
    at = open_review(sup)
    assert "Ikke delt endnu" not in page_text(at)
    mine = open_review(anna, fresh)
    mine.button(key=f"notes.share.{fresh}").click().run()
    assert not mine.exception, mine.exception
    assert "Sofie" in page_text(mine)
    at = open_review(sup)
    assert "Ikke delt endnu" in page_text(at)


def test_agreement_view_for_supervisor(team) -> None:
    svc, sup, _anna, sid = team
    reviews = ReviewService(svc.db)
    reviews.assess(sup, sid, "stand_beside", 5, "klart bedre end coachen vurderer")
    reviews.confirm_coach(sup, sid)
    at = open_review(sup)
    table = at.dataframe[0].value
    titles = principle_titles("da")
    rows = {r[0]: r for r in table.itertuples(index=False)}
    rows = {pid: rows[titles[pid]] for pid in titles if titles[pid] in rows}
    assert set(rows) == {"meet_where_they_are", "stand_beside", "trust_not_suspicion"}
    assert rows["stand_beside"][2] == 0
    assert rows["meet_where_they_are"][2] == 100
    assert rows["stand_beside"][3] == pytest.approx(2.7)
    at.segmented_control(key="review.period").set_value("week").run()
    assert not at.exception
