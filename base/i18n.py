"""UI strings in Danish and English, in one place: ``base/locales/*.yaml``.

Each file maps a key to ``{da: ..., en: ...}``; files are split by area (practice,
report, studio, ...) so that parts of the app can grow without editing one huge
file. Keys must be unique across files and every key needs both languages: the
test suite checks both.

    t("practice.start", "da")            -> "Start samtalen"
    t("practice.turns", "en", n=3)       -> "3 turns"
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
UI_LANGUAGES = ("da", "en")
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"{path.name}: key {key!r} is defined twice")
            merged[key] = value
    return merged


def t(key: str, lang: str, /, **fmt: object) -> str:
    """Translate `key` to `lang` ('da' or 'en'). A missing key shows as the key itself."""
    entry = catalogue().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**fmt) if fmt else text
