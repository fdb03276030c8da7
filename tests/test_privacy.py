"""Privacy: export all my data as JSON, delete it (database and search index), purge old
transcripts (retention), and API keys never reach the database or the logs. Runs on
SQLite and, with TEST_DATABASE_URL, on PostgreSQL too (see conftest)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import tomllib
from pathlib import Path

import pytest
from helpers_review import fast_hashing, make_class, make_session, make_user, services
from sqlalchemy import select, text

from practice import privacy
from practice.db import (
    Base,
    ClassMember,
    Comment,
    PracticeSession,
    ReportRow,
    ScoreOverride,
    SessionShare,
    TurnRow,
    User,
)
from practice.review import ReviewService
from practice.settings import REPO_ROOT


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def world():
    svc = services()
    sup = make_user(svc, "sofie", "supervisor")
    anna = make_user(svc, "anna", supervisor=sup)
    bo = make_user(svc, "bo", supervisor=sup)
    edu = make_user(svc, "eva", "educator")
    klass = make_class(svc, edu)
    anna_s = make_session(svc, anna)
    anna_class = make_session(svc, anna, class_id=klass)
    bo_s = make_session(svc, bo)
    with svc.db.Session() as s:
        s.add(SessionShare(session_id=anna_s, supervisor_id=sup.id))
        s.add(SessionShare(session_id=bo_s, supervisor_id=sup.id))
        s.add(ClassMember(class_id=klass, user_id=anna.id))
        s.commit()
    reviews = ReviewService(svc.db)
    reviews.add_comment(sup, anna_s, "Godt spørgsmål her.", turn_idx=1)
    reviews.add_comment(sup, bo_s, "Kommentar til Bo.", turn_idx=1)
    yield {
        "svc": svc,
        "sup": sup,
        "anna": anna,
        "bo": bo,
        "edu": edu,
        "class": klass,
        "anna_s": anna_s,
        "anna_class": anna_class,
        "bo_s": bo_s,
    }
    svc.db.dispose()


def count(svc, model, **where) -> int:
    with svc.db.Session() as s:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return len(s.execute(q).scalars().all())


def test_export_contains_all_my_data_and_nothing_of_others(world) -> None:
    svc, anna = world["svc"], world["anna"]
    data = json.loads(privacy.export_json(svc.db, anna))  # valid JSON, round-trips
    assert data["format"] == privacy.EXPORT_FORMAT
    assert data["user"]["username"] == "anna"
    assert "password_hash" not in data["user"]
    assert {s["id"] for s in data["sessions"]} == {world["anna_s"], world["anna_class"]}
    shared = next(s for s in data["sessions"] if s["id"] == world["anna_s"])
    assert [t["speaker"] for t in shared["turns"]][:2] == ["citizen", "practitioner"]
    assert shared["turns"][1]["text"]
    assert shared["reports"]
    assert "principles" in shared["reports"][0]["report"]
    assert [c["text"] for c in shared["comments"]] == ["Godt spørgsmål her."]
    assert [x["supervisor_id"] for x in shared["shared_with"]] == [world["sup"].id]
    assert [m["class_id"] for m in data["class_memberships"]] == [world["class"]]
    dump = json.dumps(data)
    assert world["bo_s"] not in dump
    assert "Kommentar til Bo." not in dump


def test_export_of_a_supervisor_includes_comments_written_on_others_sessions(world) -> None:
    data = privacy.export_user_data(world["svc"].db, world["sup"])
    assert sorted(c["text"] for c in data["comments_written"]) == [
        "Godt spørgsmål her.",
        "Kommentar til Bo.",
    ]
    assert data["sessions"] == []


def test_delete_removes_all_my_data_and_keeps_others(world) -> None:
    svc, anna = world["svc"], world["anna"]
    counts = privacy.delete_user_data(svc.db, anna, settings=svc.settings)
    assert counts["sessions"] == 2
    assert counts["turns"] >= 4
    assert counts["reports"] >= 1
    assert counts["comments"] == 1
    assert counts["shares"] == 1
    assert counts["class_memberships"] == 1
    assert count(svc, PracticeSession, owner_id=anna.id) == 0
    for model in (TurnRow, ReportRow, Comment, SessionShare, ScoreOverride):
        assert count(svc, model, session_id=world["anna_s"]) == 0
    assert count(svc, ClassMember, user_id=anna.id) == 0
    # the account remains (delete_account=False), the colleague's data is untouched
    assert count(svc, User, id=anna.id) == 1
    assert count(svc, PracticeSession, owner_id=world["bo"].id) == 1
    assert count(svc, Comment, session_id=world["bo_s"]) == 1
    assert privacy.export_user_data(svc.db, anna)["sessions"] == []


def test_delete_with_account_removes_the_user_row(world) -> None:
    svc = world["svc"]
    counts = privacy.delete_user_data(svc.db, world["sup"], delete_account=True)
    assert counts["account"] == 1
    assert count(svc, User, id=world["sup"].id) == 0
    assert count(svc, Comment) == 0  # both of the supervisor's comments
    assert count(svc, SessionShare) == 0
    with svc.db.Session() as s:
        assert s.get(User, world["anna"].id).supervisor_id is None
    # an educator with a class: the class goes, the students' sessions stay
    counts = privacy.delete_user_data(svc.db, world["edu"], delete_account=True)
    assert count(svc, PracticeSession, id=world["anna_class"]) == 1
    with svc.db.Session() as s:
        assert s.get(PracticeSession, world["anna_class"]).class_id is None


def test_delete_removes_search_index_entries(world) -> None:
    from practice.search import SearchIndex

    svc = world["svc"]
    index = SearchIndex.for_settings(svc.db, svc.settings)
    index.index_session(world["anna_s"])
    index.index_session(world["bo_s"])
    assert index.indexed_sessions([world["anna_s"], world["bo_s"]]) == {
        world["anna_s"],
        world["bo_s"],
    }
    counts = privacy.delete_user_data(svc.db, world["anna"], settings=svc.settings)
    assert counts["index_failures"] == 0
    assert index.indexed_sessions([world["anna_s"], world["bo_s"]]) == {world["bo_s"]}


def _age(svc, session_id: str, days: int) -> None:
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)
    with svc.db.Session() as s:
        s.execute(
            PracticeSession.__table__.update()
            .where(PracticeSession.id == session_id)
            .values(updated_at=old, created_at=old)
        )
        s.commit()


def test_retention_purges_only_old_transcripts(world) -> None:
    svc = world["svc"]
    _age(svc, world["anna_s"], 40)
    _age(svc, world["bo_s"], 10)
    assert privacy.purge_expired(svc.db, 0) == 0  # 0 keeps everything
    assert privacy.purge_expired(svc.db, 30, settings=svc.settings) == 1
    assert count(svc, PracticeSession, id=world["anna_s"]) == 0
    assert count(svc, TurnRow, session_id=world["anna_s"]) == 0
    assert count(svc, PracticeSession, id=world["bo_s"]) == 1
    assert count(svc, PracticeSession, id=world["anna_class"]) == 1


def test_retention_runs_at_startup_and_from_the_cli(world, monkeypatch, capsys) -> None:
    from practice.services import build_services
    from practice.settings import load_settings

    svc = world["svc"]
    _age(svc, world["anna_s"], 100)
    monkeypatch.setenv("RELPRACTICE_RETENTION_DAYS", "90")
    again = build_services(load_settings())  # a restart purges
    try:
        assert count(again, PracticeSession, id=world["anna_s"]) == 0
        assert count(again, PracticeSession, id=world["bo_s"]) == 1
    finally:
        again.db.dispose()
    _age(svc, world["bo_s"], 100)
    assert privacy.main(["purge"]) == 0
    assert "purged 1 sessions" in capsys.readouterr().out
    assert count(svc, PracticeSession, id=world["bo_s"]) == 0


def test_cli_export(world, capsys) -> None:
    assert privacy.main(["export", "anna"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["sessions"]) == 2
    assert privacy.main(["export", "nobody"]) == 1


SECRET = "sk-test-PRIVACY0123456789abcdefSECRET"


def _all_database_text(svc) -> str:
    """Every value in every table, as text (works on SQLite and PostgreSQL)."""
    parts: list[str] = []
    with svc.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_api_key_never_in_database_or_logs(world, monkeypatch, caplog) -> None:
    from base.llm import LLMBlocked, ScriptedModel, make_model, resolve_settings
    from citizen.llm_renderer import LLMRenderer, make_renderer

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("RELPRACTICE_LLM_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    svc = world["svc"]
    settings = resolve_settings({"model": "m"})
    assert settings.has_api_key
    logging.getLogger("relbase.llm").info("settings: %r %s", settings, settings.public())
    logging.getLogger("relbase.llm").warning("calling with key %s", SECRET)
    with pytest.raises(LLMBlocked) as blocked:  # the suite blocks real backends
        make_model(settings)
    assert SECRET not in str(blocked.value)
    with pytest.raises(LLMBlocked):
        make_renderer("openai")
    # a whole session through the LLM renderer (a ScriptedModel stands in for the endpoint)
    model = ScriptedModel(function=lambda msgs, info: "Jeg ved det ikke rigtig. Det er svært.")
    renderer = LLMRenderer(model, embedder=None)
    user = world["bo"]
    lib = svc.library()
    scenario_id = next(sid for sid, sc in lib.scenarios.items() if sc.language == "da")
    sid = svc.practice.start(user, scenario_id, backend="openai").info.id
    for line in ("Hej, hvordan har du det?", "Hvad er vigtigst for dig?"):
        svc.practice.send(user, sid, line, renderer)
    assert model.requests, "the scripted model was used"
    assert all(SECRET not in m.content for req in model.history for m in req)
    svc.db.dispose()  # flush everything to the file
    assert SECRET not in _all_database_text(svc)
    if svc.db.url.startswith("sqlite"):
        path = Path(svc.db.url.split("///", 1)[1])
        for f in path.parent.glob(path.name + "*"):  # the file, -wal, -shm
            assert SECRET.encode() not in f.read_bytes(), f
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert "calling with key" in logged  # the records were captured ...
    assert SECRET not in logged  # ... and redacted


def test_settings_page_offers_export_and_guarded_delete(world) -> None:
    from streamlit.testing.v1 import AppTest

    from base.i18n import t

    svc, anna = world["svc"], world["anna"]
    at = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=90
    )
    at.session_state["shell.user_id"] = anna.id
    at.run()
    at.switch_page("app_pages/settings.py").run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert t("privacy.export", "da") in labels
    # deleting without the confirmation word deletes nothing
    at.button(key="settings.privacy_delete").click().run()
    assert t("privacy.not_confirmed", "da") in [e.value for e in at.error]
    assert count(svc, PracticeSession, owner_id=anna.id) == 2
    at.text_input(key="settings.privacy_confirm").set_value("SLET").run()
    at.button(key="settings.privacy_delete").click().run()
    assert not at.exception, at.exception
    assert any("2" in s.value for s in at.success), [x.value for x in [*at.success, *at.error]]
    assert count(svc, PracticeSession, owner_id=anna.id) == 0
    assert count(svc, PracticeSession, owner_id=world["bo"].id) == 1


def test_streamlit_ships_private_by_default() -> None:
    """No usage statistics leave the machine and users get no developer toolbar (issue #13)."""
    cfg = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["toolbarMode"] == "viewer"
