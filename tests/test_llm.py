"""base.llm: the interface, ScriptedModel, settings, errors and the OpenAI-compatible
backend against tiny loopback servers (no network, no real model)."""

from __future__ import annotations

import logging
import time

import pytest
from llm_server import FakeOpenAI, Step, closed_port, error_step
from pydantic import BaseModel, Field

from base import llm
from base.llm import (
    LLMAuthError,
    LLMBlocked,
    LLMConfigError,
    LLMRateLimited,
    LLMResponseError,
    LLMSettings,
    LLMTimeout,
    LLMUnreachable,
    Message,
    OpenAICompatibleModel,
    ScriptedModel,
    check_connection,
    make_model,
    redact,
    resolve_settings,
)

KEY = "sk-test-Abc123Def456Ghi789Jkl"


class Verdict(BaseModel):
    score: int = Field(ge=1, le=5)
    reason: str


def _model(srv: FakeOpenAI, **kw: object) -> OpenAICompatibleModel:
    kw.setdefault("backoff_s", 0.01)
    return OpenAICompatibleModel(model="test-model", base_url=srv.base_url, api_key=KEY, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ScriptedModel


def test_scripted_model_replies_in_order_and_records_history() -> None:
    m = ScriptedModel("first reply", ["chunk-a", "chunk-b"])
    assert list(m.stream([Message("user", "one")])) == ["first ", "reply"]
    assert m.complete([("user", "two")], temperature=0.1, max_tokens=7) == "chunk-achunk-b"
    assert [msgs[-1].content for msgs in m.history] == ["one", "two"]
    assert m.requests[1].temperature == 0.1
    assert m.requests[1].max_tokens == 7
    with pytest.raises(RuntimeError, match="no reply queued"):
        m.complete([("user", "three")])


def test_scripted_model_function_and_errors() -> None:
    m = ScriptedModel(
        function=lambda msgs, info: f"echo {msgs[-1].content} json={info['json_mode']}"
    )
    m.enqueue(LLMTimeout("too slow"))
    with pytest.raises(LLMTimeout, match="too slow"):
        m.complete([("user", "x")])
    assert m.complete([("user", "hi")]) == "echo hi json=False"
    assert m.pending == 0


def test_scripted_model_delay_is_applied_per_chunk() -> None:
    m = ScriptedModel("a b c", delay_s=0.05)
    started = time.monotonic()
    assert m.complete([("user", "x")]) == "a b c"
    assert time.monotonic() - started >= 0.14


# --------------------------------------------------------------------------- complete_json


def test_complete_json_valid_first_time_uses_json_mode_and_schema_prompt() -> None:
    m = ScriptedModel('```json\n{"score": 4, "reason": "listened"}\n```')
    v = m.complete_json([Message("system", "You judge."), Message("user", "transcript")], Verdict)
    assert v == Verdict(score=4, reason="listened")
    req = m.requests[0]
    assert req.json_mode is True
    assert req.temperature == 0.0
    assert req.messages[0].role == "system"
    assert req.messages[0].content.startswith("You judge.")
    assert '"score"' in req.messages[0].content  # the JSON schema is in the prompt
    assert len(m.requests) == 1


def test_complete_json_repairs_once() -> None:
    m = ScriptedModel('{"score": 9, "reason": "x"}', '{"score": 3, "reason": "fixed"}')
    assert m.complete_json([("user", "judge")], Verdict) == Verdict(score=3, reason="fixed")
    assert len(m.requests) == 2
    repair = m.requests[1].messages
    assert repair[-2].role == "assistant"
    assert '"score": 9' in repair[-2].content
    assert "score" in repair[-1].content  # the validation error is shown to the model
    assert m.requests[1].json_mode is True


def test_complete_json_gives_up_after_one_repair() -> None:
    m = ScriptedModel("not json at all", '{"reason": "missing score"}', "never used")
    with pytest.raises(LLMResponseError, match="after one repair"):
        m.complete_json([("user", "judge")], Verdict)
    assert len(m.requests) == 2


# --------------------------------------------------------------------------- settings


def test_settings_precedence_env_then_secrets_then_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key-1234567890")
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.example/v1")
    monkeypatch.setenv("RELPRACTICE_LLM_BACKEND", "openai")
    s = resolve_settings()
    assert (s.backend, s.model, s.base_url) == ("openai", "env-model", "http://env.example/v1")
    assert s.api_key is not None
    assert s.api_key.get_secret_value() == "sk-env-key-1234567890"

    secrets = {"OPENAI_MODEL": "secret-model", "llm": {"base_url": "http://secret.example/v1"}}
    s = resolve_settings(secrets=secrets)
    assert (s.model, s.base_url) == ("secret-model", "http://secret.example/v1")

    s = resolve_settings({"model": "page-model", "api_key": "", "base_url": None}, secrets=secrets)
    assert s.model == "page-model"
    assert s.base_url == "http://secret.example/v1"  # None/blank never erase a lower layer
    assert s.api_key is not None
    assert s.api_key.get_secret_value() == "sk-env-key-1234567890"

    s = resolve_settings({"backend": "LLAMACPP", "gguf_path": "/models/x.gguf", "timeout_s": "12"})
    assert (s.backend, s.gguf_path, s.timeout_s) == ("llamacpp", "/models/x.gguf", 12.0)


def test_settings_defaults_to_offline() -> None:
    s = resolve_settings()
    assert s.backend == "offline"
    assert not s.has_api_key


def test_invalid_setting_names_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELPRACTICE_LLM_BACKEND", "gpt")
    with pytest.raises(LLMConfigError, match=r"RELPRACTICE_LLM_BACKEND.*offline, openai, llamacpp"):
        resolve_settings()
    with pytest.raises(LLMConfigError, match="Settings page"):
        resolve_settings({"backend": "openai", "timeout_s": -1})


def test_key_never_in_repr_dump_or_json() -> None:
    s = resolve_settings({"backend": "openai", "api_key": KEY})
    assert s.has_api_key
    for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump()), str(s.public())):
        assert KEY not in text
    assert "api_key" not in s.model_dump()
    assert s.public()["has_api_key"] is True
    with FakeOpenAI() as srv:
        m = _model(srv)
        assert KEY not in repr(m)


