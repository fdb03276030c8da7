"""UI strings in Danish and English, in one place: ``base/locales/*.yaml``.

Each file maps a key to ``{da: ..., en: ...}``; files are split by area (practice,
report, studio, ...) so that parts of the app can grow without editing one huge
file. Keys must be unique across files and every key needs both languages: the
test suite checks both.

    t("practice.start", "da")            -> "Start samtalen"
    t("practice.turns", "en", n=3)       -> "3 turns"
    tn("report.export.times", "da", 1)    -> "1 gang"   (the key's ``.one`` form when n == 1)
    fmt_number(0.5, "da", digits=2)       -> "0,50"     (decimal comma in Danish)
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from babel.numbers import format_decimal

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


def tn(key: str, lang: str, n: int, /, **fmt: object) -> str:
    """`t` for a count: ``key.one`` when ``n == 1`` and that key exists, else ``key``; ``n``
    is passed on as ``{n}``. So "1 gang" / "2 gange", "1 time" / "2 times"."""
    one = f"{key}.one"
    if n == 1 and one in catalogue():
        key = one
    return t(key, lang, n=n, **fmt)


def fmt_number(value: float | None, lang: str, digits: int = 0, *, pct: bool = False) -> str:
    """A number as the reader writes it: ``0,45`` in Danish, ``0.45`` in English; ``digits``
    decimals; ``pct`` adds " %". None is shown as "–"."""
    if value is None:
        return "–"
    pattern = "0." + "0" * digits if digits > 0 else "0"
    text = format_decimal(value, format=pattern, locale=lang if lang in UI_LANGUAGES else "en")
    return f"{text} %" if pct else text
