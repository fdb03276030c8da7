"""TF-IDF blocks as plain numpy data (a reimplementation of sklearn's ``TfidfVectorizer``:
sublinear tf, smooth idf, l2 norm), so that inference needs no scikit-learn."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

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
