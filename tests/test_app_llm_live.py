"""The Practise page with a language model: the citizen's reply streams in from an
OpenAI-compatible server on loopback (a scripted fake), a reply that breaks a guard twice
is replaced by the authored line, and the page says so. Nothing switches backend silently."""

from __future__ import annotations

import pytest
from app_test_helpers import signed_in_app
from llm_server import Step, closed_port, fake_openai

pytestmark = pytest.mark.allow_real_llm

GOOD = ["Det ", "er ", "ryggen. ", "Den ", "gør ", "ondt."]
COACHING = ["Godt spørgsmål! ", "Du kunne prøve ", "at spørge mere åbent, ", "som din coach."]


def _start_llm_session(monkeypatch: pytest.MonkeyPatch, base_url: str):
    monkeypatch.setenv("RELPRACTICE_LLM_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_MODEL", "test-model")
    at = signed_in_app()
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="practise.scenario").set_value("ledig-jonas-da").run()
    at.radio(key="practise.backend").set_value("openai").run()
    at.button(key="practise.start").click().run()
    assert not at.exception, at.exception
    return at


def _last_assistant(at) -> str:
    return " ".join(m.value for m in at.chat_message[-1].markdown)


def test_llm_reply_is_shown_and_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_openai(Step(tokens=GOOD)) as srv:
        at = _start_llm_session(monkeypatch, srv.base_url)
        at.chat_input(key="practise.input").set_value("Hvad fylder mest for dig?").run()
        assert not at.exception, at.exception
        assert srv.requests, "the page asked the model"
        at.run()  # a fresh rerun renders from the database
        assert _last_assistant(at).startswith("Det er ryggen. Den gør ondt.")


def test_drifting_model_is_replaced_by_the_authored_line_and_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from citizen.library import load_library

    authored = set(load_library().get("ledig-jonas-da").all_reply_lines())
    with fake_openai(Step(tokens=COACHING)) as srv:
        at = _start_llm_session(monkeypatch, srv.base_url)
        at.chat_input(key="practise.input").set_value("Hvad fylder mest for dig?").run()
        assert not at.exception, at.exception
        at.run()
        shown = _last_assistant(at)
        assert "Godt spørgsmål" not in shown
        assert any(line in shown for line in authored)
        captions = " ".join(c.value for c in at.caption)
        assert "offline" in captions or "forberedte" in captions


def test_dead_endpoint_keeps_the_text_and_does_not_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_openai(Step(tokens=GOOD)) as srv:
        at = _start_llm_session(monkeypatch, srv.base_url)
    # the server is gone now: the next turn cannot be answered
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    at.chat_input(key="practise.input").set_value("Hvad fylder mest for dig?").run()
    assert not at.exception, at.exception
    assert at.error, "the page says the reply failed"
    at.run()
    assert at.warning, "the pending turn is shown with a retry"
    assert at.button(key="practise.retry")
    users = [m for m in at.chat_message if m.name == "user"]
    assert " ".join(m.value for m in users[-1].markdown) == "Hvad fylder mest for dig?"
