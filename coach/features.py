"""Feature recipe of the behaviour coder (numpy only; shared by training and inference).

Two views of one practitioner utterance, each with its own logistic regression (the coder
averages their logits, :mod:`coach.coder`):

1. ``[e(utt), surface(utt, prev)]`` where ``e`` is the multilingual-e5 'query:' embedding
   from :func:`practice.embeddings.get_embedder` and ``prev`` is the citizen's previous
   turn (used by the surface features: word overlap, presence). Embedding ``prev`` as well
   ([e(utt), e(prev), e(utt)*e(prev)]) did not improve grouped cross-validation on AnnoMI
   (main-4 macro-F1 0.746 vs 0.748), so the recipe costs one embedding per utterance.
2. TF-IDF of the utterance: word 1-2-grams and ``char_wb`` 2-5-grams, sublinear tf, each
   block l2-normalised (:class:`TfidfBlock`, a numpy reimplementation of sklearn's
   ``TfidfVectorizer`` that training checks against sklearn).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

RECIPE = "e5q(utt)|surface-v1 + tfidf(word1-2,char_wb2-5)-v1"

_Q_WORD = re.compile(
    r"^\W*(hvad|hvordan|hvorfor|hvornår|hvem|hvilke|hvilken|hvilket|hvor|fortæl|beskriv|"
    r"what|how|why|when|who|whom|which|where|tell me|describe)\b",
    re.I,
)
# Danish yes/no questions put the verb first ("Har du ...", "Er det ...", "Kan du ...").
_INVERTED = re.compile(
    r"^\W*(har|er|kan|vil|skal|må|bør|gør|går|kommer|tænker|synes|mener|ved|kender|"
    r"var|havde|kunne|ville|skulle|burde|får|fik|tror|føler|oplever|bruger|"
    r"do|does|did|is|are|was|were|have|has|had|can|could|will|would|should|shall|may|might|"
    r"am|any)\s+(du|i|det|der|han|hun|de|vi|man|jeg|den|dit|din|dine|you|it|there|he|she|"
    r"they|we|i|that|this|your|anything|anyone)\b",
    re.I,
)
_TAG_Q = re.compile(
    r"(ikke\?|ikk'?\?|right\?|isn't it\?|don't you\?|is that right\?|er det rigtigt\?|ja\?|okay\?)\s*$",
    re.I,
)
_REFLECT_START = re.compile(
    r"^\W*(så du|så det|det lyder|det lyder som|du siger|du fortæller|du oplever|du føler|"
    r"du er|du har|du vil|du tænker|det er|på den ene side|"
    r"so you|sounds like|it sounds|you're|you are|you feel|you've|you have|you want|you think|"
    r"you're saying|on the one hand|it seems)\b",
    re.I,
)
_ADVICE = re.compile(
    r"\b(du skal|du bør|du burde|du må|jeg vil foreslå|jeg vil anbefale|jeg foreslår|prøv at|"
    r"du kunne|you should|you need to|you must|i suggest|i recommend|i would suggest|try to|"
    r"you could|you might want)\b",
    re.I,
)
_TOKEN = re.compile(r"[a-zæøåäöüé]+", re.I)

SURFACE_NAMES: tuple[str, ...] = (
    "ends_q",
    "has_q",
    "n_q",
    "q_word_start",
    "inverted_start",
    "tag_question",
    "reflect_start",
    "advice_words",
    "log_len",
    "short",
    "has_prev",
    "overlap_prev",
    "first_person",
    "second_person",
)

_FIRST = {"jeg", "mig", "min", "mit", "mine", "vi", "os", "i", "me", "my", "we", "us", "our"}
_SECOND = {"du", "dig", "din", "dit", "dine", "jer", "you", "your", "yours", "yourself"}


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def surface(text: str, previous: str | None) -> np.ndarray:
    t = text.strip()
    toks = _tokens(t)
    n = max(len(toks), 1)
    prev_toks = set(_tokens(previous or ""))
    content = [w for w in toks if len(w) > 3]
    overlap = (sum(w in prev_toks for w in content) / len(content)) if content else 0.0
    return np.array(
        [
            float(t.endswith("?")),
            float("?" in t),
            min(t.count("?"), 3) / 3.0,
            float(bool(_Q_WORD.search(t))),
            float(bool(_INVERTED.search(t))),
            float(bool(_TAG_Q.search(t))),
            float(bool(_REFLECT_START.search(t))),
            float(bool(_ADVICE.search(t))),
            np.log1p(len(toks)) / 5.0,
            float(len(toks) <= 3),
            float(bool(previous and previous.strip())),
            overlap,
            sum(w in _FIRST for w in toks) / n,
            sum(w in _SECOND for w in toks) / n,
        ],
        dtype=np.float32,
    )


def build_matrix(utt_emb: np.ndarray, surf: np.ndarray) -> np.ndarray:
    """Stack the recipe's blocks; rows are utterances."""
    return np.hstack([utt_emb, surf]).astype(np.float32)


