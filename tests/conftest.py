"""Shared test setup.

- Real LLM backends are refused unless a test is marked ``allow_real_llm``
  (``base.llm`` reads RELPRACTICE_BLOCK_REAL_LLM).
- Each test gets its own data directory and SQLite file, so nothing touches the
  developer's real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolate(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if request.node.get_closest_marker("allow_real_llm") is None:
        monkeypatch.setenv("RELPRACTICE_BLOCK_REAL_LLM", "1")
    else:
        monkeypatch.delenv("RELPRACTICE_BLOCK_REAL_LLM", raising=False)
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "DATABASE_URL",
        "CHROMA_HOST",
        "CHROMA_PORT",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RELPRACTICE_DATA_DIR", str(tmp_path / "data"))
    # no background indexing threads outliving a test; search tests opt in with "sync"
    monkeypatch.setenv("RELPRACTICE_SEARCH_INDEX", "off")


@pytest.fixture
def repo() -> Path:
    return REPO


# --------------------------------------------------------------------------------------
# PostgreSQL and Chroma server parametrisation (issue 7). Test-only variables, set by
# .ci/services-env.sh: TEST_DATABASE_URL (a PostgreSQL database the tests may create
# schemas in) and CHROMA_TEST_HOST / CHROMA_TEST_PORT (a Chroma server on loopback).
# When set, every test in DB_MODULES runs twice, [sqlite] and [postgres] (each postgres
# run in a fresh schema, dropped afterwards), and every test in CHROMA_MODULES runs
# against the embedded client and [chroma-server].

import os  # noqa: E402
import uuid  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
CHROMA_TEST_HOST = os.environ.get("CHROMA_TEST_HOST") or None
CHROMA_TEST_PORT = int(os.environ.get("CHROMA_TEST_PORT") or 8000)
DB_MODULES = {
    "test_persistence",
    "test_access_rules",
    "test_accounts",
    "test_review",
    "test_classroom",
    "test_progress",
    "test_import",
    "test_privacy",
    "test_migrations",
}
CHROMA_MODULES = {"test_search"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if TEST_DATABASE_URL and module in DB_MODULES and "db_backend" in metafunc.fixturenames:
        metafunc.parametrize("db_backend", ["sqlite", "postgres"], indirect=True)
    if CHROMA_TEST_HOST and module in CHROMA_MODULES and "chroma_backend" in metafunc.fixturenames:
        metafunc.parametrize("chroma_backend", ["embedded", "chroma-server"], indirect=True)


_pg_admin = None


def _pg_admin_engine():
    global _pg_admin
    if _pg_admin is None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        _pg_admin = create_engine(TEST_DATABASE_URL, poolclass=NullPool)
    return _pg_admin


def pg_schema_url(schema: str) -> str:
    """TEST_DATABASE_URL with ``schema`` as the search path (tables land there)."""
    from sqlalchemy.engine import make_url

    url = make_url(TEST_DATABASE_URL).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    return url.render_as_string(hide_password=False)


def pg_create_schema(schema: str) -> str:
    from sqlalchemy import text

    with _pg_admin_engine().begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return pg_schema_url(schema)


def pg_drop_schema(schema: str) -> None:
    from sqlalchemy import text

    with _pg_admin_engine().begin() as conn:
        # connections a test forgot to close would block DROP SCHEMA
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :a AND pid <> pg_backend_pid()"
            ),
            {"a": schema},
        )
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(autouse=True)
def db_backend(request: pytest.FixtureRequest, _isolate: None, monkeypatch: pytest.MonkeyPatch):
    """``sqlite`` (the default) or ``postgres``: DATABASE_URL points at a fresh schema."""
    backend = getattr(request, "param", "sqlite")
    if backend != "postgres":
        yield backend
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("DATABASE_URL", pg_create_schema(schema))
    try:
        yield backend
    finally:
        pg_drop_schema(schema)


@pytest.fixture(autouse=True)
def chroma_backend(request: pytest.FixtureRequest, _isolate: None, monkeypatch: pytest.MonkeyPatch):
    """``embedded`` (the default) or ``chroma-server``: CHROMA_HOST/PORT point at the test
    server, whose shared collection is emptied before and after the test."""
    backend = getattr(request, "param", "embedded")
    if backend != "chroma-server":
        yield backend
        return
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from practice.search import COLLECTION

    client = chromadb.HttpClient(
        host=CHROMA_TEST_HOST,
        port=CHROMA_TEST_PORT,
        settings=ChromaSettings(anonymized_telemetry=False),
    )

    def _clear() -> None:
        if COLLECTION in {getattr(c, "name", c) for c in client.list_collections()}:
            client.delete_collection(COLLECTION)

    _clear()
    monkeypatch.setenv("CHROMA_HOST", CHROMA_TEST_HOST)
    monkeypatch.setenv("CHROMA_PORT", str(CHROMA_TEST_PORT))
    try:
        yield backend
    finally:
        from practice import search

        search.drain(60)
        _clear()
