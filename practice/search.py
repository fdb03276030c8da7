"""Semantic search over practised turns, with ChromaDB.

- Embedded by default: a ``chromadb.PersistentClient`` in ``<data dir>/chroma``; set
  ``CHROMA_HOST`` (and ``CHROMA_PORT``, default 8000) to use a Chroma server instead.
  Telemetry is off.
- Embeddings come only from ``base.embeddings.get_embedder()`` (offline multilingual
  e5, "passage:" for stored turns, "query:" for searches) through
  :func:`embedding_function`; Chroma's default (ONNX, downloaded) is never used.
- One record per practitioner turn; the embedded text is the citizen turn before it
  plus the practitioner's words, so "moments like this" finds similar *situations*.
  Metadata: session_id, owner_id, class_id, turn (idx), language, label (behaviour code),
  trust_before/after/delta, good (trust rose, or the coach cited it as evidence for a
  principle), source.
- Access rules apply to results: a search only ever asks Chroma for the session ids that
  ``practice.access.visible_sessions(viewer)`` allows (a where-filter), and every hit is
  checked against that set again before it is returned (a post-filter).

Indexing happens when a session is scored (end of practice, upload): see
:func:`attach` and ``PracticeService.after_score``; :meth:`SearchIndex.catch_up` indexes
anything missed (sessions from before the index existed, a failed hook).

    index = SearchIndex.for_settings(db, settings)
    index.index_session(session_id)
    index.search(viewer, "borgeren bliver vred over kravet", language="da")
    index.similar_good_moments("Hvad er vigtigst for dig?", "da", viewer)
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from base.embeddings import get_embedder
from practice.access import visible_sessions
from practice.db import (
    Database,
    PracticeSession,
    TurnRow,
    User,
    latest_report_json,
)
from practice.settings import load_settings

log = logging.getLogger(__name__)

COLLECTION = "relpractice_turns"
EF_NAME = "relpractice-e5"
MAX_IN = 5000  # session ids per where-filter; more are searched in chunks
_CONTEXT_CHARS = 600


_ef_class: Any = None
_ef_lock = threading.Lock()


def embedding_function_class() -> Any:
    """Chroma's EmbeddingFunction protocol over ``base.embeddings.get_embedder()``.

    Built on first use (importing chromadb takes seconds; the app should not pay for it
    at start-up) and registered with Chroma under the name ``relpractice-e5``."""
    global _ef_class
    with _ef_lock:
        if _ef_class is not None:
            return _ef_class
        from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
        from chromadb.utils.embedding_functions import (
            known_embedding_functions,
            register_embedding_function,
        )

        class RelpracticeEmbeddingFunction(EmbeddingFunction[Documents]):
            def __init__(self) -> None:
                self._embedder: Any = None

            def _get(self) -> Any:
                if self._embedder is None:
                    self._embedder = get_embedder()
                return self._embedder

            def __call__(self, input: Documents) -> Embeddings:
                return list(self._get().passage(list(input)))

            def embed_query(self, input: Documents) -> Embeddings:
                return list(self._get().query(list(input)))

            @staticmethod
            def name() -> str:
                return EF_NAME

            def get_config(self) -> dict[str, Any]:
                return {}

            @staticmethod
            def build_from_config(config: dict[str, Any]) -> Any:
                return RelpracticeEmbeddingFunction()

            def default_space(self) -> Any:
                return "cosine"

            def supported_spaces(self) -> Any:
                return ["cosine", "ip", "l2"]

        if EF_NAME not in known_embedding_functions:
            register_embedding_function(RelpracticeEmbeddingFunction)
        _ef_class = RelpracticeEmbeddingFunction
        return _ef_class


def embedding_function() -> Any:
    return embedding_function_class()()


def make_client(settings: Any) -> Any:
    """A Chroma client: HttpClient when ``CHROMA_HOST`` is set, else a PersistentClient
    under ``<data dir>/chroma``. Telemetry is always off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if getattr(settings, "chroma_host", None):
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port or 8000, settings=chroma_settings
        )
    path = Path(settings.data_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


@dataclass
class Hit:
    session_id: str
    owner_id: str
    class_id: str | None
    turn: int
    language: str
    text: str  # the practitioner's words
    context: str  # the citizen turn before it
    label: str
    trust_delta: float | None
    good: bool
    score: float  # similarity, 1 = identical


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i : i + n] for i in range(0, len(items), n)] or [[]]


def _report_facts(report_json: str | None) -> tuple[list[Any], set[int]]:
    """(behaviour code per turn, turns cited as evidence *for* a principle) from a report."""
    if not report_json:
        return [], set()
    try:
        report = json.loads(report_json)
    except ValueError:
        return [], set()
    good = {
        int(ev["turn"])
        for p in report.get("principles", [])
        for ev in p.get("evidence", [])
        if ev.get("polarity") == "for" and isinstance(ev.get("turn"), int)
    }
    return list(report.get("behaviours") or []), good


