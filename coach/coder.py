"""Behaviour coder: one AnnoMI label per practitioner utterance, plus relational flags.

INTERFACE (stable; other packages depend on it):
    get_coder() -> BehaviourCoder            process-wide, thread-safe, loaded once
    BehaviourCoder.code(text, previous_citizen=None, language="da") -> Coded
    BehaviourCoder.code_many(items: list[tuple[str, str | None]], language) -> list[Coded]

Both methods also take an optional keyword-only ``extra`` (scenario keywords per flag,
passed on to :func:`coach.flags.detect_flags`).

The model (``coach/models/coder-v1.npz`` + ``coder-v1.json``) fuses two multinomial
logistic regressions by a weighted average of their logits (``fusion_weight_e5`` in the
manifest): one over the standardised multilingual-e5 embedding of the utterance plus
surface features, one over TF-IDF word and character n-grams of the utterance
(:mod:`coach.features`). Trained on AnnoMI and hand-written Danish welfare-register
examples by ``python -m coach.train_coder``. Inference needs numpy only.

Decision rule: the main class (question / reflection / therapist_input / other) with the
largest summed probability, then its likeliest label. ``Coded.confidence`` is the chosen
label's probability (the maximum probability, except in the rare case where the main-class
rule overrides the plain argmax); ``Coded.probabilities`` holds all nine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coach.flags import FLAG_NAMES

if TYPE_CHECKING:
    from coach.features import TfidfBlock

LABELS: tuple[str, ...] = (
    "open_question",
    "closed_question",
    "simple_reflection",
    "complex_reflection",
    "information",
    "advice",
    "negotiation",
    "options",
    "other",
)
MAIN_CLASS = {
    "open_question": "question",
    "closed_question": "question",
    "simple_reflection": "reflection",
    "complex_reflection": "reflection",
    "information": "therapist_input",
    "advice": "therapist_input",
    "negotiation": "therapist_input",
    "options": "therapist_input",
    "other": "other",
}
FLAGS: tuple[str, ...] = FLAG_NAMES  # defined once, with the lexicons, in coach.flags

MAIN_ORDER: tuple[str, ...] = ("question", "reflection", "therapist_input", "other")
_MAIN_OF = np.array([MAIN_ORDER.index(MAIN_CLASS[lab]) for lab in LABELS])


def decide_index(p: np.ndarray) -> int:
    """Pick the main class with the largest summed probability, then its likeliest label.

    (Grouped cross-validation: +0.005 to +0.01 main-4 macro-F1 over a plain argmax.)
    """
    main_p = np.bincount(_MAIN_OF, weights=p, minlength=len(MAIN_ORDER))
    best_main = int(main_p.argmax())
    masked = np.where(best_main == _MAIN_OF, p, -1.0)
    return int(masked.argmax())


MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_NAME = "coder-v1"
_WEIGHT_KEYS = ("mean", "scale", "coef", "intercept", "tfidf_coef", "tfidf_intercept")


@dataclass(frozen=True)
class Coded:
    label: str
    confidence: float
    flags: frozenset[str] = frozenset()
    probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def main(self) -> str:
        return MAIN_CLASS[self.label]


class ModelError(RuntimeError):
    """The shipped coder weights are missing or do not match their manifest."""


def load_weights(model_dir: Path = MODEL_DIR) -> tuple[dict[str, np.ndarray], dict]:
    """Read ``<model_dir>/coder-v1.npz`` and its manifest, checking that they agree."""
    weights, manifest, _ = _load(model_dir)
    return weights, manifest


def _load(model_dir: Path) -> tuple[dict[str, np.ndarray], dict, list[TfidfBlock]]:
    npz = model_dir / f"{MODEL_NAME}.npz"
    man = model_dir / f"{MODEL_NAME}.json"
    if not npz.exists() or not man.exists():
        raise ModelError(f"coder weights not found in {model_dir}; run python -m coach.train_coder")
    manifest = json.loads(man.read_text(encoding="utf-8"))
    from coach.features import RECIPE, TFIDF_BLOCKS, TfidfBlock

    with np.load(npz, allow_pickle=False) as z:
        missing = [k for k in _WEIGHT_KEYS if k not in z.files]
        if missing:
            raise ModelError(f"{npz}: missing arrays {missing}; retrain with coach.train_coder")
        weights = {k: np.asarray(z[k], dtype=np.float32) for k in _WEIGHT_KEYS}
        arrays = {k: z[k] for k in z.files if k.endswith(("_terms", "_idf"))}
    try:
        blocks = [TfidfBlock.from_arrays(arrays, *spec) for spec in TFIDF_BLOCKS]
    except (KeyError, ValueError) as exc:
        raise ModelError(f"{npz}: TF-IDF vocabulary: {exc}") from exc
    n_tfidf = sum(len(b.idf) for b in blocks)
    if weights["tfidf_coef"].shape != (len(LABELS), n_tfidf):
        raise ModelError(f"{npz}: TF-IDF weights {weights['tfidf_coef'].shape} != {n_tfidf} terms")
    if tuple(manifest.get("labels", ())) != LABELS:
        raise ModelError(f"{man}: label order {manifest.get('labels')} != {LABELS}")
    n_feat = weights["coef"].shape[1]
    if weights["coef"].shape[0] != len(LABELS) or manifest.get("n_features") != n_feat:
        raise ModelError(f"{npz}: weight shape {weights['coef'].shape} does not match manifest")
    if manifest.get("feature_recipe") != RECIPE:
        raise ModelError(f"{man}: feature recipe {manifest.get('feature_recipe')!r} != {RECIPE!r}")
    alpha = manifest.get("fusion_weight_e5")
    if not isinstance(alpha, int | float) or not 0.0 <= alpha <= 1.0:
        raise ModelError(f"{man}: fusion_weight_e5 {alpha!r} is not a number in [0, 1]")
    return weights, manifest, blocks


class BehaviourCoder:
    """Codes practitioner utterances; immutable after construction, safe across threads."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        self.weights, self.manifest, self.tfidf_blocks = _load(model_dir)

    def probabilities(self, x: np.ndarray, texts: list[str]) -> np.ndarray:
        """Label probabilities from the e5+surface features ``x`` and the utterance texts."""
        w = self.weights
        e5 = ((x - w["mean"]) / w["scale"]) @ w["coef"].T + w["intercept"]
        tf = np.tile(w["tfidf_intercept"], (len(texts), 1)).astype(np.float64)
        offset = 0
        for block in self.tfidf_blocks:
            coef = w["tfidf_coef"][:, offset : offset + len(block.idf)]
            for row, (idx, val) in enumerate(block.sparse_rows(texts)):
                tf[row] += coef[:, idx] @ val
            offset += len(block.idf)
        alpha = float(self.manifest["fusion_weight_e5"])
        logits = alpha * e5 + (1.0 - alpha) * tf
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def code(
        self,
        text: str,
        previous_citizen: str | None = None,
        language: str = "da",
        *,
        extra: Mapping[str, Iterable[str]] | None = None,
    ) -> Coded:
        return self.code_many([(text, previous_citizen)], language, extra=extra)[0]

    def code_many(
        self,
        items: list[tuple[str, str | None]],
        language: str = "da",
        *,
        extra: Mapping[str, Iterable[str]] | None = None,
    ) -> list[Coded]:
        from coach.features import featurise
        from coach.flags import detect_flags

        items = [(t or "", p) for t, p in items]
        todo = [i for i, (t, _) in enumerate(items) if t.strip()]
        probs = np.zeros((len(items), len(LABELS)), dtype=np.float32)
        if todo:
            todo_items = [items[i] for i in todo]
            probs[todo] = self.probabilities(featurise(todo_items), [t for t, _ in todo_items])
        out: list[Coded] = []
        for i, (text, prev) in enumerate(items):
            flags = detect_flags(text, prev, language, extra=extra)
            if not text.strip():
                out.append(
                    Coded("other", 1.0, flags, {lab: float(lab == "other") for lab in LABELS})
                )
                continue
            p = probs[i]
            k = decide_index(p)
            out.append(
                Coded(
                    label=LABELS[k],
                    confidence=float(p[k]),
                    flags=flags,
                    probabilities={lab: float(v) for lab, v in zip(LABELS, p, strict=True)},
                )
            )
        return out


_coder: BehaviourCoder | None = None
_lock = threading.Lock()


def get_coder() -> BehaviourCoder:
    global _coder
    if _coder is None:
        with _lock:
            if _coder is None:
                _coder = BehaviourCoder()
    return _coder
