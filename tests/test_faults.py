"""Fault tests (issue 7): nothing a practitioner typed is ever lost.

* the app process is killed (``kill -9``) between committing the practitioner's turn and
  committing the citizen's reply; a restarted process resumes with every committed turn
  and produces the pending reply;
* the LLM endpoint is down, slow, returns garbage or answers 429 (a loopback server):
  a clear error, bounded retries, the practitioner's text kept as a pending turn, and a
  retry once the endpoint is back produces the reply;
* the database is unavailable (a closed PostgreSQL port, a read-only SQLite file): a
  clear error, no silent loss.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from llm_server import Step, closed_port, error_step, fake_openai

from base.llm import (
    LLMError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnreachable,
    OpenAICompatibleModel,
)
from citizen.llm_renderer import LLMRenderer
from practice.services import build_services
from practice.settings import load_settings

REPO = Path(__file__).resolve().parent.parent

# A child "app process": it does what the Practise page does, through the same services.
CHILD = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {repo!r})
    from practice.services import build_services

    mode, sid = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
    svc = build_services()
    user = svc.practice.local_user()

    class Hanging:
        name = "hanging"
        def stream(self, scenario, decision, history):
            print("IN_REPLY", flush=True)   # the practitioner turn is committed by now
            time.sleep(600)
            yield ""

    if mode == "talk":
        lib = svc.library()
        scenario_id = next(k for k, v in sorted(lib.scenarios.items()) if v.language == "da")
        sid = svc.practice.start(user, scenario_id).info.id
        print("SESSION " + sid, flush=True)
        for text in ("Hej, hvordan har du det?", "Det lyder svært.", "Hvad er vigtigst for dig?"):
            svc.practice.send(user, sid, text)
            print("SENT", flush=True)
        svc.practice.add_practitioner_turn(user, sid, "Hvad håber du på nu?")
        print("COMMITTED", flush=True)
        "".join(svc.practice.reply_stream(user, sid, Hanging()))
    else:  # resume
        view = svc.practice.view(user, sid)
        before = [(t.speaker, t.text) for t in view.turns]
        pending = view.pending
        if pending is not None:
            "".join(svc.practice.reply_stream(user, sid))
        after = svc.practice.view(user, sid)
        print("RESULT " + json.dumps({{
            "before": before, "pending": pending,
            "after": [(t.speaker, t.text) for t in after.turns],
            "state_turns": json.loads(after.state_json).get("turn"),
        }}), flush=True)
    """
).format(repo=str(REPO))


def _read_until(proc: subprocess.Popen, marker: str, timeout: float = 240) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line.rstrip("\n"))
        if line.startswith(marker):
            return lines
    proc.kill()
    raise AssertionError(f"{marker} never came; output: {lines}; stderr: {proc.stderr.read()}")


