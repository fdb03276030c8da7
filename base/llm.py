"""Our own small language-model interface (in the spirit of simonw/llm and pydantic-ai).

Everything that talks to a language model goes through :class:`ChatModel`:

    model = make_model(resolve_settings(overrides, secrets=st.secrets))
    for token in model.stream([Message("system", "..."), Message("user", "...")]):
        ...
    text = model.complete(messages)
    obj = model.complete_json(messages, MySchema)        # pydantic-validated, one repair retry

Backends
--------
* :class:`ScriptedModel` – deterministic test double: queued replies, a function, or errors.
* :class:`OpenAICompatibleModel` – LangChain ``ChatOpenAI`` against any OpenAI-compatible
  endpoint (OpenAI, Azure via ``base_url``, Ollama, vLLM, LM Studio, llama.cpp server).
  Streams tokens, honours a timeout and retries 429/5xx/connection errors with bounded
  exponential backoff (only before the first token arrived: a half-streamed reply is never
  silently restarted).
* :class:`LlamaCppModel` – in-process ``llama_cpp.Llama`` on a GGUF file chosen by the user
  (optional dependency, ``requirements-local.txt``).

Structured output uses JSON mode (``response_format={"type": "json_object"}``), never
``json_schema``: the llama.cpp server rejects it. The schema is described in the prompt and the
reply validated with pydantic.

Settings come from the environment, then a Streamlit-secrets mapping passed in by the caller,
then the Settings page (session-only overrides); see :func:`resolve_settings`. The API key is a
``SecretStr`` that is never logged, never in ``repr`` and never in ``model_dump`` (so it cannot
reach the database). Errors say what to do (:class:`LLMConfigError`, :class:`LLMUnreachable`,
:class:`LLMAuthError`, :class:`LLMTimeout`, :class:`LLMRateLimited`) and never contain the key.

When the environment sets ``RELPRACTICE_BLOCK_REAL_LLM=1`` (the test suite does, unless a test is
marked ``allow_real_llm``) :func:`make_model` refuses every real backend.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from base.i18n import catalogue, t

log = logging.getLogger("relbase.llm")

M = TypeVar("M", bound=BaseModel)

Role = Literal["system", "user", "assistant"]
Backend = Literal["offline", "openai", "llamacpp"]
BACKENDS: tuple[str, ...] = ("offline", "openai", "llamacpp")
BLOCK_ENV = "RELPRACTICE_BLOCK_REAL_LLM"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
OPENAI_HOST = "api.openai.com"
# Local servers (llama.cpp, Ollama, LM Studio) ignore the key, but the OpenAI client insists on one.
NO_KEY_PLACEHOLDER = "not-needed"


# --------------------------------------------------------------------------- redaction


_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_KEY_PATTERNS = (
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}"),  # OpenAI-style keys (sk-..., sk-proj-...)
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{8,}=*"),
    re.compile(r"(?i)(api[_-]?key|authorization|x-api-key)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{6,}"),
    re.compile(r"\b[A-Za-z0-9]{32,}\b"),  # long opaque tokens (Azure keys are 32 hex chars)
)


def register_secret(value: str | None) -> None:
    """Remember a secret so :func:`redact` removes it verbatim wherever it appears."""
    if value and len(value) >= 6 and value != NO_KEY_PLACEHOLDER:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """Replace anything that looks like a key or token with ``[redacted]``."""
    if not text:
        return text
    with _SECRETS_LOCK:
        known = sorted(_SECRETS, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, "[redacted]")
    for i, pat in enumerate(_KEY_PATTERNS):
        if i == 2:
            text = pat.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        else:
            text = pat.sub("[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts keys from the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True


_FILTER = RedactingFilter()
for _name in ("relbase.llm", "openai", "openai._base_client", "httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, RedactingFilter) for f in _logger.filters):
        _logger.addFilter(_FILTER)


# --------------------------------------------------------------------------- errors


class LLMError(RuntimeError):
    """Base class. ``str(err)`` is an English message that says what to do; ``code`` and
    ``params`` let the UI show it in Danish or English via ``base.i18n`` (``llm.error.<code>``)."""

    code = "generic"

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(redact(message))
        self.params = {k: redact(str(v)) for k, v in params.items()}

    def localized(self, lang: str) -> str:

        key = f"llm.error.{self.code}"
        if lang == "en" or key not in catalogue():
            return str(self)
        if self.code == "config":  # the generic Danish line plus the specific English detail
            return f"{t(key, lang)} ({self})"
        try:
            return t(key, lang, **self.params)
        except (KeyError, IndexError):
            return str(self)


class LLMConfigError(LLMError):
    code = "config"


class LLMBlocked(LLMConfigError):
    code = "blocked"


class LLMUnreachable(LLMError):
    code = "unreachable"


class LLMAuthError(LLMError):
    code = "auth"


class LLMTimeout(LLMError):
    code = "timeout"


class LLMRateLimited(LLMError):
    code = "rate_limited"


class LLMResponseError(LLMError):
    """The endpoint answered, but not with something we can use (garbage, invalid JSON)."""

    code = "bad_response"


def no_key_error() -> LLMConfigError:
    err = LLMConfigError("No API key found – set OPENAI_API_KEY or enter one on the Settings page")
    err.code = "no_key"
    return err


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


MessageLike = Message | tuple[str, str] | Mapping[str, str]


def as_messages(messages: Iterable[MessageLike]) -> list[Message]:
    out: list[Message] = []
    for m in messages:
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, tuple):
            out.append(Message(m[0], m[1]))  # type: ignore[arg-type]
        else:
            out.append(Message(m["role"], m["content"]))  # type: ignore[arg-type]
    for m in out:
        if m.role not in ("system", "user", "assistant"):
            raise ValueError(f"unknown message role {m.role!r}")
    return out


# --------------------------------------------------------------------------- interface


class ChatModel(ABC):
    """A chat model. Subclasses implement only :meth:`_stream`."""

    name: str = "model"

    @abstractmethod
    def _stream(
        self, messages: list[Message], *, temperature: float, max_tokens: int, json_mode: bool
    ) -> Iterator[str]:
        """Yield the reply in pieces (tokens) as they arrive."""

    def stream(
        self,
        messages: Iterable[MessageLike],
        *,
        temperature: float = 0.7,
        max_tokens: int = 256,
        json_mode: bool = False,
    ) -> Iterator[str]:
        for piece in self._stream(
            as_messages(messages),
            temperature=temperature,
            max_tokens=max_tokens,
            json_mode=json_mode,
        ):
            if piece:
                yield piece

    def complete(
        self,
        messages: Iterable[MessageLike],
        *,
        temperature: float = 0.7,
        max_tokens: int = 256,
        json_mode: bool = False,
    ) -> str:
        return "".join(
            self.stream(
                messages, temperature=temperature, max_tokens=max_tokens, json_mode=json_mode
            )
        )

    def complete_json(
        self,
        messages: Iterable[MessageLike],
        schema: type[M],
        *,
        temperature: float = 0.0,
        max_tokens: int = 512,
    ) -> M:
        """A reply validated as ``schema``. JSON mode plus the schema in the prompt; if the first
        reply does not validate, the model is shown the error once and asked to repair it."""
        msgs = as_messages(messages)
        instruction = (
            "Reply with one JSON object only, no prose and no code fences. "
            f"It must validate against this JSON schema:\n{json.dumps(schema.model_json_schema())}"
        )
        if msgs and msgs[0].role == "system":
            msgs = [Message("system", f"{msgs[0].content}\n\n{instruction}"), *msgs[1:]]
        else:
            msgs = [Message("system", instruction), *msgs]
        raw = self.complete(msgs, temperature=temperature, max_tokens=max_tokens, json_mode=True)
        try:
            return parse_json_reply(raw, schema)
        except (ValueError, ValidationError) as first:
            log.info("JSON reply did not validate as %s; asking for one repair", schema.__name__)
            repair = [
                *msgs,
                Message("assistant", raw[:4000]),
                Message(
                    "user",
                    f"That was not valid: {_short_error(first)}. Reply again with only the "
                    "corrected JSON object.",
                ),
            ]
            raw2 = self.complete(repair, temperature=0.0, max_tokens=max_tokens, json_mode=True)
            try:
                return parse_json_reply(raw2, schema)
            except (ValueError, ValidationError) as second:
                raise LLMResponseError(
                    f"The model did not return valid JSON for {schema.__name__} after one repair "
                    f"attempt: {_short_error(second)}",
                    detail=_short_error(second),
                ) from None


def _short_error(err: Exception) -> str:
    if isinstance(err, ValidationError):
        parts = [
            f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in err.errors()[:3]
        ]
        return "; ".join(parts)
    return str(err)[:200]


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def parse_json_reply(raw: str, schema: type[M]) -> M:
    """Parse the first JSON object in ``raw`` (code fences and surrounding prose tolerated)."""
    text = _FENCE.sub("", raw.strip())
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the reply")
    obj, _ = json.JSONDecoder().raw_decode(text[start:])
    if not isinstance(obj, dict):
        raise ValueError("the reply is not a JSON object")
    return schema.model_validate(obj)


# --------------------------------------------------------------------------- scripted


Reply = str | BaseException | Sequence[str]
ScriptFn = Callable[[list[Message], dict[str, Any]], "str | Iterable[str]"]


@dataclass
class ScriptedRequest:
    messages: list[Message]
    temperature: float
    max_tokens: int
    json_mode: bool


class ScriptedModel(ChatModel):
    """Deterministic model for tests.

    * ``ScriptedModel("hi", "there")`` / ``.enqueue(...)``: replies in order. A reply may be a
      string (streamed word by word), a list of chunks (streamed as given), or an exception
      instance (raised when that request is made, e.g. ``LLMTimeout("...")``).
    * ``ScriptedModel(function=f)``: ``f(messages, info) -> str | Iterable[str]``, used when the
      queue is empty (like pydantic-ai's FunctionModel).
    * ``delay_s``: sleep before each chunk (to exercise timeouts in callers).
    * ``history``: the messages of every request; ``requests``: the same with parameters.
    """

    name = "scripted"

    def __init__(
        self, *replies: Reply, function: ScriptFn | None = None, delay_s: float = 0.0
    ) -> None:
        self._queue: list[Reply] = list(replies)
        self.function = function
        self.delay_s = delay_s
        self.requests: list[ScriptedRequest] = []
        self._lock = threading.Lock()

    @property
    def history(self) -> list[list[Message]]:
        return [r.messages for r in self.requests]

    def enqueue(self, *replies: Reply) -> ScriptedModel:
        with self._lock:
            self._queue.extend(replies)
        return self

    def raise_next(self, error: BaseException) -> ScriptedModel:
        return self.enqueue(error)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _stream(
        self, messages: list[Message], *, temperature: float, max_tokens: int, json_mode: bool
    ) -> Iterator[str]:
        with self._lock:
            self.requests.append(
                ScriptedRequest(list(messages), temperature, max_tokens, json_mode)
            )
            reply: Reply | None = self._queue.pop(0) if self._queue else None
        if reply is None:
            if self.function is None:
                raise RuntimeError("ScriptedModel: no reply queued and no function given")
            info = {"temperature": temperature, "max_tokens": max_tokens, "json_mode": json_mode}
            reply = self.function(list(messages), info)
            if not isinstance(reply, str):
                reply = list(reply)
        if isinstance(reply, BaseException):
            raise reply
        chunks = re.findall(r"\S+\s*|\s+", reply) if isinstance(reply, str) else list(reply)
        for chunk in chunks:
            if self.delay_s:
                time.sleep(self.delay_s)
            yield chunk


# --------------------------------------------------------------------------- OpenAI-compatible


def _host_of(base_url: str | None) -> str:
    return base_url or f"https://{OPENAI_HOST}/v1"


def _needs_key(base_url: str | None) -> bool:
    return base_url is None or OPENAI_HOST in base_url or "azure" in base_url.lower()


class OpenAICompatibleModel(ChatModel):
    """Any OpenAI-compatible chat endpoint, through LangChain's ``ChatOpenAI``.

    Retries: on connection errors, HTTP 429 and 5xx, up to ``max_retries`` times with
    exponential backoff (``backoff_s`` doubling, capped at ``max_backoff_s``; a ``Retry-After``
    header is honoured within that cap). Only before the first token: once text has been
    yielded an error propagates. Timeouts are not retried (the user is waiting).
    """

    name = "openai"

    def __init__(
        self,
        *,
        model: str = DEFAULT_OPENAI_MODEL,
        base_url: str | None = None,
        api_key: SecretStr | str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
    ) -> None:
        if isinstance(api_key, str):
            api_key = SecretStr(api_key)
        if api_key is None or not api_key.get_secret_value().strip():
            if _needs_key(base_url):
                raise no_key_error()
            api_key = SecretStr(NO_KEY_PLACEHOLDER)
        register_secret(api_key.get_secret_value())
        self.model = model
        self.base_url = base_url.rstrip("/") if base_url else None
        self._api_key = api_key
        self.timeout_s = float(timeout_s)
        self.max_retries = max(0, int(max_retries))
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._clients: dict[tuple[float, int, bool], Any] = {}
        self._clients_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAICompatibleModel(model={self.model!r}, base_url={self.endpoint!r})"

    @property
    def endpoint(self) -> str:
        return _host_of(self.base_url)

    def _client(self, temperature: float, max_tokens: int, json_mode: bool) -> Any:
        key = (temperature, max_tokens, json_mode)
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                from langchain_openai import ChatOpenAI

                extra_body: dict[str, Any] = {}
                if self.base_url and OPENAI_HOST not in self.base_url:
                    # ChatOpenAI sends max_completion_tokens; older servers (llama.cpp's python
                    # server, some vLLM) only read max_tokens.
                    extra_body["max_tokens"] = max_tokens
                if json_mode:
                    # via extra_body: keeps ChatOpenAI on the plain streaming endpoint
                    extra_body["response_format"] = {"type": "json_object"}
                client = ChatOpenAI(
                    model=self.model,
                    base_url=self.base_url,
                    api_key=self._api_key,
                    timeout=self.timeout_s,
                    max_retries=0,  # our own bounded retry loop below
                    temperature=temperature,
                    max_tokens=max_tokens,
                    streaming=True,
                    extra_body=extra_body or None,
                )
                self._clients[key] = client
            return client

    def _stream(
        self, messages: list[Message], *, temperature: float, max_tokens: int, json_mode: bool
    ) -> Iterator[str]:
        client = self._client(temperature, max_tokens, json_mode)
        payload = [m.as_dict() for m in messages]
        attempt = 0
        while True:
            started = time.monotonic()
            yielded = False
            try:
                for chunk in client.stream(payload):
                    text = _chunk_text(chunk)
                    if time.monotonic() - started > self.timeout_s:
                        raise LLMTimeout(
                            f"{self.endpoint} took longer than {self.timeout_s:g} s to answer. "
                            "Try again, or raise the timeout on the Settings page.",
                            url=self.endpoint,
                            seconds=f"{self.timeout_s:g}",
                        )
                    if text:
                        yielded = True
                        yield text
                return
            except LLMError:
                raise
            except Exception as exc:  # mapped to our errors; see _map_error
                err, retryable, wait_hint = self._map_error(exc)
                if yielded or not retryable or attempt >= self.max_retries:
                    if retryable and attempt:
                        log.warning(
                            "giving up on %s after %d attempts: %s",
                            self.endpoint,
                            attempt + 1,
                            type(err).__name__,
                        )
                    raise err from None
                delay = min(self.max_backoff_s, self.backoff_s * (2**attempt))
                if wait_hint is not None:
                    delay = min(self.max_backoff_s, max(delay, wait_hint))
                attempt += 1
                log.warning(
                    "%s from %s; retry %d/%d in %.1f s",
                    type(err).__name__,
                    self.endpoint,
                    attempt,
                    self.max_retries,
                    delay,
                )
                time.sleep(delay)

    def _map_error(self, exc: Exception) -> tuple[LLMError, bool, float | None]:
        """(our error, retryable?, Retry-After seconds)."""
        import openai

        url = self.endpoint
        if isinstance(exc, openai.APITimeoutError):
            return (
                LLMTimeout(
                    f"{url} took longer than {self.timeout_s:g} s to answer. Try again, or raise "
                    "the timeout on the Settings page.",
                    url=url,
                    seconds=f"{self.timeout_s:g}",
                ),
                False,
                None,
            )
        if isinstance(exc, openai.APIConnectionError):
            reason = _connection_reason(exc)
            return (
                LLMUnreachable(
                    f"Cannot reach {url}: {reason}. Is the server running? Check OPENAI_BASE_URL.",
                    url=url,
                    reason=reason,
                ),
                True,
                None,
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status in (401, 403):
                return (
                    LLMAuthError(
                        f"The endpoint refused the key (HTTP {status}) at {url}. Check "
                        "OPENAI_API_KEY or the key on the Settings page, and that it is valid "
                        "for this endpoint.",
                        url=url,
                        status=status,
                    ),
                    False,
                    None,
                )
            if status == 429:
                return (
                    LLMRateLimited(
                        f"{url} is rate-limiting requests (HTTP 429). Wait a moment and try "
                        "again, or check the quota of the key.",
                        url=url,
                    ),
                    True,
                    _retry_after(exc),
                )
            if status == 404:
                return (
                    LLMConfigError(
                        f"{url} answered 404 for model {self.model!r}. Check OPENAI_MODEL and "
                        "OPENAI_BASE_URL (it usually ends in /v1).",
                        url=url,
                        model=self.model,
                    ),
                    False,
                    None,
                )
            if status >= 500:
                return (
                    LLMUnreachable(
                        f"{url} had a server error (HTTP {status}). Try again later; if it "
                        "persists, check the server's log.",
                        url=url,
                        reason=f"HTTP {status}",
                    ),
                    True,
                    _retry_after(exc),
                )
            return (
                LLMResponseError(
                    f"{url} rejected the request (HTTP {status}): {_server_message(exc)}",
                    detail=f"HTTP {status}",
                ),
                False,
                None,
            )
        return (
            LLMResponseError(
                f"{url} did not answer like an OpenAI-compatible endpoint "
                f"({type(exc).__name__}). Check OPENAI_BASE_URL.",
                detail=type(exc).__name__,
            ),
            False,
            None,
        )


def _chunk_text(chunk: Any) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(
            b.get("text", "") if isinstance(b, dict) else str(b) for b in content if b is not None
        )
    return ""


def _connection_reason(exc: Exception) -> str:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        text = str(cur).lower()
        if isinstance(cur, ConnectionRefusedError) or "connection refused" in text:
            return "connection refused"
        if (
            "name or service not known" in text
            or "nodename nor servname" in text
            or "getaddrinfo" in text
        ):
            return "unknown host name"
        if "certificate" in text or "ssl" in text:
            return "TLS/certificate problem"
        cur = cur.__cause__ or cur.__context__
    return "connection failed"


def _retry_after(exc: Any) -> float | None:
    try:
        raw = exc.response.headers.get("retry-after")
        return float(raw) if raw is not None else None
    except (AttributeError, ValueError, TypeError):
        return None


def _server_message(exc: Any) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    return redact(str(msg))[:200]


# --------------------------------------------------------------------------- llama.cpp in-process


class LlamaCppModel(ChatModel):
    """``llama_cpp.Llama`` in this process on a GGUF file (optional: ``pip install -r
    requirements-local.txt``). Loaded on first use; calls are serialised."""

    name = "llamacpp"

    def __init__(
        self,
        gguf_path: str | Path,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        timeout_s: float = 120.0,
    ) -> None:
        self.gguf_path = Path(gguf_path).expanduser()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self.timeout_s = timeout_s
        self._llm: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LlamaCppModel({str(self.gguf_path)!r})"

    def _load(self) -> Any:
        if self._llm is None:
            try:
                import llama_cpp
            except ImportError:
                raise LLMConfigError(
                    "The local model backend needs llama-cpp-python: "
                    "pip install -r requirements-local.txt"
                ) from None
            if not self.gguf_path.is_file():
                raise LLMConfigError(
                    f"GGUF file not found: {self.gguf_path}. Set RELPRACTICE_GGUF or choose a "
                    "file on the Settings page.",
                    path=self.gguf_path,
                )
            self._llm = llama_cpp.Llama(
                model_path=str(self.gguf_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
        return self._llm

    def _stream(
        self, messages: list[Message], *, temperature: float, max_tokens: int, json_mode: bool
    ) -> Iterator[str]:
        with self._lock:
            llm = self._load()
            kwargs: dict[str, Any] = {}
            if json_mode:
                kwargs["response_format"] = {"type": "json_object"}
            started = time.monotonic()
            for part in llm.create_chat_completion(
                messages=[m.as_dict() for m in messages],
                temperature=temperature,
                max_tokens=max_tokens,
                stream=True,
                **kwargs,
            ):
                delta = part["choices"][0].get("delta", {})
                text = delta.get("content") or ""
                if text:
                    yield text
                if time.monotonic() - started > self.timeout_s:
                    raise LLMTimeout(
                        f"The local model took longer than {self.timeout_s:g} s. Choose a smaller "
                        "model or raise the timeout on the Settings page.",
                        url=str(self.gguf_path),
                        seconds=f"{self.timeout_s:g}",
                    )


# --------------------------------------------------------------------------- settings


class LLMSettings(BaseModel):
    """Which language model to use. ``api_key`` is excluded from ``model_dump``/JSON and
    ``repr``; use :meth:`public` for anything stored or shown."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    backend: Backend = "offline"
    base_url: str | None = None
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    model: str = DEFAULT_OPENAI_MODEL
    timeout_s: float = Field(30.0, gt=0, le=600)
    max_retries: int = Field(2, ge=0, le=6)
    gguf_path: str | None = None

    @property
    def has_api_key(self) -> bool:
        return self.api_key is not None and bool(self.api_key.get_secret_value().strip())

    def public(self) -> dict[str, object]:
        """Safe to store and display: everything but the key (and whether one is set)."""
        return {**self.model_dump(), "has_api_key": self.has_api_key}

    def describe(self) -> str:
        if self.backend == "openai":
            return f"openai-compatible {_host_of(self.base_url)} model={self.model}"
        if self.backend == "llamacpp":
            return f"llama.cpp {self.gguf_path}"
        return "offline"


_ENV_MAP = {
    "RELPRACTICE_LLM_BACKEND": "backend",
    "OPENAI_BASE_URL": "base_url",
    "OPENAI_API_KEY": "api_key",
    "OPENAI_MODEL": "model",
    "RELPRACTICE_LLM_TIMEOUT": "timeout_s",
    "RELPRACTICE_LLM_MAX_RETRIES": "max_retries",
    "RELPRACTICE_GGUF": "gguf_path",
}
_FIELDS = set(LLMSettings.model_fields)


def _clean(value: object) -> object | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    return value


def _layer(mapping: Mapping[str, Any] | None, source: str) -> dict[str, tuple[object, str]]:
    """Settings from one source: env-style names (OPENAI_API_KEY) or field names (api_key),
    and for secrets also an ``[llm]`` section."""
    out: dict[str, tuple[object, str]] = {}
    try:
        if not mapping:
            return out
        items: list[tuple[str, Any]] = list(mapping.items())
        section = mapping.get("llm") if hasattr(mapping, "get") else None
    except OSError:  # st.secrets without a secrets.toml raises FileNotFoundError
        return out
    if isinstance(section, Mapping):
        items += list(section.items())
    for name, value in items:
        key = _ENV_MAP.get(str(name), str(name))
        if key not in _FIELDS:
            continue
        v = _clean(value)
        if v is not None:
            out[key] = (v, source)
    return out


def resolve_settings(
    overrides: Mapping[str, Any] | None = None, secrets: Mapping[str, Any] | None = None
) -> LLMSettings:
    """Environment, then the Streamlit secrets mapping (passed in by the caller), then the
    Settings-page overrides (session-only). Blank values never erase a value from a lower
    layer. Raises :class:`LLMConfigError` naming the source of an invalid value."""
    env_layer = {
        field_name: (v, f"environment variable {env}")
        for env, field_name in _ENV_MAP.items()
        if (v := _clean(os.environ.get(env))) is not None
    }
    merged: dict[str, tuple[object, str]] = {}
    merged.update(env_layer)
    merged.update(_layer(secrets, "secrets"))
    merged.update(_layer(overrides, "Settings page"))
    values = {k: v for k, (v, _) in merged.items()}
    if isinstance(values.get("backend"), str):
        values["backend"] = str(values["backend"]).lower()
    try:
        settings = LLMSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        source = merged.get(name, (None, "defaults"))[1]
        hint = f" (choose one of {', '.join(BACKENDS)})" if name == "backend" else ""
        raise LLMConfigError(
            f"Invalid LLM setting {name!r} from {source}: {first['msg']}{hint}",
            field=name,
            source=source,
        ) from None
    if settings.api_key is not None:
        register_secret(settings.api_key.get_secret_value())
    return settings


def real_llm_blocked() -> bool:
    return os.environ.get(BLOCK_ENV, "").strip() not in ("", "0")


def make_model(settings: LLMSettings) -> ChatModel:
    """The model for ``settings``. ``backend='offline'`` has no model: callers check
    ``settings.backend`` first (this raises :class:`LLMConfigError`)."""
    if settings.backend == "offline":
        raise LLMConfigError(
            "The offline backend uses no language model; choose openai or llamacpp.",
        )
    if real_llm_blocked():
        raise LLMBlocked(
            f"Real LLM backends are blocked in this process ({BLOCK_ENV}=1, set by the test "
            "suite). Use ScriptedModel, or mark the test allow_real_llm."
        )
    if settings.backend == "openai":
        return OpenAICompatibleModel(
            model=settings.model,
            base_url=settings.base_url,
            api_key=settings.api_key,
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
        )
    if not settings.gguf_path:
        raise LLMConfigError(
            "No GGUF model file chosen – set RELPRACTICE_GGUF or choose a file on the Settings page"
        )
    return LlamaCppModel(settings.gguf_path, timeout_s=settings.timeout_s)


def check_connection(settings: LLMSettings, *, model: ChatModel | None = None) -> str:
    """For the Settings page's "test connection" button: one tiny request. Returns a short
    English success line; raises the clear :class:`LLMError` subclasses on failure."""
    model = model or make_model(settings)
    started = time.monotonic()
    reply = model.complete(
        [
            Message("system", "You are a connection test. Reply with the single word: ok"),
            Message("user", "ping"),
        ],
        temperature=0.0,
        max_tokens=8,
    )
    elapsed = time.monotonic() - started
    if not reply.strip():
        raise LLMResponseError(
            f"{settings.describe()} answered with an empty reply.", detail="empty reply"
        )
    return f"Connected: {settings.describe()} answered in {elapsed:.1f} s."
