from __future__ import annotations

import re

import pytest
import yaml

from base import i18n


def test_every_key_has_danish_and_english_text() -> None:
    missing = [
        k
        for k, v in i18n.catalogue().items()
        if not (isinstance(v, dict) and v.get("da") and v.get("en"))
    ]
    assert missing == []


def test_placeholders_match_between_languages() -> None:
    ph = re.compile(r"\{(\w+)\}")
    bad = [
        k
        for k, v in i18n.catalogue().items()
        if set(ph.findall(v["da"])) != set(ph.findall(v["en"]))
    ]
    assert bad == []


def test_keys_are_unique_across_files(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"x.y": {"da": "a", "en": "a"}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"x.y": {"da": "b", "en": "b"}}))
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="defined twice"):
            i18n.catalogue()
    finally:
        i18n.catalogue.cache_clear()


def test_translation_and_formatting() -> None:
    assert i18n.t("practise.start", "da") == "Start samtalen"
    assert i18n.t("practise.start", "en") == "Start the conversation"
    assert i18n.t("practise.turn_count", "en", n=3) == "3 turns"
    assert i18n.t("no.such.key", "da") == "no.such.key"
