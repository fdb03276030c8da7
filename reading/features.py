"""The feature recipe of the reading, shared by training and inference (numpy only).

One practitioner turn in context becomes:

* a dense block: the multilingual-e5 embeddings of the turn, of the citizen's previous
  turn, and the element-wise maximum over the turn's sentences (so that one directive
  sentence inside friendly ones still shows); surface features (question form, length,
  person); scope features (negators, quotations, reports, other people); uptake features
  (shared stems with the citizen's turn, shared phrases, cosine); and the lexicon features
  (:mod:`reading.lexicon`), per move and scope. (The product of the turn and previous-turn
  embeddings lowered grouped cross-validation on the corpus, 0.758 vs 0.752 macro-F1
  without it; a small MLP head over the same features scored 0.72 and did not help in an
  ensemble either.)
* two sparse TF-IDF blocks: word 1–2-grams over the turn with scope marks folded into the
  words ("ikke NEG_bekymre"), and character 2–5-grams inside words.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from base.embeddings import DIM, get_embedder
from reading.lexicon import Hit, default_lexicon, slot_vector
from reading.text import NEGATORS, Token, analyse, sentences

RECIPE = "reading-v2: e5q(turn,prev,maxpool(sentences))|surface|scope|uptake|lexicon + tfidf(marked word1-2, char_wb2-5)"

_Q_WORD = re.compile(
    r"^\W*(hvad|hvordan|hvorfor|hvornår|hvem|hvilke|hvilken|hvilket|hvor|fortæl|beskriv|"
    r"what|how|why|when|who|whom|which|where|tell me|describe)\b",
    re.I,
)
_INVERTED = re.compile(
    r"^\W*(har|er|kan|vil|skal|må|bør|gør|går|kommer|tænker|synes|mener|ved|kender|"
    r"var|havde|kunne|ville|skulle|burde|får|fik|tror|føler|oplever|bruger|"
    r"do|does|did|is|are|was|were|have|has|had|can|could|will|would|should|shall|may|might|"
    r"am|any)\s+(du|i|det|der|han|hun|de|vi|man|jeg|den|dit|din|dine|you|it|there|he|she|"
    r"they|we|i|that|this|your|anything|anyone)\b",
    re.I,
)
_REFLECT_START = re.compile(
    r"^\W*(så du|så det|det lyder|du siger|du fortæller|du oplever|du føler|"
    r"so you|sounds like|it sounds|you feel|you're saying|it seems)\b",
    re.I,
)
_FIRST = frozenset(
    {"jeg", "mig", "min", "mit", "mine", "vi", "os", "i", "me", "my", "we", "us", "our"}
)
_SECOND = frozenset({"du", "dig", "din", "dit", "dine", "jer", "you", "your", "yours", "yourself"})
STOP_WORDS = _STOP = frozenset(
    [
        "og",
        "i",
        "at",
        "det",
        "er",
        "en",
        "den",
        "til",
        "på",
        "med",
        "for",
        "af",
        "som",
        "de",
        "der",
        "han",
        "hun",
        "jeg",
        "du",
        "vi",
        "dig",
        "mig",
        "ikke",
        "har",
        "var",
        "skal",
        "kan",
        "vil",
        "så",
        "men",
        "om",
        "hvad",
        "hvordan",
        "noget",
        "meget",
        "bare",
        "også",
        "lige",
        "nu",
        "her",
        "det's",
        "the",
        "a",
        "an",
        "and",
        "or",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "you",
        "i",
        "we",
        "he",
        "she",
        "they",
        "me",
        "my",
        "your",
        "not",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "so",
        "but",
        "if",
        "what",
        "how",
        "just",
        "really",
    ]
)

SURFACE_NAMES: tuple[str, ...] = (
    "ends_q", "has_q", "n_q", "q_word_start", "inverted_start", "reflect_start", "log_len",
    "short", "very_long", "n_sentences", "first_person", "second_person", "has_prev",
    "prev_is_question", "n_negators", "has_quote", "reported_share", "other_share",
    "negated_share", "overlap_count", "overlap_prev_share", "overlap_turn_share",
    "shared_bigram", "cosine_prev",
)  # fmt: skip


@dataclass(frozen=True)
class Item:
    """One practitioner turn and what the reading needs of its context."""

    text: str
    previous_citizen: str | None = None
    language: str = "da"
    extra: Mapping[str, Sequence[str]] | None = None  # scenario phrases per move


def _content(toks: Sequence[Token]) -> list[Token]:
    return [t for t in toks if len(t.text) > 2 and t.text not in _STOP]


def marked_text(toks: Sequence[Token], raw: str) -> str:
    """The turn's words with scope folded in, for the word n-gram block."""
    parts = []
    for t in toks:
        w = t.text
        if t.quoted or t.reported:
            w = "Q_" + w
        elif t.negated:
            w = "NEG_" + w
        parts.append(w)
    if "?" in raw:
        parts.append("?")
    return " ".join(parts)