class SearchIndex:
    """Thread-safe; one per process and data folder (see :func:`for_settings`)."""

    def __init__(self, db: Database, client: Any, *, collection: str = COLLECTION):
        self.db = db
        self.client = client
        self.ef = embedding_function()
        self.collection = client.get_or_create_collection(
            collection,
            embedding_function=self.ef,
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._lock = threading.Lock()
        self._checked: set[str] = set()

    _instances: dict[tuple, SearchIndex] = {}  # noqa: RUF012 - process-wide cache
    _instances_lock = threading.Lock()

    @classmethod
    def for_settings(cls, db: Database, settings: Any) -> SearchIndex:
        key = (db.url, str(settings.data_dir), settings.chroma_host, settings.chroma_port)
        with cls._instances_lock:
            inst = cls._instances.get(key)
            if inst is None or inst.db is not db:
                inst = cls(db, make_client(settings))
                cls._instances[key] = inst
            return inst

    # -- indexing ------------------------------------------------------------------------
    def index_session(self, session_id: str) -> int:
        """(Re)index the practitioner turns of one session. A system action (no viewer):
        results are filtered per viewer at search time. Returns the number of records."""
        with self.db.Session() as s:
            row = s.get(PracticeSession, session_id)
            if row is None:
                self.remove_session(session_id)
                return 0
            turns = list(
                s.execute(
                    select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.idx)
                ).scalars()
            )
            report_json = latest_report_json(s, session_id)
            owner, class_id, language, source = row.owner_id, row.class_id, row.language, row.source
        labels, cited = _report_facts(report_json)
        ids, docs, texts, metas = [], [], [], []
        last_trust: float | None = None
        previous_citizen = ""
        for i, t in enumerate(turns):
            if t.speaker == "citizen":
                previous_citizen = t.text
                if t.trust is not None:
                    last_trust = t.trust
                continue
            nxt = turns[i + 1] if i + 1 < len(turns) else None
            after = nxt.trust if nxt is not None and nxt.speaker == "citizen" else None
            delta = after - last_trust if after is not None and last_trust is not None else None
            label = (
                labels[t.idx]
                if t.idx < len(labels) and labels[t.idx]
                else (t.meta or {}).get("label") or ""
            )
            good = (delta is not None and delta > 0) or t.idx in cited
            ids.append(f"{session_id}:{t.idx}")
            docs.append(t.text)
            context = previous_citizen[-_CONTEXT_CHARS:]
            texts.append(f"{context}\n{t.text}" if context else t.text)
            metas.append(
                {
                    "session_id": session_id,
                    "owner_id": owner,
                    "class_id": class_id or "",
                    "turn": t.idx,
                    "language": language,
                    "label": str(label),
                    "context": context,
                    "trust_before": -1.0 if last_trust is None else float(last_trust),
                    "trust_after": -1.0 if after is None else float(after),
                    "trust_delta": 0.0 if delta is None else float(delta),
                    "has_trust": delta is not None,
                    "good": bool(good),
                    "source": source,
                }
            )
        with self._lock:
            self.remove_session(session_id)
            if ids:
                self.collection.upsert(
                    ids=ids, documents=docs, metadatas=metas, embeddings=self.ef(texts)
                )
            self._checked.add(session_id)
        return len(ids)

    def remove_session(self, session_id: str) -> None:
        self.collection.delete(where={"session_id": session_id})

    def indexed_sessions(self, session_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(session_ids, 500):
            if not chunk:
                continue
            got = self.collection.get(where={"session_id": {"$in": chunk}}, include=["metadatas"])
            found |= {m["session_id"] for m in got["metadatas"] or []}
        return found

    def catch_up(self) -> int:
        """Index ended sessions that are not in the index yet. Returns how many were indexed."""
        with self.db.Session() as s:
            ended = list(
                s.execute(
                    select(PracticeSession.id).where(PracticeSession.status == "ended")
                ).scalars()
            )
        todo = [sid for sid in ended if sid not in self._checked]
        if not todo:
            return 0
        have = self.indexed_sessions(todo)
        n = 0
        for sid in todo:
            if sid not in have:
                self.index_session(sid)
                n += 1
            self._checked.add(sid)
        return n

    def count(self) -> int:
        return self.collection.count()

    # -- searching ------------------------------------------------------------------------
    def _visible_ids(self, viewer: User) -> set[str]:
        with self.db.Session() as s:
            sub = visible_sessions(viewer).with_only_columns(PracticeSession.id)
            return set(s.execute(sub).scalars())

    def search(
        self,
        viewer: User,
        text: str,
        *,
        language: str | None = None,
        k: int = 10,
        good_only: bool = False,
        exclude_session: str | None = None,
        owners: list[str] | None = None,
    ) -> list[Hit]:
        """Turns like ``text`` among the sessions ``viewer`` may see, best first."""
        text = (text or "").strip()
        if not text or k <= 0:
            return []
        allowed = self._visible_ids(viewer)
        allowed.discard(exclude_session or "")
        if not allowed:
            return []
        qvec = self.ef.embed_query([text[:2000]])
        hits: list[Hit] = []
        for chunk in _chunks(sorted(allowed), MAX_IN):
            clauses: list[dict[str, Any]] = [{"session_id": {"$in": chunk}}]
            if language:
                clauses.append({"language": language})
            if good_only:
                clauses.append({"good": True})
            if owners:
                clauses.append({"owner_id": {"$in": list(owners)}})
            where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
            with self._lock:
                available = self.collection.count()
                if not available:
                    return []
                res = self.collection.query(
                    query_embeddings=qvec,
                    n_results=min(k, available),
                    where=where,
                    include=["documents", "metadatas", "distances"],
                )
            for doc, meta, dist in zip(
                res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
            ):
                if (
                    meta.get("session_id") not in allowed
                ):  # post-filter: never trust the index alone
                    continue
                hits.append(
                    Hit(
                        session_id=str(meta["session_id"]),
                        owner_id=str(meta.get("owner_id", "")),
                        class_id=str(meta.get("class_id") or "") or None,
                        turn=int(meta.get("turn", 0)),
                        language=str(meta.get("language", "")),
                        text=doc or "",
                        context=str(meta.get("context", "")),
                        label=str(meta.get("label", "")),
                        trust_delta=float(meta["trust_delta"]) if meta.get("has_trust") else None,
                        good=bool(meta.get("good")),
                        score=1.0 - float(dist),
                    )
                )
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    def similar_good_moments(
        self,
        text: str,
        language: str,
        viewer: User,
        *,
        k: int = 3,
        exclude_session: str | None = None,
    ) -> list[Hit]:
        """Well-handled moments (trust rose after them, or the coach cited them as good
        evidence) similar to ``text``, that ``viewer`` may see. For the coach's suggestions."""
        hits = self.search(
            viewer,
            text,
            language=language,
            k=k * 3,
            good_only=True,
            exclude_session=exclude_session,
        )
        # similarity first; a clear rise in trust breaks near-ties
        hits.sort(key=lambda h: -(h.score + 0.1 * max(h.trust_delta or 0.0, 0.0)))
        return hits[:k]


# --------------------------------------------------------------------------- wiring


def default_index(settings: Any = None, db: Database | None = None) -> SearchIndex:
    """The process-wide index for the app's settings (creates the database handle if needed)."""

    settings = settings or load_settings()
    if db is None:
        db = _default_db(settings.database_url)
    return SearchIndex.for_settings(db, settings)


_dbs: dict[str, Database] = {}
_dbs_lock = threading.Lock()


def _default_db(url: str) -> Database:
    with _dbs_lock:
        if url not in _dbs:
            _dbs[url] = Database(url)
        return _dbs[url]


def similar_good_moments(
    text: str, language: str, viewer: User, *, k: int = 3, exclude_session: str | None = None
) -> list[Hit]:
    """Module-level convenience for the coach: see :meth:`SearchIndex.similar_good_moments`.
    Returns [] if the index cannot be opened (search is an extra, never a failure)."""
    try:
        index = default_index()
    except Exception:  # pragma: no cover - a broken Chroma server must not break the coach
        log.exception("semantic search unavailable")
        return []
    return index.similar_good_moments(text, language, viewer, k=k, exclude_session=exclude_session)


class _Worker:
    """One background thread that indexes scored sessions, so ending a session never
    waits for embeddings. ``drain()`` waits until the queue is empty (tests, shutdown)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Any, Any, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, db: Database, settings: Any, session_id: str) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="relpractice-search-index", daemon=True
                )
                self._thread.start()
        self._queue.put((db, settings, session_id))

    def _run(self) -> None:
        while True:
            db, settings, session_id = self._queue.get()
            try:
                SearchIndex.for_settings(db, settings).index_session(session_id)
            except Exception:
                log.exception("could not index session %s for search", session_id)
            finally:
                self._queue.task_done()

    def drain(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


_worker = _Worker()


def drain(timeout: float = 60.0) -> bool:
    """Wait for background indexing to finish. True if the queue emptied in time."""
    return _worker.drain(timeout)


def index_mode() -> str:
    """``RELPRACTICE_SEARCH_INDEX``: background (default), sync, or off."""
    mode = (os.environ.get("RELPRACTICE_SEARCH_INDEX") or "background").strip().lower()
    return mode if mode in ("background", "sync", "off") else "background"


def attach(practice: Any, settings: Any) -> None:
    """Index a session whenever it is scored (end of practice, upload), on a background
    thread by default. Failures are logged, never raised: the report matters more."""

    def _hook(session_id: str) -> None:
        mode = index_mode()
        if mode == "off":
            return
        if mode == "background":
            _worker.submit(practice.db, settings, session_id)
            return
        try:
            SearchIndex.for_settings(practice.db, settings).index_session(session_id)
        except Exception:
            log.exception("could not index session %s for search", session_id)

    hooks = getattr(practice, "after_score", None)
    if hooks is not None:
        hooks.append(_hook)


def stats(index: SearchIndex) -> dict[str, int]:
    with index.db.Session() as s:
        ended = s.execute(
            select(func.count(PracticeSession.id)).where(PracticeSession.status == "ended")
        ).scalar_one()
    return {"records": index.count(), "ended_sessions": int(ended)}
