"""The reading of a CITIZEN sentence: does it put forward the citizen's own idea, name the
citizen's own problem, or neither?

    get_citizen_reader().read(sentences, previous) -> list[dict[label, p]]
    python -m reading.citizen train      fit reading/models/citizen-v1.npz from the corpus

Learned from labelled examples (``reading/data/citizen_sentences.jsonl``: Danish and
English citizen sentences with the practitioner turn before them, including minimal pairs
such as accepting the worker's course vs proposing one's own, a problem the council names vs
one the citizen owns, sarcasm, past plans). Features: the multilingual-e5 embedding of the
sentence and of the practitioner turn before it; a multinomial logistic regression, C chosen
by 5-fold cross-validation. Inference is numpy only.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from base.embeddings import get_embedder

LABELS = ("idea", "problem", "other")
DATA = Path(__file__).resolve().parent / "data" / "citizen_sentences.jsonl"
MODEL = Path(__file__).resolve().parent / "models" / "citizen-v1.npz"
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0)


def _features(texts: Sequence[str], previous: Sequence[str | None]) -> np.ndarray:
    emb = get_embedder()
    t = emb.query(list(texts))
    p = emb.query([x or " " for x in previous])
    return np.hstack([t, p]).astype(np.float64)


class CitizenReader:
    def __init__(self, path: Path = MODEL) -> None:
        d = np.load(path)
        self.w = d["w"]
        self.b = d["b"]

    def read(self, texts: Sequence[str], previous: Sequence[str | None]) -> list[dict[str, float]]:
        if not texts:
            return []
        z = _features(texts, previous) @ self.w + self.b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return [dict(zip(LABELS, map(float, row), strict=True)) for row in p]


_reader: CitizenReader | None = None
_lock = threading.Lock()


def get_citizen_reader() -> CitizenReader:
    global _reader
    if _reader is None:
        with _lock:
            if _reader is None:
                _reader = CitizenReader()
    return _reader


def train(out: Path = MODEL) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    x = _features([r["text"] for r in rows], [r["previous"] for r in rows])
    y = np.array([LABELS.index(r["label"]) for r in rows])
    cv = StratifiedKFold(5, shuffle=True, random_state=7)
    scores = {}
    for c in C_GRID:
        pred = cross_val_predict(LogisticRegression(C=c, max_iter=2000), x, y, cv=cv)
        scores[c] = f1_score(y, pred, average="macro")
    best = max(scores, key=scores.get)  # type: ignore[arg-type]
    model = LogisticRegression(C=best, max_iter=2000).fit(x, y)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, w=model.coef_.T.astype(np.float32), b=model.intercept_)
    return {
        "rows": len(rows),
        "C": best,
        "cv_macro_f1": {str(k): round(v, 3) for k, v in scores.items()},
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["train"]:
        print(json.dumps(train(), indent=2))
    else:
        print(__doc__)
