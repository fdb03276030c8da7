"""Classroom: open a class, join with a code, live dashboard, fishbowl with consent,
anonymised debrief, CSV/PDF report, and who may see what (``test_*access*``)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from practice.access import AccessDenied
from practice.classroom import (
    CODE_ALPHABET,
    CODE_LENGTH,
    ClassroomError,
    ClassroomService,
    join_link,
)
from practice.db import ReportRow, TurnRow, User
from practice.services import build_services
from practice.settings import load_settings


@pytest.fixture
def svc():
    services = build_services(load_settings())
    yield services
    services.db.dispose()


@pytest.fixture
def rooms(svc) -> ClassroomService:
    return ClassroomService(svc.db, svc.practice, secret_dir=svc.settings.data_dir)


@pytest.fixture
def scenario_id(svc) -> str:
    return sorted(svc.library().scenarios)[0]


def make_user(svc, username: str, role: str = "practitioner", display: str | None = None) -> User:
    with svc.db.Session() as s:
        user = User(
            username=username,
            display_name=display or username.title(),
            role=role,
            password_hash="x",
        )
        s.add(user)
        s.commit()
        return user


def add_report(
    svc, session_id: str, scores: dict[str, int], evidence=(), overall: float = 60.0
) -> None:
    report = {
        "status": "ok",
        "overall": overall,
        "principles": [
            {
                "id": pid,
                "title": pid.replace("_", " "),
                "score": score,
                "insufficient_evidence": False,
                "evidence": [e for e in evidence if e["principle"] == pid],
            }
            for pid, score in scores.items()
        ],
    }
    with svc.db.Session() as s:
        s.add(
            ReportRow(
                session_id=session_id,
                rubric_version="t",
                overall=overall,
                report_json=json.dumps(report),
            )
        )
        s.commit()


def test_open_class_gives_short_readable_code_and_link(svc, rooms, scenario_id) -> None:
    edu = make_user(svc, "edu", "educator")
    info = rooms.open_class(edu, scenario_id)
    assert len(info.code) == CODE_LENGTH
    assert set(info.code) <= set(CODE_ALPHABET)
    assert not set(info.code) & set("01OIL")
    assert info.title == svc.library().get(scenario_id).title
    assert join_link("http://host:8501/", info.code) == f"http://host:8501/join?join={info.code}"
    second = rooms.open_class(edu, scenario_id, "Hold B")
    assert second.code != info.code
    assert rooms.list_classes(edu)[0].title == "Hold B"


def test_practitioner_access_cannot_open_a_class(svc, rooms, scenario_id) -> None:
    for role in ("practitioner", "supervisor", "admin"):
        with pytest.raises(AccessDenied):
            rooms.open_class(make_user(svc, f"u_{role}", role), scenario_id)


def test_students_join_with_code_and_practise_the_class_scenario(svc, rooms, scenario_id) -> None:
    edu = make_user(svc, "edu", "educator")
    info = rooms.open_class(edu, scenario_id)
    signed_in = make_user(svc, "anna")
    guest = rooms.guest_join(info.code.lower(), "  Bo   B.  ")
    assert guest.display_name == "Bo B."
    assert guest.password_hash is None
    _, sid_a = rooms.join(signed_in, info.code)
    _, sid_b = rooms.join(
        guest, f" {info.code[:3]}-{info.code[3:]} "
    )  # forgiving about case and dashes
    assert sid_a != sid_b
    view = svc.practice.view(guest, sid_b)
    assert view.info.scenario_id == scenario_id
    with svc.db.Session() as s:
        from practice.db import PracticeSession

        assert s.get(PracticeSession, sid_b).class_id == info.id
    # joining again (reload, second device) resumes the same conversation
    assert rooms.join(guest, info.code)[1] == sid_b
    with pytest.raises(ClassroomError, match="bad_code"):
        rooms.join(signed_in, "ZZZZZZ")
    with pytest.raises(ClassroomError, match="no_name"):
        rooms.guest_join(info.code, "   ")
    rooms.set_status(edu, info.id, "closed")
    with pytest.raises(ClassroomError, match="closed"):
        rooms.join(make_user(svc, "late"), info.code)
    with pytest.raises(ClassroomError, match="closed"):
        rooms.guest_join(info.code, "Late Guest")
    assert rooms.join(guest, info.code)[1] == sid_b  # members may come back to a closed class


def test_guest_token_round_trip_and_forgery(svc, rooms, scenario_id) -> None:
    edu = make_user(svc, "edu", "educator")
    info = rooms.open_class(edu, scenario_id)
    guest = rooms.guest_join(info.code, "Cille")
    token = rooms.guest_token(guest)
    assert rooms.user_from_token(token).id == guest.id
    # a fresh service over the same data folder (another worker process) accepts it too
    again = ClassroomService(svc.db, svc.practice, secret_dir=svc.settings.data_dir)
    assert again.user_from_token(token).id == guest.id
    uid, _, sig = token.partition(".")
    assert rooms.user_from_token(f"{uid}.{'0' * len(sig)}") is None
    assert rooms.user_from_token("garbage") is None
    # a token never signs anyone into a real (password) account, even with a valid signature
    real = make_user(svc, "realuser")
    assert rooms.user_from_token(rooms.guest_token(real)) is None


def exchange(svc, user, sid: str, text: str, trust: float = 0.5) -> None:
    """A practitioner turn through the service, and a scripted citizen reply (no engine)."""
    svc.practice.add_practitioner_turn(user, sid, text)
    n = len(svc.practice.view(user, sid).turns)
    _turn(svc, sid, n, "citizen", "Mm.", trust)


def _class_with_two_students(svc, rooms, scenario_id):
    edu = make_user(svc, "edu", "educator")
    info = rooms.open_class(edu, scenario_id)
    anna = make_user(svc, "anna", display="Anna Andersen")
    bo = rooms.guest_join(info.code, "Bo Bech")
    _, sid_a = rooms.join(anna, info.code, consent=True)
    _, sid_b = rooms.join(bo, info.code)
    return edu, info, anna, bo, sid_a, sid_b


def test_dashboard_shows_progress_and_score_distribution(svc, rooms, scenario_id) -> None:
    edu, info, anna, bo, sid_a, sid_b = _class_with_two_students(svc, rooms, scenario_id)
    board = rooms.dashboard(edu, info.id)
    assert (board.joined, board.started, board.ended, board.total_turns) == (2, 2, 0, 0)
    exchange(svc, anna, sid_a, "Hej, hvordan har du det i dag?")
    exchange(svc, anna, sid_a, "Hvad er vigtigst for dig lige nu?")
    exchange(svc, bo, sid_b, "Hvad vil du gerne have ud af i dag?")
    board = rooms.dashboard(edu, info.id)
    assert {s.number: s.turns for s in board.students} == {1: 2, 2: 1}
    assert all(s.trust is not None for s in board.students)
    # ending with a report moves the student to "ended" and fills the distribution
    with svc.db.Session() as s:
        from practice.db import PracticeSession

        s.get(PracticeSession, sid_a).status = "ended"
        s.commit()
    add_report(svc, sid_a, {"stand_beside": 4, "resources_first": 2})
    add_report(svc, sid_b, {"stand_beside": 4, "resources_first": 5})
    board = rooms.dashboard(edu, info.id)
    assert board.ended == 1
    assert board.distribution["stand_beside"] == {1: 0, 2: 0, 3: 0, 4: 2, 5: 0}
    assert board.distribution["resources_first"][2] == 1
    assert board.distribution["resources_first"][5] == 1
    assert board.mean_scores()["resources_first"] == pytest.approx(3.5)
    assert board.tentative == {}
    # a short conversation's scores count too, flagged as tentative
    with svc.db.Session() as s:
        s.add(
            ReportRow(
                session_id=sid_b,
                rubric_version="t",
                overall=50,
                report_json=json.dumps(
                    {
                        "status": "ok",
                        "overall": 50,
                        "principles": [
                            {
                                "id": "stand_beside",
                                "title": "x",
                                "score": 2,
                                "insufficient_evidence": True,
                            }
                        ],
                    }
                ),
            )
        )
        s.commit()
    board = rooms.dashboard(edu, info.id)
    assert board.distribution["stand_beside"] == {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}
    assert board.tentative == {"stand_beside": 1}


def test_dashboard_and_csv_are_anonymised_by_default(svc, rooms, scenario_id) -> None:
    edu, info, *_ = _class_with_two_students(svc, rooms, scenario_id)
    board = rooms.dashboard(edu, info.id)
    aliases = [s.alias for s in board.students]
    assert all(a.isdigit() for a in aliases)
    assert len(set(aliases)) == 2
    assert aliases == [s.alias for s in rooms.dashboard(edu, info.id).students]  # stable
    text = rooms.report_csv(edu, info.id).decode("utf-8-sig")
    assert "Anna" not in text
    assert "Bo Bech" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["student"] for r in rows] == aliases
    named = rooms.report_csv(edu, info.id, names=True).decode("utf-8-sig")
    assert "Anna Andersen" in named
    assert "Bo Bech" in named


def test_educator_access_only_own_classes(svc, rooms, scenario_id) -> None:
    edu, info, anna, bo, sid_a, _ = _class_with_two_students(svc, rooms, scenario_id)
    other = make_user(svc, "other_edu", "educator")
    other_info = rooms.open_class(other, scenario_id)
    for call in (
        lambda: rooms.dashboard(other, info.id),
        lambda: rooms.debrief(other, info.id),
        lambda: rooms.report_csv(other, info.id),
        lambda: rooms.fishbowl(other, info.id),
        lambda: rooms.set_fishbowl(other, info.id, sid_a),
        lambda: rooms.set_status(other, info.id, "closed"),
    ):
        with pytest.raises(AccessDenied):
            call()
    assert [c.id for c in rooms.list_classes(other)] == [other_info.id]
    # the data layer: the other educator cannot view the students' sessions either
    with pytest.raises(AccessDenied):
        svc.practice.view(other, sid_a)
    # a session the student holds outside the class stays private even from their educator
    private = svc.practice.start(anna, scenario_id).info.id
    with pytest.raises(AccessDenied):
        svc.practice.view(edu, private)
    assert private not in {s.session_id for s in rooms.dashboard(edu, info.id).students}
    # and a session in another educator's class cannot be put into this class's fishbowl
    _, foreign = rooms.join(make_user(svc, "cai"), other_info.code, consent=True)
    with pytest.raises(AccessDenied):
        rooms.set_fishbowl(edu, info.id, foreign)
    # students cannot see each other's conversations
    with pytest.raises(AccessDenied):
        svc.practice.view(bo, sid_a)


def test_fishbowl_needs_consent_and_stops_when_withdrawn(svc, rooms, scenario_id) -> None:
    edu, info, anna, bo, sid_a, sid_b = _class_with_two_students(svc, rooms, scenario_id)
    assert [s.session_id for s in rooms.fishbowl_candidates(edu, info.id)] == [sid_a]
    with pytest.raises(AccessDenied):
        rooms.set_fishbowl(edu, info.id, sid_b)  # Bo did not consent
    rooms.set_fishbowl(edu, info.id, sid_a)
    exchange(svc, anna, sid_a, "Hvad tænker du selv?")
    shown = rooms.fishbowl(edu, info.id)
    assert shown is not None
    assert [t.speaker for t in shown.turns] == ["citizen", "practitioner", "citizen"]
    rooms.set_consent(anna, info.id, False)
    assert rooms.fishbowl(edu, info.id) is None
    assert rooms.get_class(edu, info.id).fishbowl_session_id is None
    rooms.set_consent(bo, info.id, True)
    rooms.set_fishbowl(edu, info.id, sid_b)
    assert rooms.fishbowl(edu, info.id).info.id == sid_b
    with pytest.raises(AccessDenied):
        rooms.set_consent(make_user(svc, "stranger"), info.id, True)


def _turn(svc, sid, idx, speaker, text, trust=None, meta=None):
    with svc.db.Session() as s:
        s.add(
            TurnRow(
                session_id=sid, idx=idx, speaker=speaker, text=text, trust=trust, meta=meta or {}
            )
        )
        s.commit()


def test_debrief_best_moments_and_pitfalls_are_anonymous(svc, rooms, scenario_id) -> None:
    edu, info, anna, bo, sid_a, sid_b = _class_with_two_students(svc, rooms, scenario_id)
    with svc.db.Session() as s:  # replace the openings with a scripted conversation
        s.query(TurnRow).filter(TurnRow.session_id.in_([sid_a, sid_b])).delete()
        s.commit()
    _turn(svc, sid_a, 0, "citizen", "Jeg ved ikke, hvorfor jeg er her.", 0.30)
    _turn(svc, sid_a, 1, "practitioner", "Du skal udfylde skemaet først.")
    _turn(svc, sid_a, 2, "citizen", "Nå.", 0.20, {"triggers": ["demand"]})
    _turn(svc, sid_a, 3, "practitioner", "Hvad er vigtigst for dig lige nu?")
    _turn(svc, sid_a, 4, "citizen", "Min søn.", 0.45)
    _turn(svc, sid_b, 0, "citizen", "Hej.", 0.30)
    _turn(svc, sid_b, 1, "practitioner", "Det lyder som om, det har været hårdt.")
    _turn(svc, sid_b, 2, "citizen", "Ja, det har det.", 0.70)
    _turn(svc, sid_b, 3, "practitioner", "Du skal møde op mandag.")
    _turn(svc, sid_b, 4, "citizen", "Okay.", 0.60, {"triggers": ["demand"]})
    evid_a = [
        {
            "principle": "stand_beside",
            "turn": 1,
            "quote": "Du skal udfylde",
            "polarity": "against",
            "indicator": "ci_orders",
        },
        {
            "principle": "stand_beside",
            "turn": 3,
            "quote": "Hvad er vigtigst",
            "polarity": "for",
            "indicator": "ind_asks",
        },
    ]
    evid_b = [
        {
            "principle": "stand_beside",
            "turn": 3,
            "quote": "Du skal møde op",
            "polarity": "against",
            "indicator": "ci_orders",
        },
    ]
    add_report(svc, sid_a, {"stand_beside": 3}, evid_a)
    add_report(svc, sid_b, {"stand_beside": 3}, evid_b)
    d = rooms.debrief(edu, info.id, labels={"ci_orders": "Giver ordrer"})
    assert d.best_moments[0].text == "Det lyder som om, det har været hårdt."
    assert d.best_moments[0].trust_delta == pytest.approx(0.40)
    assert d.best_moments[1].text == "Hvad er vigtigst for dig lige nu?"
    assert d.best_moments[1].trust_delta == pytest.approx(0.25)
    assert all("skal" not in m.text for m in d.best_moments)  # trust fell after those
    top = d.pitfalls[0]
    assert (top.label, top.count, top.students) in {("Giver ordrer", 2, 2), ("demand", 2, 2)}
    assert {(p.kind, p.id) for p in d.pitfalls} == {
        ("counter_indicator", "ci_orders"),
        ("trigger", "demand"),
    }
    blob = json.dumps(
        [m.__dict__ for m in d.best_moments] + [p.__dict__ for p in d.pitfalls], ensure_ascii=False
    )
    for secret in ("Anna", "Bo Bech", anna.id, bo.id):
        assert secret not in blob
    pdf = rooms.report_pdf(edu, info.id, "da", labels={"ci_orders": "Giver ordrer"})
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000


def test_pdf_report_handles_danish_and_empty_class(svc, rooms, scenario_id) -> None:
    edu = make_user(svc, "edu", "educator")
    info = rooms.open_class(edu, scenario_id, "Øvelse – æøå “citat”")
    for lang in ("da", "en"):
        pdf = rooms.report_pdf(edu, info.id, lang)
        assert pdf.startswith(b"%PDF")


def test_concurrent_joins_one_conversation_per_student(svc, rooms, scenario_id) -> None:
    from concurrent.futures import ThreadPoolExecutor

    edu = make_user(svc, "edu", "educator")
    info = rooms.open_class(edu, scenario_id)
    students = [rooms.guest_join(info.code, f"Elev {i}") for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        same = list(pool.map(lambda _: rooms.join(students[0], info.code)[1], range(6)))
        many = list(pool.map(lambda u: rooms.join(u, info.code)[1], students))
    assert len(set(same)) == 1  # a double click (or two tabs) never starts two conversations
    assert len(set(many)) == 6
    assert many[0] == same[0]
    assert rooms.dashboard(edu, info.id).joined == 6
