"""Persistence: every turn is committed before the reply is shown; sessions survive an
app restart (a new process = new services over the same database) and can be resumed."""

from __future__ import annotations

import pytest

from practice.access import AccessDenied
from practice.db import PracticeSession, TurnRow
from practice.services import build_services
from practice.sessions import MAX_TURN_CHARS, SessionError, clean_text
from practice.settings import load_settings


@pytest.fixture
def svc():
    services = build_services(load_settings())
    yield services
    services.db.dispose()


@pytest.fixture
def scenario_id(svc) -> str:
    lib = svc.library()
    assert lib.scenarios, f"the shipped library must load: {[p.line() for p in lib.errors]}"
    return sorted(lib.scenarios)[0]


def test_start_stores_opening_turn_and_state(svc, scenario_id) -> None:
    user = svc.practice.local_user()
    view = svc.practice.start(user, scenario_id)
    assert view.info.status == "active"
    assert [t.speaker for t in view.turns] == ["citizen"]
    assert view.turns[0].text == svc.library().get(scenario_id).opening_line
    assert '"trust"' in view.state_json


def test_practitioner_turn_is_committed_before_the_reply(svc, scenario_id) -> None:
    user = svc.practice.local_user()
    sid = svc.practice.start(user, scenario_id).info.id
    svc.practice.add_practitioner_turn(user, sid, "Hvad tænker du selv om det hele?")
    # a second connection sees the committed practitioner turn although no reply exists yet
    with svc.db.Session() as s:
        rows = s.query(TurnRow).filter_by(session_id=sid).order_by(TurnRow.idx).all()
    assert [r.speaker for r in rows] == ["citizen", "practitioner"]
    view = svc.practice.view(user, sid)
    assert view.pending == "Hvad tænker du selv om det hele?"


def test_failed_reply_keeps_the_practitioner_text(svc, scenario_id) -> None:
    class DeadRenderer:
        name = "dead"

        def stream(self, scenario, decision, history):
            raise ConnectionError("endpoint down")
            yield ""  # pragma: no cover

    user = svc.practice.local_user()
    sid = svc.practice.start(user, scenario_id).info.id
    svc.practice.add_practitioner_turn(user, sid, "What matters most to you right now?")
    state_before = svc.practice.view(user, sid).state_json
    with pytest.raises(ConnectionError):
        "".join(svc.practice.reply_stream(user, sid, DeadRenderer()))
    view = svc.practice.view(user, sid)
    assert view.pending == "What matters most to you right now?"
    assert view.state_json == state_before  # the engine state was not half-updated
    # retry with the offline renderer produces the reply and clears the pending turn
    "".join(svc.practice.reply_stream(user, sid))
    view = svc.practice.view(user, sid)
    assert view.pending is None
    assert [t.speaker for t in view.turns] == ["citizen", "practitioner", "citizen"]


def test_restart_and_resume(scenario_id) -> None:
    first = build_services(load_settings())
    user = first.practice.local_user()
    sid = first.practice.start(user, scenario_id).info.id
    for text in (
        "Hej, velkommen. Hvordan har du det i dag?",
        "Det lyder tungt.",
        "Hvad er vigtigst for dig?",
    ):
        first.practice.send(user, sid, text)
    before = first.practice.view(user, sid)
    first.db.dispose()  # the process "dies"

    second = build_services(load_settings())  # a fresh process over the same database
    user2 = second.practice.local_user()
    assert user2.id == user.id
    after = second.practice.view(user2, sid)
    assert after.turns == before.turns
    assert after.state_json == before.state_json
    assert [s.id for s in second.practice.list_sessions(user2)] == [sid]
    # and the conversation simply continues
    reply = second.practice.send(user2, sid, "Fortæl mig mere.")
    assert reply.speaker == "citizen"
    assert len(second.practice.view(user2, sid).turns) == 9
    second.db.dispose()


def test_resume_after_crash_between_turn_and_reply(scenario_id) -> None:
    first = build_services(load_settings())
    user = first.practice.local_user()
    sid = first.practice.start(user, scenario_id).info.id
    first.practice.add_practitioner_turn(user, sid, "Hvad håber du på?")
    first.db.dispose()  # killed before the reply was produced
    second = build_services(load_settings())
    view = second.practice.view(user, sid)
    assert view.pending == "Hvad håber du på?"
    "".join(second.practice.reply_stream(user, sid))
    assert second.practice.view(user, sid).turns[-1].speaker == "citizen"
    second.db.dispose()


def test_end_scores_and_stores_a_report(svc, scenario_id) -> None:
    user = svc.practice.local_user()
    sid = svc.practice.start(user, scenario_id).info.id
    svc.practice.send(user, sid, "Hvad vil du gerne have ud af i dag?")
    report_json = svc.practice.end(user, sid)
    view = svc.practice.view(user, sid)
    assert view.info.status == "ended"
    assert view.report_json == report_json
    assert '"rubric_version"' in report_json
    with pytest.raises(SessionError, match="ended"):
        svc.practice.add_practitioner_turn(user, sid, "one more")


def test_another_user_cannot_see_or_write_to_a_session(svc, scenario_id) -> None:
    from practice.db import User

    owner = svc.practice.local_user()
    sid = svc.practice.start(owner, scenario_id).info.id
    with svc.db.Session() as s:
        other = User(username="other", display_name="Other", role="practitioner")
        s.add(other)
        s.commit()
    with pytest.raises(AccessDenied):
        svc.practice.view(other, sid)
    with pytest.raises(AccessDenied):
        svc.practice.add_practitioner_turn(other, sid, "hello")
    assert svc.practice.list_sessions(other) == []


def test_branch_keeps_both_sessions(svc, scenario_id) -> None:
    user = svc.practice.local_user()
    sid = svc.practice.start(user, scenario_id).info.id
    for text in ("Hvordan går det?", "Du skal møde op på jobcentret.", "Hvad er vigtigt for dig?"):
        svc.practice.send(user, sid, text)
    branch = svc.practice.branch(user, sid, 2)
    assert branch.info.parent_id == sid
    assert branch.info.branch_turn == 2
    # kept: opening, turn 1, reply 1; the second practitioner turn is where we try again
    assert [t.speaker for t in branch.turns] == ["citizen", "practitioner", "citizen"]
    assert len(svc.practice.view(user, sid).turns) == 7
    svc.practice.send(user, branch.info.id, "Det lyder som om det har været hårdt.")
    with svc.db.Session() as s:
        assert s.query(PracticeSession).count() == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  hej  ", "hej"), ("a\x00b\x1bc", "abc"), ("linje1\nlinje2", "linje1\nlinje2")],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01"])
def test_clean_text_refuses_empty(raw: str) -> None:
    with pytest.raises(SessionError, match="empty"):
        clean_text(raw)


def test_clean_text_refuses_huge_input() -> None:
    with pytest.raises(SessionError, match="too_long"):
        clean_text("x" * (MAX_TURN_CHARS + 1))


def test_ending_a_session_without_practitioner_turns_gives_a_report(svc, scenario_id) -> None:
    user = svc.practice.local_user()
    sid = svc.practice.start(user, scenario_id).info.id
    report_json = svc.practice.end(user, sid)
    from coach.schema import CoachReport

    report = CoachReport.model_validate_json(report_json)
    assert report.overall is None
    assert svc.practice.view(user, sid).report_json == report_json
