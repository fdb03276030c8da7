"""Shared test setup.

- Real LLM backends are refused unless a test is marked ``allow_real_llm``
  (``practice.llm`` reads RELPRACTICE_BLOCK_REAL_LLM).
- Each test gets its own data directory and SQLite file, so nothing touches the
  developer's real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolate(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if request.node.get_closest_marker("allow_real_llm") is None:
        monkeypatch.setenv("RELPRACTICE_BLOCK_REAL_LLM", "1")
    else:
        monkeypatch.delenv("RELPRACTICE_BLOCK_REAL_LLM", raising=False)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "DATABASE_URL", "CHROMA_HOST", "CHROMA_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RELPRACTICE_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def repo() -> Path:
    return REPO
