"""Application settings, from the environment (and nothing else: no file is required).

| variable                | default                          | meaning |
|-------------------------|----------------------------------|---------|
| RELPRACTICE_DATA_DIR    | ./data                           | where the SQLite file and the Chroma index live |
| DATABASE_URL            | sqlite:///<data dir>/relpractice.sqlite3 | any SQLAlchemy URL, e.g. postgresql+psycopg://… |
| RELPRACTICE_SCENARIO_DIRS | (none)                         | extra scenario folders, separated by ':' |
| RELPRACTICE_ALLOW_PUBLISH | 0                              | before accounts exist: may the Studio publish to the shared library |
| RELPRACTICE_RETENTION_DAYS | 0 (keep)                      | delete transcripts older than this |
| CHROMA_HOST / CHROMA_PORT | (none)                         | use a Chroma server instead of the embedded index |
| OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_MODEL | (none)   | an OpenAI-compatible endpoint (see base.llm) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from base import datafiles

REPO_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    scenario_dirs: tuple[Path, ...]
    user_scenario_dir: Path
    allow_publish: bool
    retention_days: int
    chroma_host: str | None
    chroma_port: int | None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def library_dir(self) -> Path:
        return REPO_ROOT / "scenarios"


def load_settings() -> Settings:
    data_dir = datafiles.data_dir()
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'relpractice.sqlite3'}"
    extra_dirs = tuple(
        Path(p).expanduser()
        for p in os.environ.get("RELPRACTICE_SCENARIO_DIRS", "").split(":")
        if p
    )
    port = os.environ.get("CHROMA_PORT")
    return Settings(
        data_dir=data_dir,
        database_url=db_url,
        scenario_dirs=extra_dirs,
        user_scenario_dir=data_dir / "scenarios",
        allow_publish=_flag("RELPRACTICE_ALLOW_PUBLISH"),
        retention_days=int(os.environ.get("RELPRACTICE_RETENTION_DAYS") or 0),
        chroma_host=os.environ.get("CHROMA_HOST") or None,
        chroma_port=int(port) if port else None,
    )
