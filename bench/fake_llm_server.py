"""A local OpenAI-compatible chat server with a realistic delay, for the load benchmark.

    python bench/fake_llm_server.py --port 8011 --ttft-ms 350 --token-ms 30

* ``POST /v1/chat/completions`` (streamed or not) answers in the citizen's language with
  one of a few short, plain citizen replies (they pass the renderer's guards), after
  ``ttft-ms`` (time to first token, with +-30 % jitter) and ``token-ms`` between tokens;
* ``GET /v1/models`` lists one model ``fake-citizen``;
* it serves requests concurrently (one thread each), like vLLM or Ollama behind a queue,
  with at most ``--slots`` generations at the same time (others wait, as on a real GPU).

Loopback only; nothing leaves the machine. Also importable: ``FakeLLMServer(...)`` is a
context manager that runs it in a thread (``.base_url``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLIES = {
    "da": [
        "Jeg ved det ikke rigtig. Det har været en lang uge.",
        "Nå. Det er svært at sige, hvad der er vigtigst lige nu.",
        "Jeg har det okay, tror jeg. Men jeg er lidt træt af møder.",
        "Hmm. Det må jeg lige tænke over.",
    ],
    "en": [
        "I don't really know. It has been a long week.",
        "Well. It is hard to say what matters most right now.",
        "I'm okay, I think. But I am a bit tired of meetings.",
        "Hmm. I need to think about that.",
    ],
}
MODEL = "fake-citizen"


def _language(messages: list[dict[str, Any]]) -> str:
    text = " ".join(str(m.get("content", "")) for m in messages).lower()
    danish = sum(
        text.count(w) for w in (" og ", " jeg ", " det ", " ikke ", "æ", "ø", "å", "dansk")
    )
    english = sum(text.count(w) for w in (" and ", " the ", " you ", " not ", "english"))
    return "da" if danish >= english else "en"


class FakeLLMServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ttft_ms: float = 350.0,
        token_ms: float = 30.0,
        slots: int = 8,
        seed: int = 7,
    ) -> None:
        self.ttft_s = ttft_ms / 1000
        self.token_s = token_ms / 1000
        self._slots = threading.Semaphore(max(1, slots))
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.requests = 0
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def _jitter(self) -> float:
        with self._rng_lock:
            return self._rng.uniform(0.7, 1.3)

    def _reply(self, messages: list[dict[str, Any]]) -> str:
        with self._rng_lock:
            return self._rng.choice(REPLIES[_language(messages)])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, obj: Any) -> None:
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._json(400, {"error": {"message": "invalid JSON"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                server.requests += 1
                text = server._reply(body.get("messages") or [])
                tokens = [w + " " for w in text.split(" ")]
                tokens[-1] = tokens[-1].rstrip()
                cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
                with server._slots:
                    time.sleep(server.ttft_s * server._jitter())
                    if body.get("stream"):
                        self._stream(cid, tokens)
                    else:
                        time.sleep(server.token_s * len(tokens))
                        self._json(
                            200,
                            {
                                "id": cid,
                                "object": "chat.completion",
                                "created": int(time.time()),
                                "model": MODEL,
                                "choices": [
                                    {
                                        "index": 0,
                                        "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop",
                                    }
                                ],
                                "usage": {"prompt_tokens": 100, "completion_tokens": len(tokens)},
                            },
                        )

            def _stream(self, cid: str, tokens: list[str]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(delta: dict[str, Any], finish: str | None = None) -> None:
                    chunk = {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": MODEL,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()

                event({"role": "assistant", "content": ""})
                for tok in tokens:
                    event({"content": tok})
                    time.sleep(server.token_s)
                event({}, "stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler

    def __enter__(self) -> FakeLLMServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8011)
    ap.add_argument("--ttft-ms", type=float, default=350.0, help="time to first token")
    ap.add_argument("--token-ms", type=float, default=30.0, help="delay between tokens")
    ap.add_argument("--slots", type=int, default=8, help="concurrent generations")
    args = ap.parse_args()
    srv = FakeLLMServer(
        args.host, args.port, ttft_ms=args.ttft_ms, token_ms=args.token_ms, slots=args.slots
    )
    print(f"fake OpenAI-compatible server on {srv.base_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        srv.serve_forever()


if __name__ == "__main__":
    main()