def featurise(items: list[tuple[str, str | None]]) -> np.ndarray:
    """Features of (utterance, previous citizen turn) pairs; one batched embedding call."""
    from practice.embeddings import DIM, get_embedder

    emb = get_embedder()
    texts = [t or " " for t, _ in items]
    utt = emb.query(texts) if texts else np.zeros((0, DIM), np.float32)
    surf = (
        np.vstack([surface(t, p) for t, p in items]) if items else np.zeros((0, len(SURFACE_NAMES)))
    )
    return build_matrix(utt, surf)


# ---------------------------------------------------------------- TF-IDF (numpy only)

WORD_TOKEN = r"(?u)\b\w+\b|\?"  # words of any length, and "?" as a token of its own
_WHITE = re.compile(r"\s\s+")  # as sklearn's _VectorizerMixin._white_spaces


def word_ngrams(text: str, ngram_range: tuple[int, int], token_pattern: str) -> list[str]:
    """sklearn ``TfidfVectorizer(analyzer="word", lowercase=True)`` n-grams of one text."""
    toks = re.findall(token_pattern, text.lower())
    lo, hi = ngram_range
    out: list[str] = []
    for n in range(lo, hi + 1):
        out.extend(" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return out


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """sklearn ``analyzer="char_wb"`` n-grams: inside words, each word padded with spaces."""
    lo, hi = ngram_range
    out: list[str] = []
    for w in _WHITE.sub(" ", text.lower()).split():
        w = f" {w} "
        for n in range(lo, hi + 1):
            if len(w) <= n:  # sklearn counts a word not longer than n once, whole
                out.append(w)
                break
            out.extend(w[i : i + n] for i in range(len(w) - n + 1))
    return out


@dataclass(frozen=True)
class TfidfBlock:
    """A fitted TF-IDF vectoriser (sublinear tf, smooth idf, l2 norm) as plain numpy data."""

    analyzer: str  # "word" | "char_wb"
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray
    token_pattern: str = WORD_TOKEN

    def analyse(self, text: str) -> list[str]:
        if self.analyzer == "word":
            return word_ngrams(text, self.ngram_range, self.token_pattern)
        if self.analyzer == "char_wb":
            return char_wb_ngrams(text, self.ngram_range)
        raise ValueError(f"unknown analyzer {self.analyzer!r}")

    def sparse_rows(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: (column indices, values) of its l2-normalised TF-IDF row."""
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        for text in texts:
            counts: dict[int, int] = {}
            for g in self.analyse(text or ""):
                j = self.vocabulary.get(g)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            v = (1.0 + np.log(tf)) * self.idf[idx]
            norm = float(np.linalg.norm(v))
            rows.append((idx, v / norm if norm > 0 else v))
        return rows

    def transform(self, texts: list[str]) -> np.ndarray:
        """Dense (len(texts), vocabulary) matrix equal to sklearn's ``transform``."""
        out = np.zeros((len(texts), len(self.idf)), dtype=np.float64)
        for row, (idx, v) in enumerate(self.sparse_rows(texts)):
            out[row, idx] = v
        return out

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """npz-ready arrays (no pickling): terms in column order and the idf vector."""
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {f"{prefix}_terms": np.array(terms, dtype=str), f"{prefix}_idf": self.idf}

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], prefix: str, analyzer: str, ngram_range: tuple[int, int]
    ) -> TfidfBlock:
        terms = [str(t) for t in arrays[f"{prefix}_terms"]]
        idf = np.asarray(arrays[f"{prefix}_idf"], dtype=np.float64)
        if len(terms) != len(idf):
            raise ValueError(f"{prefix}: {len(terms)} terms but {len(idf)} idf values")
        return cls(analyzer, ngram_range, {t: i for i, t in enumerate(terms)}, idf)


# The shipped TF-IDF blocks: (npz prefix, analyzer, n-gram range).
TFIDF_BLOCKS: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("tfidf_word", "word", (1, 2)),
    ("tfidf_char", "char_wb", (2, 5)),
)
