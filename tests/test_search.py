"""Semantic search with ChromaDB: our embedding function (never Chroma's default),
indexing of practitioner turns with context and metadata, and access rules on results
(``test_*access*`` / ``test_*cannot_see*``).

Runs against the embedded PersistentClient; with ``CHROMA_HOST`` set (read at import
time, before the autouse fixture clears it) the ``chroma_server`` tests also run against
that server.
"""

from __future__ import annotations

import os
import uuid

import pytest

from practice import search
from practice.db import Classroom, PracticeSession, ReportRow, SessionShare, TurnRow, User
from practice.services import build_services
from practice.settings import load_settings

SERVER = (  # CHROMA_TEST_HOST/PORT: set by .ci/services-env.sh (issue 7)
    os.environ.get("CHROMA_HOST") or os.environ.get("CHROMA_TEST_HOST"),
    int(os.environ.get("CHROMA_PORT") or os.environ.get("CHROMA_TEST_PORT") or 8000),
)


@pytest.fixture
def svc():
    services = build_services(load_settings())
    yield services
    services.db.dispose()


@pytest.fixture
def index(svc) -> search.SearchIndex:
    return search.SearchIndex(svc.db, search.make_client(svc.settings))


def user(svc, name: str, role: str = "practitioner", supervisor: str | None = None) -> User:
    with svc.db.Session() as s:
        u = User(
            username=name,
            display_name=name.title(),
            role=role,
            password_hash="x",
            supervisor_id=supervisor,
        )
        s.add(u)
        s.commit()
        return u


def session(
    svc, owner: User, turns, *, language="da", class_id=None, report=None, status="ended"
) -> str:
    """A stored session from (speaker, text, trust) triples."""
    with svc.db.Session() as s:
        row = PracticeSession(
            owner_id=owner.id, scenario_id="x", language=language, status=status, class_id=class_id
        )
        s.add(row)
        s.flush()
        for i, (speaker, text, trust) in enumerate(turns):
            s.add(
                TurnRow(session_id=row.id, idx=i, speaker=speaker, text=text, trust=trust, meta={})
            )
        if report is not None:
            import json

            s.add(
                ReportRow(
                    session_id=row.id,
                    rubric_version="t",
                    overall=50,
                    report_json=json.dumps(report),
                )
            )
        s.commit()
        return row.id


GOOD = [
    ("citizen", "Jeg orker ikke flere møder med kommunen.", 0.30),
    ("practitioner", "Det lyder som om, du er virkelig træt af at blive sendt rundt.", None),
    ("citizen", "Ja. Præcis.", 0.55),
    ("practitioner", "Hvad ville gøre den største forskel for dig lige nu?", None),
    ("citizen", "At nogen lyttede.", 0.65),
]
BAD = [
    ("citizen", "Jeg orker ikke flere møder med kommunen.", 0.30),
    ("practitioner", "Du har pligt til at møde op, ellers bliver din ydelse trukket.", None),
    ("citizen", "Så gider jeg ikke.", 0.15),
]


def test_embedding_function_is_ours_and_offline(index) -> None:
    ef = index.ef
    assert ef.name() == "relpractice-e5"
    assert not ef.is_legacy()
    cls = search.embedding_function_class()
    assert type(cls.build_from_config(ef.get_config())) is cls
    from base.embeddings import get_embedder

    vec = ef(["Hej med dig"])[0]
    assert len(vec) == 384
    assert list(vec) == pytest.approx(list(get_embedder().passage("Hej med dig")), abs=1e-6)
    q = ef.embed_query(["Hej med dig"])[0]
    assert list(q) == pytest.approx(list(get_embedder().query("Hej med dig")), abs=1e-6)
    # the collection was created with our function, not Chroma's ONNX default
    conf = index.collection.configuration
    assert conf["embedding_function"].name() == "relpractice-e5"
    assert conf["hnsw"]["space"] == "cosine"


def test_index_session_stores_turns_with_context_and_metadata(svc, index) -> None:
    anna = user(svc, "anna")
    report = {"behaviours": [None, "reflection", None, "open_question", None], "principles": []}
    sid = session(svc, anna, GOOD, report=report)
    assert index.index_session(sid) == 2
    got = index.collection.get(where={"session_id": sid}, include=["metadatas", "documents"])
    by_turn = {m["turn"]: (m, d) for m, d in zip(got["metadatas"], got["documents"], strict=True)}
    assert set(by_turn) == {1, 3}
    meta, doc = by_turn[1]
    assert doc == GOOD[1][1]
    assert meta["context"] == GOOD[0][1]
    assert meta["owner_id"] == anna.id
    assert meta["language"] == "da"
    assert meta["label"] == "reflection"
    assert meta["trust_delta"] == pytest.approx(0.25)
    assert meta["good"] is True
    assert by_turn[3][0]["trust_delta"] == pytest.approx(0.10)
    # re-indexing replaces, never duplicates
    assert index.index_session(sid) == 2
    assert index.count() == 2


def test_search_finds_the_similar_moment_first(svc, index) -> None:
    anna = user(svc, "anna")
    index.index_session(session(svc, anna, GOOD))
    index.index_session(session(svc, anna, BAD))
    hits = index.search(anna, "Du skal komme til mødet, ellers mister du pengene", language="da")
    assert hits[0].text == BAD[1][1]
    assert hits[0].trust_delta == pytest.approx(-0.15)
    assert hits[0].good is False
    assert hits == sorted(hits, key=lambda h: -h.score)
    good = index.similar_good_moments("Det lyder som om, du er træt af det hele", "da", anna)
    assert good
    assert all(h.good for h in good)
    assert good[0].text == GOOD[1][1]
    assert index.search(anna, "træt", language="en") == []  # language filter