@pytest.mark.slow
def test_killed_mid_turn_then_restarted_resumes_and_replies(tmp_path: Path) -> None:
    script = tmp_path / "app_process.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RELPRACTICE_SEARCH_INDEX": "off"}
    with subprocess.Popen(
        [sys.executable, str(script), "talk"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            lines = _read_until(proc, "IN_REPLY")
            sid = next(x.split()[1] for x in lines if x.startswith("SESSION"))
            assert "COMMITTED" in lines
            os.kill(proc.pid, signal.SIGKILL)  # kill -9 between the turn and its reply
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL

    out = subprocess.run(
        [sys.executable, str(script), "resume", sid],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    ).stdout
    result = json.loads(next(x for x in out.splitlines() if x.startswith("RESULT"))[7:])
    typed = ["Hej, hvordan har du det?", "Det lyder svært.", "Hvad er vigtigst for dig?"]
    before = result["before"]
    assert [t for s, t in before if s == "practitioner"] == [*typed, "Hvad håber du på nu?"]
    assert [s for s, _ in before] == ["citizen", *["practitioner", "citizen"] * 3, "practitioner"]
    assert result["pending"] == "Hvad håber du på nu?"
    after = result["after"]
    assert after[: len(before)] == before  # every committed turn survived, unchanged
    assert len(after) == len(before) + 1
    assert after[-1][0] == "citizen"
    assert after[-1][1].strip()


# --------------------------------------------------------------------------- LLM endpoint


@pytest.fixture
def svc():
    services = build_services(load_settings())
    yield services
    services.db.dispose()


@pytest.fixture
def pending(svc):
    """A session with a practitioner turn committed and waiting for its reply."""
    user = svc.practice.local_user()
    lib = svc.library()
    scenario_id = next(k for k, v in sorted(lib.scenarios.items()) if v.language == "da")
    sid = svc.practice.start(user, scenario_id, backend="openai").info.id
    text = "Hvad er det vigtigste for dig lige nu?"
    svc.practice.add_practitioner_turn(user, sid, text)
    return user, sid, text


def renderer(base_url: str, *, timeout_s: float = 5.0, max_retries: int = 2) -> LLMRenderer:
    model = OpenAICompatibleModel(
        model="test",
        base_url=base_url,
        api_key="not-needed",
        timeout_s=timeout_s,
        max_retries=max_retries,
        backoff_s=0.05,
        max_backoff_s=0.2,
    )
    return LLMRenderer(model, embedder=None)


def _assert_kept_and_recoverable(svc, user, sid, text, state_before) -> None:
    view = svc.practice.view(user, sid)
    assert view.pending == text  # the practitioner's words are stored, nothing half-done
    assert view.state_json == state_before
    assert [t.speaker for t in view.turns] == ["citizen", "practitioner"]
    # the endpoint is back: the retry produces the reply for the very same turn
    with fake_openai(Step(tokens=["Jeg ", "ved ", "det ", "ikke ", "rigtig."])) as srv:
        "".join(svc.practice.reply_stream(user, sid, renderer(srv.base_url)))
    view = svc.practice.view(user, sid)
    assert view.pending is None
    assert [t.speaker for t in view.turns] == ["citizen", "practitioner", "citizen"]
    assert view.turns[1].text == text


def test_llm_endpoint_down(svc, pending) -> None:
    user, sid, text = pending
    state = svc.practice.view(user, sid).state_json
    started = time.monotonic()
    with pytest.raises(LLMUnreachable) as err:
        "".join(
            svc.practice.reply_stream(user, sid, renderer(f"http://127.0.0.1:{closed_port()}/v1"))
        )
    assert time.monotonic() - started < 30  # bounded retries, no hang
    assert "127.0.0.1" in str(err.value)
    assert err.value.localized("da") != err.value.localized("en")  # a Danish message exists
    _assert_kept_and_recoverable(svc, user, sid, text, state)


def test_llm_endpoint_slow(svc, pending) -> None:
    user, sid, text = pending
    state = svc.practice.view(user, sid).state_json
    with fake_openai(Step(delay_s=3.0)) as srv:
        started = time.monotonic()
        with pytest.raises(LLMTimeout) as err:
            "".join(svc.practice.reply_stream(user, sid, renderer(srv.base_url, timeout_s=0.5)))
        assert time.monotonic() - started < 10
        assert len(srv.requests) == 1  # a timeout is not retried: the user is waiting
    assert "0.5" in str(err.value)
    _assert_kept_and_recoverable(svc, user, sid, text, state)


def test_llm_endpoint_returns_garbage(svc, pending) -> None:
    user, sid, text = pending
    state = svc.practice.view(user, sid).state_json
    garbage = Step(body=b"\x00\xffthis is not json{{{", content_type="application/json")
    with fake_openai(garbage) as srv, pytest.raises(LLMError) as err:
        "".join(svc.practice.reply_stream(user, sid, renderer(srv.base_url, max_retries=1)))
    assert str(err.value)
    assert "Traceback" not in str(err.value)
    _assert_kept_and_recoverable(svc, user, sid, text, state)


def test_llm_endpoint_answers_429(svc, pending) -> None:
    user, sid, text = pending
    state = svc.practice.view(user, sid).state_json
    with fake_openai(error_step(429, "rate limit", **{"retry-after": "0"})) as srv:
        with pytest.raises(LLMRateLimited) as err:
            "".join(svc.practice.reply_stream(user, sid, renderer(srv.base_url, max_retries=2)))
        assert len(srv.requests) == 3  # one try plus exactly max_retries retries
    assert str(err.value)
    _assert_kept_and_recoverable(svc, user, sid, text, state)


def test_llm_429_then_recovers_within_the_retries(svc, pending) -> None:
    user, sid, _ = pending
    ok = Step(tokens=["Jeg ", "ved ", "det ", "ikke."])
    with fake_openai(error_step(429, "slow down", **{"retry-after": "0"}), ok) as srv:
        "".join(svc.practice.reply_stream(user, sid, renderer(srv.base_url, max_retries=2)))
        assert len(srv.requests) == 2
    view = svc.practice.view(user, sid)
    assert view.pending is None
    assert view.turns[-1].speaker == "citizen"


def test_garbage_reply_text_never_reaches_the_transcript(svc, pending) -> None:
    """A reply that is 'valid' HTTP but nonsense for a citizen (a prompt leak) is caught by
    the renderer's guards and replaced by the offline reply; nothing is lost."""
    user, sid, text = pending
    bad = Step(tokens=["As an AI language model, I cannot role-play this citizen."])
    with fake_openai(bad) as srv:
        "".join(svc.practice.reply_stream(user, sid, renderer(srv.base_url)))
    view = svc.practice.view(user, sid)
    assert view.turns[1].text == text
    assert "language model" not in view.turns[-1].text
    assert view.turns[-1].meta.get("renderer") == "llm"


# --------------------------------------------------------------------------- database


def test_database_server_unreachable_gives_a_clear_error(monkeypatch) -> None:
    from practice.migrate import MigrationError

    port = closed_port()
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql+psycopg://app:hunter22@127.0.0.1:{port}/x?connect_timeout=3"
    )
    with pytest.raises(MigrationError) as err:
        build_services(load_settings())
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message
    assert "DATABASE_URL" in message
    assert "hunter22" not in message


def test_read_only_database_refuses_loudly_and_loses_nothing(tmp_path, monkeypatch) -> None:
    """The database stops accepting writes (a read-only file system, a full disk): the
    practitioner's send fails with an error (never a silent success), and once the
    database is writable again the same text is stored."""
    from sqlalchemy.exc import OperationalError

    svc = build_services(load_settings())
    user = svc.practice.local_user()
    lib = svc.library()
    scenario_id = sorted(lib.scenarios)[0]
    sid = svc.practice.start(user, scenario_id).info.id
    path = svc.db.url.split("///", 1)[1]
    svc.db.dispose()

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    ro = build_services(load_settings())  # schema current: start-up needs no write
    try:
        with pytest.raises(OperationalError, match="readonly"):
            ro.practice.add_practitioner_turn(user, sid, "Hvordan går det?")
        assert ro.practice.view(user, sid).pending is None  # nothing claims to be saved
    finally:
        ro.db.dispose()

    monkeypatch.delenv("DATABASE_URL")
    rw = build_services(load_settings())
    try:
        rw.practice.send(user, sid, "Hvordan går det?")
        texts = [t.text for t in rw.practice.view(user, sid).turns]
        assert texts[1] == "Hvordan går det?"
    finally:
        rw.db.dispose()


# --------------------------------------------------------------------------- concurrency


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["offline", "llm"])
def test_concurrent_sessions_lose_no_turn(backend: str, tmp_path: Path) -> None:
    """bench/load.py in miniature: simultaneous sessions in one process, every typed turn
    found in the database afterwards, every one answered (the LLM run goes through
    bench/fake_llm_server.py on loopback)."""
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "load.py"),
            "--sessions",
            "6",
            "--turns",
            "3",
            "--think-ms",
            "0",
            "--backend",
            backend,
            "--llm-ttft-ms",
            "50",
            "--llm-token-ms",
            "2",
            "--data-dir",
            str(tmp_path / "bench"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RELPRACTICE_SEARCH_INDEX": "off"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["turns"] == 18
    assert result["errors"] == 0
    assert result["lost_turns"] == 0
    assert result["missing_replies"] == 0
    assert 0 < result["p50_ms"] <= result["p95_ms"]
    if backend == "llm":
        assert result["llm_requests"] >= 18


def test_practise_page_says_clearly_when_the_database_cannot_save(monkeypatch) -> None:
    """On the page: a clear message that the turn was not saved, and the typed text shown
    back so it can be copied (never a silent loss, never a raw traceback)."""
    from app_test_helpers import APP
    from streamlit.testing.v1 import AppTest

    from base.i18n import t

    svc = build_services(load_settings())
    user = svc.practice.local_user()
    scenario_id = sorted(svc.library().scenarios)[0]
    sid = svc.practice.start(user, scenario_id).info.id
    path = svc.db.url.split("///", 1)[1]
    svc.db.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["shell.user_id"] = user.id
    at.query_params["session"] = sid
    at.run()
    assert not at.exception, at.exception
    typed = "Det her må ikke gå tabt."
    at.chat_input(key="practise.input").set_value(typed).run()
    assert not at.exception, at.exception
    expected = t("ops.db_unavailable", "da", error="OperationalError")
    assert expected in [e.value for e in at.error]
    assert typed in [c.value for c in at.code]