def surface(
    item: Item, toks: Sequence[Token], prev_toks: Sequence[Token], cosine: float
) -> list[float]:
    t = item.text.strip()
    n = max(len(toks), 1)
    prev = (item.previous_citizen or "").strip()
    mine = {x.stem for x in _content(toks)}
    theirs = {x.stem for x in _content(prev_toks)}
    shared = mine & theirs
    prev_bigrams = {(a.stem, b.stem) for a, b in itertools.pairwise(prev_toks)}
    bigram = any((a.stem, b.stem) in prev_bigrams for a, b in itertools.pairwise(toks))
    negs = NEGATORS.get(item.language, NEGATORS["da"])
    n_sent = max(1, len(re.findall(r"[.!?]+(\s|$)", t)))
    return [
        float(t.endswith("?")),
        float("?" in t),
        min(t.count("?"), 3) / 3.0,
        float(bool(_Q_WORD.search(t))),
        float(bool(_INVERTED.search(t))),
        float(bool(_REFLECT_START.search(t))),
        math.log1p(len(toks)) / 5.0,
        float(len(toks) <= 3),
        float(len(toks) >= 80),
        min(n_sent, 8) / 8.0,
        sum(x.text in _FIRST for x in toks) / n,
        sum(x.text in _SECOND for x in toks) / n,
        float(bool(prev)),
        float(prev.endswith("?")),
        min(sum(x.text in negs for x in toks), 3) / 3.0,
        float(any(x.quoted for x in toks)),
        sum(x.reported for x in toks) / n,
        sum(x.other for x in toks) / n,
        sum(x.negated for x in toks) / n,
        min(len(shared), 5) / 5.0,
        len(shared) / len(theirs) if theirs else 0.0,
        len(shared) / len(mine) if mine else 0.0,
        float(bigram),
        cosine,
    ]


N_SURFACE = len(SURFACE_NAMES)


def dense_features(
    items: Sequence[Item], turn_emb: np.ndarray, prev_emb: np.ndarray, sent_emb: np.ndarray
) -> tuple[np.ndarray, list[list[Token]], list[list[Hit]]]:
    """Dense rows, the analysed tokens and the lexicon hits of each item."""
    lex = default_lexicon()
    rows = []
    all_toks: list[list[Token]] = []
    all_hits: list[list[Hit]] = []
    for k, it in enumerate(items):
        toks = analyse(it.text, it.language)
        prev_toks = analyse(it.previous_citizen or "", it.language)
        hits = lex.hits(toks, it.language, it.extra)
        cos = float(turn_emb[k] @ prev_emb[k]) if it.previous_citizen else 0.0
        rows.append(
            np.concatenate(
                [
                    turn_emb[k],
                    prev_emb[k],
                    sent_emb[k],
                    np.asarray(surface(it, toks, prev_toks, cos), dtype=np.float32),
                    np.asarray(slot_vector(hits), dtype=np.float32),
                ]
            )
        )
        all_toks.append(toks)
        all_hits.append(hits)
    width = 3 * DIM + N_SURFACE + len(slot_vector([]))
    dense = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, width), np.float32)
    return dense, all_toks, all_hits


def turn_sentences(text: str) -> list[str]:
    """The sentences of a turn as embedded for the max-pool block (the turn itself when it
    is one sentence, so that its embedding is shared)."""
    parts = [text[a:b].strip() for a, b in sentences(text)]
    parts = [p for p in parts if p]
    return parts if len(parts) > 1 else [text or " "]


def sentence_max(flat: np.ndarray, owners: Sequence[int], n: int) -> np.ndarray:
    out = np.full((n, DIM), -1.0, dtype=np.float32)
    for vec, k in zip(flat, owners, strict=True):
        np.maximum(out[k], vec, out=out[k])
    return out


def embed(items: Sequence[Item], embed_fn: Callable[[list[str]], np.ndarray] | None = None):
    """'query:' embeddings of the turns, of their previous citizen turns (zeros if none) and
    the max-pool over each turn's sentences."""
    if embed_fn is None:
        emb = get_embedder()
        embed_fn = emb.query
    n = len(items)
    texts = [it.text or " " for it in items]
    sents: list[str] = []
    owners: list[int] = []
    for k, t in enumerate(texts):
        for s in turn_sentences(t):
            sents.append(s)
            owners.append(k)
    prev_idx = [i for i, it in enumerate(items) if (it.previous_citizen or "").strip()]
    prev_texts = [items[i].previous_citizen or " " for i in prev_idx]
    if n == 0:
        z = np.zeros((0, DIM), np.float32)
        return z, z, z
    # one call, so that the turn, its sentences and the context share one batch
    unique = list(dict.fromkeys([*texts, *sents, *prev_texts]))
    vecs = dict(zip(unique, embed_fn(unique), strict=True))
    turn = np.stack([vecs[t] for t in texts]).astype(np.float32)
    prev = np.zeros_like(turn)
    if prev_idx:
        prev[prev_idx] = np.stack([vecs[t] for t in prev_texts])
    sent = sentence_max(np.stack([vecs[s] for s in sents]), owners, n)
    return turn, prev, sent
