"""Phrases that often carry a move, as *features* of the reading model.

``reading/lexicon.yaml`` holds the shared phrases per move and language; a scenario adds its
own per call (its ``triggers``/``openers`` keywords). A phrase is matched on Snowball stems,
whole words, in order. Each hit carries the scope of its words (negated, quoted or
reported, about someone else), and the model learns how much a hit in each scope is worth.
No phrase decides a move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from reading.labels import MOVES
from reading.text import Token, stems

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.yaml"
# per move: [any hit, hit in plain scope, hit negated, hit quoted/reported, hit about another]
SLOTS: tuple[str, ...] = ("any", "plain", "negated", "quoted", "other")


@lru_cache(maxsize=8192)
def _phrase_stems(phrase: str, language: str) -> tuple[str, ...]:
    """A scenario phrase's stems: stemmed once, not on every turn."""
    return tuple(stems(phrase, language))


@dataclass(frozen=True)
class Hit:
    move: str
    phrase: str
    first: int  # token indices, inclusive
    last: int
    negated: bool
    quoted: bool
    other: bool

    @property
    def plain(self) -> bool:
        return not (self.negated or self.quoted or self.other)


class Lexicon:
    """Phrases per move, pre-stemmed per language."""

    def __init__(self, phrases: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        self.phrases: dict[str, dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {}
        self._by_first: dict[str, dict[str, list[tuple[str, str, tuple[str, ...]]]]] = {}
        for move, langs in phrases.items():
            if move not in MOVES:
                raise ValueError(f"{LEXICON_FILE.name}: moves.{move}: unknown move")
            self.phrases[move] = {
                lang: tuple((p, tuple(stems(p, lang))) for p in items if stems(p, lang))
                for lang, items in langs.items()
            }

    def _index(self, language: str) -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
        """Phrases by their first stem (built once per language)."""
        idx = self._by_first.get(language)
        if idx is None:
            idx = {}
            for move in MOVES:
                for phrase, st in self.phrases.get(move, {}).get(language, ()):
                    idx.setdefault(st[0], []).append((move, phrase, st))
            self._by_first[language] = idx
        return idx

    def hits(
        self,
        toks: Sequence[Token],
        language: str,
        extra: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Hit]:
        seq = [t.stem for t in toks]
        index = self._index(language)
        extra_index: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        for move, items in (extra or {}).items():
            if move not in MOVES:
                continue
            for p in items:
                st = _phrase_stems(p, language)
                if st:
                    extra_index.setdefault(st[0], []).append((move, p, st))
        out: list[Hit] = []
        seen: set[tuple[str, str, int]] = set()
        for i, first in enumerate(seq):
            for move, phrase, st in (*index.get(first, ()), *extra_index.get(first, ())):
                n = len(st)
                if tuple(seq[i : i + n]) != st or (move, phrase, i) in seen:
                    continue
                seen.add((move, phrase, i))
                span = toks[i : i + n]
                out.append(
                    Hit(
                        move,
                        phrase,
                        i,
                        i + n - 1,
                        negated=any(t.negated for t in span),
                        quoted=any(t.quoted or t.reported for t in span),
                        other=any(t.other for t in span),
                    )
                )
        out.sort(key=lambda h: (MOVES.index(h.move), h.first))
        return out


def slot_vector(hits: Sequence[Hit]) -> list[float]:
    """The lexicon features of one turn: for each move, the five slots in :data:`SLOTS`."""
    vec = [0.0] * (len(MOVES) * len(SLOTS))
    for h in hits:
        base = MOVES.index(h.move) * len(SLOTS)
        vec[base] = 1.0
        if h.plain:
            vec[base + 1] = 1.0
        if h.negated:
            vec[base + 2] = 1.0
        if h.quoted:
            vec[base + 3] = 1.0
        if h.other:
            vec[base + 4] = 1.0
    return vec


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        raise ValueError(f"{LEXICON_FILE}: schema_version: expected 1")
    return Lexicon(data.get("moves") or {})
