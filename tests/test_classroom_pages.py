"""The classroom, join and search pages (Streamlit AppTest), including who may see what
on the pages (``test_*access*`` / ``test_*cannot_see*``)."""

from __future__ import annotations

import json

from app_test_helpers import APP, make_user, sign_in
from streamlit.testing.v1 import AppTest

from practice.classroom import ClassroomService
from practice.db import ClassMember, PracticeSession, ReportRow, TurnRow, User
from practice.services import build_services
from practice.settings import load_settings

TIMEOUT = 120


def services():
    return build_services(load_settings())


def rooms(svc) -> ClassroomService:
    return ClassroomService(svc.db, svc.practice, secret_dir=svc.settings.data_dir)


def page(
    path: str, *, username: str | None = None, role: str = "practitioner", **params: str
) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if username:
        sign_in(at, username, role)
    at.switch_page(path)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.info] + [e.value for e in at.warning] + [e.value for e in at.error]
    )
    parts += [e.value for e in at.subheader] + [e.value for e in at.title]
    return "\n".join(str(p) for p in parts)


def test_educator_opens_a_class_and_sees_code_and_dashboard() -> None:
    at = page("app_pages/classroom.py", username="edna", role="educator")
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="classroom.new_title").input("Hold 3B")
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception, at.exception
    svc = services()
    edna = make_user("edna", "educator")
    classes = rooms(svc).list_classes(edna)
    assert [c.title for c in classes] == ["Hold 3B"]
    code = classes[0].code
    assert code in texts(at)
    assert f"/join?join={code}" in texts(at)
    assert at.query_params["class"] == classes[0].id
    # the live dashboard shows the metrics (nobody has joined yet)
    assert [m.value for m in at.metric][:4] == ["0", "0", "0", "0"]


def test_classroom_page_access_only_for_educators_and_own_classes() -> None:
    svc = services()
    edna = make_user("edna", "educator")
    info = rooms(svc).open_class(edna, sorted(svc.library().scenarios)[0], "Ednas hold")
    # a practitioner gets no classroom page in the navigation and no class data
    at = page("app_pages/classroom.py", username="pia", role="practitioner", **{"class": info.id})
    at.run()
    assert info.code not in texts(at)
    # another educator cannot open Edna's class through the URL
    at = page("app_pages/classroom.py", username="olga", role="educator", **{"class": info.id})
    at.run()
    assert not at.exception, at.exception
    assert info.code not in texts(at)
    assert "Ednas hold" not in texts(at)


def test_guest_joins_with_name_and_consent_then_practises() -> None:
    svc = services()
    edna = make_user("edna", "educator")
    info = rooms(svc).open_class(edna, sorted(svc.library().scenarios)[0])
    at = page("app_pages/join.py", join=info.code.lower())
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="join.name").input("Sofie S")
    at.checkbox(key="join.consent").check()
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    with svc.db.Session() as s:
        guest = s.query(User).filter(User.display_name == "Sofie S").one()
        member = s.query(ClassMember).filter_by(class_id=info.id, user_id=guest.id).one()
        session = s.query(PracticeSession).filter_by(class_id=info.id, owner_id=guest.id).one()
    assert member.fishbowl_consent is True
    assert guest.password_hash is None
    token = at.query_params["as"]
    assert rooms(svc).user_from_token(token).id == guest.id
    # the conversation is on the page, and the student can withdraw consent
    assert at.chat_input(key="join.input") is not None
    at.toggle(key="join.consent_toggle").set_value(False)
    at.run()
    with svc.db.Session() as s:
        assert s.get(ClassMember, member.id).fishbowl_consent is False
    # a new browser session with only the link resumes the same conversation
    again = page("app_pages/join.py", join=info.code, **{"as": token})
    again.run()
    assert not again.exception, again.exception
    assert again.chat_input(key="join.input") is not None
    assert rooms(svc).join(guest, info.code)[1] == session.id


def test_join_page_bad_code() -> None:
    at = page("app_pages/join.py", join="NOPE99")
    at.run()
    assert not at.exception, at.exception
    assert at.error
    assert at.text_input(key="join.code_input") is not None


