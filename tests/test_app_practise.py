"""The Practise page, driven through Streamlit's AppTest: pick a scenario, hold a
three-turn conversation, end it and read the report. Widgets are found by key."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from practice.services import build_services
from practice.settings import load_settings

TIMEOUT = 90


@pytest.fixture
def app() -> AppTest:
    from app_test_helpers import signed_in_app

    return signed_in_app(timeout=TIMEOUT)


def _messages(at: AppTest) -> list[tuple[str, str]]:
    out = []
    for msg in at.chat_message:
        text = " ".join(m.value for m in msg.markdown)
        out.append((msg.name, text))
    return out


def test_three_turn_session_to_report(app: AppTest) -> None:
    at = app
    at.run()
    assert not at.exception, at.exception
    lib = build_services(load_settings()).library()
    danish = sorted(s.id for s in lib.scenarios.values() if s.language == "da")
    assert danish, "the library must have Danish scenarios"
    at.selectbox(key="practise.scenario").set_value(danish[0]).run()
    at.button(key="practise.start").click().run()
    assert not at.exception, at.exception
    opening = lib.get(danish[0]).opening_line
    assert _messages(at)[0] == ("assistant", opening)

    turns = [
        "Hej og velkommen. Hvad tænker du selv, vi skal bruge tiden på i dag?",
        "Det lyder som om, du har haft mange sagsbehandlere. Hvad har det betydet for dig?",
        "Hvad er vigtigst for dig lige nu?",
    ]
    for i, text in enumerate(turns, start=1):
        at.chat_input(key="practise.input").set_value(text).run()
        assert not at.exception, at.exception
        at.run()  # a fresh rerun renders the history from the database
        msgs = _messages(at)
        assert len(msgs) == 1 + 2 * i
        assert msgs[-2] == ("user", text)
        assert msgs[-1][0] == "assistant"
        assert msgs[-1][1]

    at.button(key="practise.end").click().run()
    assert not at.exception, at.exception
    page_text = " ".join(m.value for m in at.markdown) + " ".join(h.value for h in at.header)
    assert "Coachens rapport" in page_text
    # the report is stored and rendered: the overall score metric is on the page
    assert any(m.label for m in at.metric), "the report shows its overall score"


def test_english_ui_and_language_filter(app: AppTest) -> None:
    at = app
    at.run()
    at.selectbox(key="shell.lang_select").set_value("en").run()
    assert at.button(key="practise.start").label == "Start the conversation"
    at.segmented_control(key="practise.filter").set_value("en").run()
    options = at.selectbox(key="practise.scenario").options
    lib = build_services(load_settings()).library()
    english_titles = {s.title for s in lib.scenarios.values() if s.language == "en"}
    assert options
    assert all(any(title in o for title in english_titles) for o in options)


def test_broken_scenario_file_is_skipped_and_explained(app: AppTest, tmp_path, monkeypatch) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "broken.yaml").write_text("schema_version: 1\nid: Broken Id\n", encoding="utf-8")
    monkeypatch.setenv("RELPRACTICE_SCENARIO_DIRS", str(extra))
    at = app
    at.run()
    assert not at.exception, at.exception
    codes = " ".join(c.value for c in at.code)
    assert "broken.yaml" in codes
    assert "id" in codes
    assert at.selectbox(key="practise.scenario").options, "valid scenarios still load"