def test_search_results_access_rules(svc, index) -> None:
    """A practitioner finds only their own turns; a supervisor only what was shared with
    them; an educator only their classes; an admin nothing of anyone else's."""
    sup = user(svc, "sup", "supervisor")
    anna = user(svc, "anna", supervisor=sup.id)
    bo = user(svc, "bo", supervisor=sup.id)
    edu = user(svc, "edu", "educator")
    admin = user(svc, "admin", "admin")
    with svc.db.Session() as s:
        room = Classroom(code="ABCDEF", educator_id=edu.id, scenario_id="x")
        s.add(room)
        s.commit()
        room_id = room.id
    anna_shared = session(svc, anna, GOOD)
    anna_private = session(svc, anna, BAD)
    bo_class = session(svc, bo, BAD, class_id=room_id)
    with svc.db.Session() as s:
        s.add(SessionShare(session_id=anna_shared, supervisor_id=sup.id))
        s.commit()
    for sid in (anna_shared, anna_private, bo_class):
        index.index_session(sid)
    query = "Du har pligt til at møde op"

    def sessions_of(viewer):
        return {h.session_id for h in index.search(viewer, query, k=50)}

    assert sessions_of(anna) == {anna_shared, anna_private}
    assert sessions_of(bo) == {bo_class}
    assert sessions_of(sup) == {anna_shared}  # team membership alone shares nothing
    assert sessions_of(edu) == {bo_class}
    assert sessions_of(admin) == set()
    assert index.similar_good_moments(query, "da", bo) == []  # bo has no good moments


def test_search_cannot_see_through_a_stale_index(svc, index, monkeypatch) -> None:
    """The post-filter: even if the where-filter were bypassed, hits outside the viewer's
    sessions are dropped."""
    anna = user(svc, "anna")
    bo = user(svc, "bo")
    index.index_session(session(svc, anna, GOOD))
    bo_sid = session(svc, bo, BAD)
    index.index_session(bo_sid)
    real_query = index.collection.query

    def leaky_query(**kwargs):
        kwargs.pop("where", None)
        return real_query(**kwargs)

    monkeypatch.setattr(index.collection, "query", leaky_query)
    hits = index.search(anna, "Du har pligt til at møde op", k=10)
    assert hits
    assert bo_sid not in {h.session_id for h in hits}


def test_scoring_indexes_the_session_and_catch_up_finds_missed_ones(svc, monkeypatch) -> None:
    monkeypatch.setenv("RELPRACTICE_SEARCH_INDEX", "background")  # the app's default

    class FakeReport:
        rubric_version = "t"
        overall = 50.0

        def model_dump_json(self) -> str:
            return '{"principles": [], "behaviours": []}'

    svc.practice._scorer = lambda *a, **k: FakeReport()
    anna = user(svc, "anna")
    sid = session(svc, anna, GOOD)
    svc.practice.score(anna, sid)  # the hook attached by build_services indexes it...
    assert search.drain(120)  # ...on a background thread
    idx = search.SearchIndex.for_settings(svc.db, svc.settings)
    assert idx.indexed_sessions([sid]) == {sid}
    missed = session(svc, anna, BAD)
    active = session(svc, anna, BAD, status="active")
    assert idx.catch_up() == 1
    assert idx.indexed_sessions([missed, active]) == {missed}
    assert idx.catch_up() == 0
    # synchronous and switched-off indexing
    monkeypatch.setenv("RELPRACTICE_SEARCH_INDEX", "sync")
    again = session(svc, anna, GOOD)
    svc.practice.score(anna, again)
    assert idx.indexed_sessions([again]) == {again}
    monkeypatch.setenv("RELPRACTICE_SEARCH_INDEX", "off")
    never = session(svc, anna, GOOD)
    svc.practice.score(anna, never)
    assert idx.indexed_sessions([never]) == set()


def test_module_level_similar_good_moments(svc) -> None:
    anna = user(svc, "anna")
    sid = session(svc, anna, GOOD)
    search.default_index(svc.settings, svc.db).index_session(sid)
    hits = search.similar_good_moments("Hvad betyder mest for dig?", "da", anna, k=1)
    assert [h.text for h in hits] == [GOOD[3][1]]


@pytest.mark.chroma_server
@pytest.mark.skipif(
    not SERVER[0], reason="CHROMA_HOST is not set: no Chroma server to test against"
)
def test_http_client_against_a_chroma_server(svc, monkeypatch) -> None:
    monkeypatch.setenv("CHROMA_HOST", SERVER[0])
    monkeypatch.setenv("CHROMA_PORT", str(SERVER[1]))
    settings = load_settings()
    client = search.make_client(settings)
    assert type(client).__name__ != "PersistentClient"
    name = f"test_{uuid.uuid4().hex[:8]}"
    idx = search.SearchIndex(svc.db, client, collection=name)
    try:
        anna = user(svc, "anna")
        bo = user(svc, "bo")
        idx.index_session(session(svc, anna, GOOD))
        bo_sid = session(svc, bo, BAD)
        idx.index_session(bo_sid)
        hits = idx.search(anna, "Du har pligt til at møde op", k=10)
        assert hits
        assert bo_sid not in {h.session_id for h in hits}
    finally:
        client.delete_collection(name)
