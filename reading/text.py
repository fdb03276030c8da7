"""One tokenizer and one stemmer for Danish and English (Snowball), and the scope of words.

Everything that reads a turn word by word goes through here: the reading's features, the
lexicon features, the citizen's topic matching and the coach's quotes.

Scope marks which words stand under a negation ("du skal *ikke bekymre dig*"), inside a
quotation or a report ("der står *'umotiveret'*", "the file says *non-compliant*"), or in
a clause about someone else ("din mor *siger, du er doven*"). The marks are *features* of
the learned reading; they never decide a move on their own.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
_STEMMERS = {"da": "danish", "en": "english"}
_stemmer_local = threading.local()

NEGATORS: dict[str, frozenset[str]] = {
    "da": frozenset({"ikke", "ikk", "aldrig", "ingen", "intet", "ingenting", "behøver", "slet", "hverken"}),
    "en": frozenset({"not", "no", "never", "none", "nothing", "don't", "doesn't", "didn't",
                     "isn't", "aren't", "wasn't", "won't", "can't", "cannot", "shouldn't",
                     "needn't", "haven't", "hasn't", "nor", "neither"}),
}  # fmt: skip
# words after which a reported or quoted label follows ("der står", "kaldte dig", "the file says")
REPORTERS: dict[str, frozenset[str]] = {
    "da": frozenset({"står", "skriver", "skrev", "kaldte", "kalder", "kaldt", "siger", "sagde",
                     "mener", "mente", "beskriver", "beskrevet", "ordet", "betegnelsen",
                     "journalen", "sagen", "underretningen", "papirerne", "notatet"}),
    "en": frozenset({"says", "said", "say", "wrote", "writes", "written", "called", "calls",
                     "describes", "described", "word", "label", "file", "notes", "report",
                     "labelled", "labeled"}),
}  # fmt: skip
OTHERS: dict[str, frozenset[str]] = {
    "da": frozenset({"han", "hun", "de", "dem", "kommunen", "systemet", "jobcentret", "jobcenteret",
                     "skolen", "lægen", "mor", "mors", "far", "fars", "moren", "faren", "din", "andre",
                     "naboen", "naboerne", "sagsbehandleren", "sagsbehandler", "forvaltningen",
                     "psykiateren", "pædagogen", "læreren", "kollegaen", "politiet"}),
    "en": frozenset({"he", "she", "they", "them", "council", "system", "school", "doctor", "mum",
                     "mom", "mother", "father", "dad", "others", "neighbour", "neighbor", "caseworker",
                     "worker", "social", "police", "teacher", "psychiatrist", "department"}),
}  # fmt: skip
_CLAUSE_END = frozenset(".,;:!?–—")
_QUOTE_CHARS = "\"“”„«»‘’'"
_NEG_WINDOW = 4


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits; inner apostrophes and hyphens kept)."""
    return [w.lower() for w in _WORD.findall(text or "")]


def _stemmer(language: str) -> snowballstemmer.Stemmer:
    cache = getattr(_stemmer_local, "stemmers", None)
    if cache is None:
        cache = _stemmer_local.stemmers = {}
    name = _STEMMERS.get(language, "danish")
    if name not in cache:
        cache[name] = snowballstemmer.stemmer(name)
    return cache[name]


@lru_cache(maxsize=65536)
def stem(word: str, language: str = "da") -> str:
    """Snowball stem of one lower-cased word (Danish or English)."""
    return _stemmer(language).stemWord(word.lower())


def stems(text: str, language: str = "da") -> list[str]:
    return [stem(w, language) for w in tokens(text)]


@dataclass(frozen=True)
class Token:
    text: str  # lower-cased
    stem: str
    start: int  # character offsets in the original text
    end: int
    negated: bool = False
    quoted: bool = False
    reported: bool = False
    other: bool = False


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans inside quotation marks. A single quote counts only when it opens at
    a word start and closes at a word end (so "don't" is no quotation)."""
    spans: list[tuple[int, int]] = []
    for m in re.finditer(r"[\"“„«]([^\"”“»]{1,80})[\"”“»]", text):
        spans.append((m.start(1), m.end(1)))
    for m in re.finditer(r"(?:(?<=\s)|^)['‘]([^'’]{1,60})['’](?=[\s.,;:!?]|$)", text):
        spans.append((m.start(1), m.end(1)))
    return spans


def analyse(text: str, language: str = "da") -> list[Token]:
    """Tokens of one turn with their scope marks (negated, quoted, reported, about another)."""
    text = text or ""
    quoted = _quoted_spans(text)
    negators = NEGATORS.get(language, NEGATORS["da"])
    reporters = REPORTERS.get(language, REPORTERS["da"])
    others = OTHERS.get(language, OTHERS["da"])
    out: list[Token] = []
    neg_left = 0
    rep_left = 0
    other_clause = False
    last_end = 0
    for m in _WORD.finditer(text):
        gap = text[last_end : m.start()]
        if any(c in _CLAUSE_END for c in gap):
            neg_left = 0
            rep_left = 0
            other_clause = False
        word = m.group(0).lower()
        in_quote = any(a <= m.start() < b for a, b in quoted)
        tok = Token(
            text=word,
            stem=stem(word, language),
            start=m.start(),
            end=m.end(),
            negated=neg_left > 0,
            quoted=in_quote,
            reported=rep_left > 0,
            other=other_clause,
        )
        out.append(tok)
        neg_left = max(0, neg_left - 1)
        rep_left = max(0, rep_left - 1)
        if word in negators:
            neg_left = _NEG_WINDOW
        if word in reporters:
            rep_left = 6
        if (word in others and len(out) <= 2) or (
            word in others and out[-2].text in {"at", "that"}
        ):
            other_clause = True
        last_end = m.end()
    return out


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a turn (for quoting evidence)."""
    spans = []
    start = 0
    for m in re.finditer(r"[.!?…]+[\"”’)]*\s+|\n+", text):
        if m.end() > start:
            spans.append((start, m.start() + len(m.group(0).rstrip())))
            start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def sentence_at(text: str, offset: int) -> str:
    """The sentence of ``text`` that contains character ``offset``."""
    for a, b in sentences(text):
        if a <= offset < b:
            return text[a:b].strip()
    return text.strip()