# --------------------------------------------------------------------------- make_model


def test_real_backends_blocked_in_tests() -> None:
    with pytest.raises(LLMBlocked, match="RELPRACTICE_BLOCK_REAL_LLM=1"):
        make_model(LLMSettings(backend="openai", api_key=KEY))  # type: ignore[arg-type]
    with pytest.raises(LLMBlocked):
        make_model(LLMSettings(backend="llamacpp", gguf_path="/x.gguf"))
    with pytest.raises(LLMConfigError, match="offline backend uses no language model"):
        make_model(LLMSettings())


@pytest.mark.allow_real_llm
def test_make_model_when_allowed() -> None:
    m = make_model(LLMSettings(backend="openai", base_url="http://127.0.0.1:9/v1"))
    assert isinstance(m, OpenAICompatibleModel)  # local endpoint: no key needed
    with pytest.raises(
        LLMConfigError, match=r"^No API key found – set OPENAI_API_KEY or enter one"
    ):
        make_model(LLMSettings(backend="openai"))
    with pytest.raises(LLMConfigError, match="RELPRACTICE_GGUF"):
        make_model(LLMSettings(backend="llamacpp"))
    local = make_model(LLMSettings(backend="llamacpp", gguf_path="/nonexistent/model.gguf"))
    with pytest.raises(LLMConfigError, match=r"llama-cpp-python|GGUF file not found"):
        local.complete([("user", "x")])


# --------------------------------------------------------------------------- the OpenAI-compatible backend


def test_streams_tokens_and_sends_json_mode_and_max_tokens() -> None:
    with FakeOpenAI([Step(tokens=["Hej", " med", " dig"])]) as srv:
        m = _model(srv)
        assert list(m.stream([("system", "s"), ("user", "u")], max_tokens=42, json_mode=True)) == [
            "Hej",
            " med",
            " dig",
        ]
        body = srv.requests[0]["body"]
        assert body["stream"] is True
        assert body["response_format"] == {"type": "json_object"}  # never json_schema
        assert body["max_tokens"] == 42
        assert body["messages"] == [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
        ]
        assert srv.requests[0]["headers"].get("authorization") == f"Bearer {KEY}"


def test_complete_json_against_server() -> None:
    with FakeOpenAI([Step(tokens=['{"score": ', '5, "reason": "ok"}'])]) as srv:
        assert _model(srv).complete_json([("user", "judge")], Verdict) == Verdict(
            score=5, reason="ok"
        )