def test_dashboard_page_is_anonymised_by_default() -> None:
    svc = services()
    edna = make_user("edna", "educator")
    r = rooms(svc)
    info = r.open_class(edna, sorted(svc.library().scenarios)[0])
    anna = make_user("anna", display_name="Anna Andersen")
    _, sid = r.join(anna, info.code, consent=True)
    with svc.db.Session() as s:
        s.add(
            TurnRow(session_id=sid, idx=1, speaker="practitioner", text="Hvad er vigtigst for dig?")
        )
        s.add(
            TurnRow(session_id=sid, idx=2, speaker="citizen", text="Min søn.", trust=0.6, meta={})
        )
        s.get(PracticeSession, sid).status = "ended"
        report = {
            "status": "ok",
            "overall": 70,
            "principles": [
                {
                    "id": "stand_beside",
                    "title": "Stå ved siden af",
                    "score": 4,
                    "insufficient_evidence": False,
                    "evidence": [],
                }
            ],
        }
        s.add(
            ReportRow(
                session_id=sid, rubric_version="t", overall=70, report_json=json.dumps(report)
            )
        )
        s.commit()
    at = page("app_pages/classroom.py", username="edna", role="educator", **{"class": info.id})
    at.run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    shown = " ".join(str(v) for v in frame.to_numpy().ravel())
    assert "Anna" not in shown
    assert "Studerende" in shown or "Student" in shown
    assert [m.value for m in at.metric][:4] == ["1", "1", "1", "1"]
    assert "Anna" not in texts(at)
    # names only when the educator turns them on for their own screen
    at.toggle(key="classroom.names").set_value(True)
    at.run()
    shown = " ".join(str(v) for v in at.dataframe[0].value.to_numpy().ravel())
    assert "Anna Andersen" in shown


def test_search_page_results_access(monkeypatch) -> None:
    monkeypatch.setenv("RELPRACTICE_SEARCH_INDEX", "sync")
    svc = services()
    pia = make_user("pia")
    bo = make_user("bo")
    sessions = {}
    for owner, text in (
        (pia, "Hvad er vigtigst for dig lige nu?"),
        (bo, "Hvad betyder mest for dig i dag?"),
    ):
        with svc.db.Session() as s:
            row = PracticeSession(owner_id=owner.id, scenario_id="x", language="da", status="ended")
            s.add(row)
            s.flush()
            s.add(
                TurnRow(
                    session_id=row.id,
                    idx=0,
                    speaker="citizen",
                    text="Jeg ved det ikke.",
                    trust=0.3,
                    meta={},
                )
            )
            s.add(TurnRow(session_id=row.id, idx=1, speaker="practitioner", text=text, meta={}))
            s.add(
                TurnRow(
                    session_id=row.id,
                    idx=2,
                    speaker="citizen",
                    text="Min familie.",
                    trust=0.5,
                    meta={},
                )
            )
            s.commit()
            sessions[owner.username] = row.id
    at = page("app_pages/search.py", username="pia")
    at.run()
    assert not at.exception, at.exception
    at.text_area(key="search.query").input("Hvad er det vigtigste for dig?")
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Hvad er vigtigst for dig lige nu?" in shown
    assert "Hvad betyder mest for dig i dag?" not in shown  # Bo's turn: not Pia's to see


def test_signed_in_student_joins_as_themselves_and_guest_sees_only_the_join_page() -> None:
    svc = services()
    edna = make_user("edna", "educator")
    info = rooms(svc).open_class(edna, sorted(svc.library().scenarios)[0])
    at = page("app_pages/join.py", username="pia", join=info.code)
    at.run()
    assert not at.exception, at.exception
    assert "Pia" in texts(at)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    pia = make_user("pia")
    with svc.db.Session() as s:
        assert s.query(PracticeSession).filter_by(class_id=info.id, owner_id=pia.id).count() == 1
        assert s.query(User).filter(User.username.like("guest-%")).count() == 0
    assert "as" not in at.query_params  # a real account needs no token in the link
    # a name-only guest gets the join page and nothing else (no sessions list, no search)
    guest = rooms(svc).guest_join(info.code, "Gæst")
    g = AppTest.from_file(APP, default_timeout=TIMEOUT)
    g.session_state["shell.user_id"] = guest.id
    g.switch_page("app_pages/search.py")
    g.run()
    assert not g.exception, g.exception
    shown = texts(g)
    assert "Find lignende øjeblikke" not in shown
    assert "Deltag i en klasse" in shown  # the join page, the guest's only page
