"""The one place that builds the app's services.

The UI calls ``get_services()`` through ``st.cache_resource`` (one instance per process,
shared by every browser session; everything in it is read-only or thread-safe). The
CLIs, the benchmarks and the tests call ``build_services(settings)`` directly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citizen.library import Library, load_library
from practice.db import Database
from practice.migrate import upgrade
from practice.privacy import purge_on_startup
from practice.reports import build_report
from practice.search import attach
from practice.sessions import PracticeService
from practice.settings import Settings, load_settings


class LibraryCache:
    """The scenario library, reloaded when a scenario file is added, changed or removed."""

    def __init__(self, dirs: list[Path]):
        self.dirs = dirs
        self._lock = threading.Lock()
        self._signature: tuple = ()
        self._library: Library | None = None

    def _current_signature(self) -> tuple:
        sig = []
        for d in self.dirs:
            if d.is_dir():
                for p in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]):
                    try:
                        st = p.stat()
                    except OSError:
                        continue
                    sig.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(sig)

    def __call__(self) -> Library:
        sig = self._current_signature()
        with self._lock:
            if self._library is None or sig != self._signature:
                self._library = load_library(*[d for d in self.dirs if d.is_dir()])
                self._signature = sig
            return self._library


def default_scorer(transcript: Any, *, scenario: Any = None, state_json: str | None = None) -> Any:
    return build_report(transcript, scenario=scenario, state_json=state_json)


@dataclass
class Services:
    settings: Settings
    db: Database
    library: LibraryCache
    practice: PracticeService


def build_services(settings: Settings | None = None) -> Services:
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)

    upgrade(db)
    dirs = [settings.library_dir, *settings.scenario_dirs, settings.user_scenario_dir]
    library = LibraryCache(dirs)
    practice = PracticeService(db, library, scorer=default_scorer)

    attach(practice, settings)  # index sessions for semantic search when they are scored

    purge_on_startup(db, settings)  # RELPRACTICE_RETENTION_DAYS (issue 7); 0 keeps everything
    return Services(settings=settings, db=db, library=library, practice=practice)