def test_unreachable_endpoint_message_and_bounded_retries(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    m = OpenAICompatibleModel(base_url=url, api_key=KEY, max_retries=2, backoff_s=0.01)
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(LLMUnreachable) as err:
        m.complete([("user", "hello")])
    assert str(err.value) == (
        f"Cannot reach {url}: connection refused. Is the server running? Check OPENAI_BASE_URL."
    )
    assert time.monotonic() - started < 10
    assert sum("retry" in r.getMessage() for r in caplog.records) == 2
    assert KEY not in caplog.text


def test_401_is_an_auth_error_without_retry_and_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeOpenAI([error_step(401, f"Incorrect API key provided: {KEY}")]) as srv:
        with pytest.raises(LLMAuthError, match=r"The endpoint refused the key \(HTTP 401\)") as err:
            _model(srv, max_retries=3).complete([("user", "x")])
        assert len(srv.requests) == 1
    assert KEY not in str(err.value)
    assert KEY not in caplog.text
    assert "Indstillinger" in err.value.localized("da")


def test_403_is_an_auth_error() -> None:
    with FakeOpenAI([error_step(403, "forbidden")]) as srv, pytest.raises(LLMAuthError):
        _model(srv).complete([("user", "x")])


def test_429_is_retried_with_bounds_then_reported() -> None:
    with FakeOpenAI([error_step(429, "slow down", **{"retry-after": "0"})]) as srv:
        with pytest.raises(LLMRateLimited, match="HTTP 429"):
            _model(srv, max_retries=2).complete([("user", "x")])
        assert len(srv.requests) == 3


def test_429_then_success() -> None:
    with FakeOpenAI([error_step(429, "slow down"), Step(tokens=["after ", "retry"])]) as srv:
        assert _model(srv, max_retries=1).complete([("user", "x")]) == "after retry"
        assert len(srv.requests) == 2


def test_5xx_is_retried_then_unreachable() -> None:
    with FakeOpenAI([error_step(503, "overloaded")]) as srv:
        with pytest.raises(LLMUnreachable, match="HTTP 503"):
            _model(srv, max_retries=1).complete([("user", "x")])
        assert len(srv.requests) == 2


@pytest.mark.parametrize(
    ("body", "ctype"),
    [(b"<html>garbage</html>", "text/html"), (b"data: {not json\n\n", "text/event-stream")],
)
def test_garbage_reply_is_a_clear_error(body: bytes, ctype: str) -> None:
    with FakeOpenAI([Step(body=body, content_type=ctype)]) as srv:
        with pytest.raises(LLMResponseError, match="OpenAI-compatible"):
            _model(srv).complete([("user", "x")])
        assert len(srv.requests) == 1


def test_timeout_is_honoured() -> None:
    with FakeOpenAI([Step(delay_s=3.0)]) as srv:
        started = time.monotonic()
        with pytest.raises(LLMTimeout, match=r"longer than 0.5 s"):
            _model(srv, timeout_s=0.5).complete([("user", "x")])
        assert time.monotonic() - started < 2.8
        assert len(srv.requests) == 1  # timeouts are not retried


def test_slow_stream_hits_the_overall_timeout() -> None:
    with FakeOpenAI([Step(tokens=["a "] * 20, token_delay_s=0.2)]) as srv:
        started = time.monotonic()
        with pytest.raises(LLMTimeout):
            _model(srv, timeout_s=0.6).complete([("user", "x")])
        assert time.monotonic() - started < 2.5


def test_check_connection() -> None:
    with FakeOpenAI([Step(tokens=["ok"])]) as srv:
        settings = LLMSettings(backend="openai", base_url=srv.base_url)
        msg = check_connection(settings, model=_model(srv))
        assert msg.startswith("Connected:")
        assert srv.base_url in msg
    with FakeOpenAI([error_step(401)]) as srv, pytest.raises(LLMAuthError):
        check_connection(LLMSettings(backend="openai"), model=_model(srv))


# --------------------------------------------------------------------------- redaction and messages


def test_redact_and_logging_filter(caplog: pytest.LogCaptureFixture) -> None:
    assert "sk-" not in redact("key sk-proj-abcdefghijklmnop123 used")
    assert redact("Authorization: Bearer abcdefghijklmnopqrstu") == "Authorization: [redacted]"
    assert redact('{"api_key": "hunter2hunter2"}') == '{"api_key": "[redacted]"}'
    llm.register_secret("plain-secret-value")
    assert "plain-secret-value" not in redact("x plain-secret-value y")
    caplog.set_level(logging.INFO, logger="relbase.llm")
    logging.getLogger("relbase.llm").info("calling with %s", KEY)
    assert KEY not in caplog.text
    assert "[redacted]" in caplog.text


def test_error_messages_are_localised() -> None:
    err = LLMUnreachable("x", url="http://127.0.0.1:1/v1", reason="connection refused")
    assert err.localized("da").startswith("Kan ikke få forbindelse til http://127.0.0.1:1/v1")
    assert err.localized("en") == "x"
    assert "Indstillinger" in llm.no_key_error().localized("da")


class _NoSecretsFile(dict):  # like st.secrets without a secrets.toml
    def __bool__(self) -> bool:
        raise FileNotFoundError("No secrets found")


def test_missing_streamlit_secrets_file_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    assert resolve_settings(secrets=_NoSecretsFile()).model == "env-model"
