"""The reading of a practitioner turn: what it does, which moves it makes, in which scope,
and how much it takes up what the citizen just said.

    reader = get_reader()                      # process-wide, thread-safe, loaded once
    r = reader.read("Det lyder som om du skal bære meget alene.",
                    previous_citizen="Jeg klarer det hele selv.", language="da")
    r.behaviour                 # 'complex_reflection'
    r.has("reflects_feeling")   # True
    r.moves["directive"].p      # a calibrated probability, low here
    r.uptake                    # 0..1

The model (``reading/models/reader-v1.npz`` + ``reader-v1.json``) is one linear layer over
:mod:`reading.features`: per move and scope a logistic regression with Platt calibration
and a threshold chosen by cross-validation on the training corpus; a multinomial head for
the nine AnnoMI behaviour codes and one for uptake. ``python -m reading.train`` reproduces
it. Inference needs numpy only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reading.features import RECIPE, STOP_WORDS, Item, dense_features, embed, marked_text
from reading.labels import BEHAVIOURS, MAIN_CLASS, MAIN_ORDER, MOVES, SCOPES, SYSTEM_MOVES
from reading.lexicon import Hit
from reading.text import Token, sentence_at
from reading.tfidf import TfidfBlock

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_NAME = "reader-v1"
BINARY_HEADS: tuple[str, ...] = MOVES + tuple(f"scope:{s}" for s in SCOPES)
TFIDF_BLOCKS: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("word", "word", (1, 2)),
    ("char", "char_wb", (2, 5)),
)
_MAIN_OF = np.array([MAIN_ORDER.index(MAIN_CLASS[b]) for b in BEHAVIOURS])


class ModelError(RuntimeError):
    """The shipped reading weights are missing or do not match their manifest."""


@dataclass(frozen=True)
class Move:
    """One relational move in one turn."""

    p: float  # calibrated probability that the turn makes this move
    present: bool  # p at or above the move's threshold
    evidence: tuple[str, ...] = ()  # the words that carried it
    quote: str = ""  # the sentence holding the strongest evidence


@dataclass(frozen=True)
class Reading:
    """What one practitioner turn means, in its context."""

    text: str
    language: str
    behaviour: str
    behaviour_p: Mapping[str, float]
    moves: Mapping[str, Move]
    scope: Mapping[str, float]  # negated / quoted / about_other: probability
    uptake: float  # 0 (ignores the citizen's turn) .. 1 (takes up their words or feeling)
    uptake_level: int  # 0, 1 or 2
    lexicon_hits: tuple[Hit, ...] = field(default=(), repr=False)

    @property
    def main(self) -> str:
        return MAIN_CLASS[self.behaviour]

    @property
    def confidence(self) -> float:
        return float(self.behaviour_p[self.behaviour])

    @property
    def present(self) -> frozenset[str]:
        return frozenset(m for m, v in self.moves.items() if v.present)

    def has(self, move: str) -> bool:
        return self.moves[move].present

    def p(self, move: str) -> float:
        return self.moves[move].p

    @property
    def system(self) -> frozenset[str]:
        return self.present & frozenset(SYSTEM_MOVES)

    def quote_for(self, move: str) -> str:
        m = self.moves.get(move)
        return m.quote if m and m.quote else self.text.strip()


def decide_behaviour(p: np.ndarray) -> int:
    """The main class with the largest summed probability, then its likeliest code."""
    main_p = np.bincount(_MAIN_OF, weights=p, minlength=len(MAIN_ORDER))
    masked = np.where(int(main_p.argmax()) == _MAIN_OF, p, -1.0)
    return int(masked.argmax())


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class Reader:
    """Reads practitioner turns. Thread-safe: the weights are read-only after loading."""

    def __init__(self, model_dir: Path = MODEL_DIR, name: str = MODEL_NAME) -> None:
        npz, manifest = model_dir / f"{name}.npz", model_dir / f"{name}.json"
        if not npz.exists() or not manifest.exists():
            raise ModelError(
                f"The reading model is missing ({npz}). Reinstall the app, or rebuild it with "
                "`python -m reading.train` (needs requirements-dev.txt)."
            )
        self.manifest = json.loads(manifest.read_text(encoding="utf-8"))
        if self.manifest.get("recipe") != RECIPE:
            raise ModelError(
                f"{manifest}: recipe {self.manifest.get('recipe')!r} does not match the code "
                f"({RECIPE!r}); rebuild with `python -m reading.train`."
            )
        with np.load(npz, allow_pickle=False) as z:
            a = {k: z[k] for k in z.files}
        self.mean = a["dense_mean"].astype(np.float32)
        self.scale = a["dense_scale"].astype(np.float32)
        self.gamma = float(self.manifest["dense_gamma"])
        self.blocks = [
            TfidfBlock.from_arrays(a, prefix, analyzer, rng)
            for prefix, analyzer, rng in TFIDF_BLOCKS
        ]
        self.heads: dict[str, dict[str, np.ndarray]] = {}
        for head in ("binary", "behaviour", "uptake"):
            self.heads[head] = {
                "dense": a[f"{head}_dense"].astype(np.float32),
                "word": a[f"{head}_word"].astype(np.float32),
                "char": a[f"{head}_char"].astype(np.float32),
                "bias": a[f"{head}_bias"].astype(np.float32),
            }
        self.platt = a["binary_platt"].astype(np.float64)  # (heads, 2): a, b
        self.threshold = a["binary_threshold"].astype(np.float64)
        self._word_terms = sorted(
            self.blocks[0].vocabulary, key=self.blocks[0].vocabulary.__getitem__
        )
        n_heads = self.heads["binary"]["bias"].shape[0]
        if n_heads != len(BINARY_HEADS) or self.heads["behaviour"]["bias"].shape[0] != len(
            BEHAVIOURS
        ):
            raise ModelError(f"{npz}: the heads do not match the label sets; rebuild the model.")

    # ------------------------------------------------------------------ inference

    def _logits(
        self, head: str, dense: np.ndarray, sparse: list[list[tuple[np.ndarray, np.ndarray]]]
    ):
        h = self.heads[head]
        out = dense @ h["dense"] + h["bias"]
        for row in range(dense.shape[0]):
            (wi, wv), (ci, cv) = sparse[0][row], sparse[1][row]
            if len(wi):
                out[row] += wv.astype(np.float32) @ h["word"][wi]
            if len(ci):
                out[row] += cv.astype(np.float32) @ h["char"][ci]
        return out

    def read_items(self, items: Sequence[Item]) -> list[Reading]:
        if not items:
            return []
        turn_emb, prev_emb, sent_emb = embed(items)
        dense, toks, hits = dense_features(items, turn_emb, prev_emb, sent_emb)
        x = (dense - self.mean) / self.scale * self.gamma
        marked = [marked_text(t, it.text) for t, it in zip(toks, items, strict=True)]
        raw = [it.text for it in items]
        sparse = [self.blocks[0].sparse_rows(marked), self.blocks[1].sparse_rows(raw)]
        lb = self._logits("binary", x, sparse).astype(np.float64)
        pb = _sigmoid(self.platt[:, 0] * lb + self.platt[:, 1])
        beh = _softmax(self._logits("behaviour", x, sparse).astype(np.float64))
        upt = _softmax(self._logits("uptake", x, sparse).astype(np.float64))
        out = []
        for row, it in enumerate(items):
            out.append(
                self._reading(it, toks[row], hits[row], sparse[0][row], pb[row], beh[row], upt[row])
            )
        return out

    def _evidence(
        self,
        col: int,
        toks: Sequence[Token],
        hits: Sequence[Hit],
        word_row: tuple[np.ndarray, np.ndarray],
        text: str,
    ) -> tuple[tuple[str, ...], str]:
        move = BINARY_HEADS[col]
        scored: dict[str, float] = {}
        idx, val = word_row
        w = self.heads["binary"]["word"][:, col]
        for j, v in zip(idx, val, strict=True):
            term = self._word_terms[j]
            bare = [t.removeprefix("neg_").removeprefix("q_") for t in term.split()]
            if all(t in STOP_WORDS or t == "?" for t in bare):
                continue  # "om du", "?" carry weight but say nothing to a reader
            c = float(v * w[j])
            if c > 0:
                scored[term] = scored.get(term, 0.0) + c
        for h in hits:
            if h.move == move and h.plain:
                scored[h.phrase] = scored.get(h.phrase, 0.0) + 1.0
        words = []
        for term, _ in sorted(scored.items(), key=lambda kv: -kv[1])[:3]:
            words.append(" ".join(t.removeprefix("neg_").removeprefix("q_") for t in term.split()))
        quote = ""
        if words:
            first = words[0].split()[0] if words[0].split() else ""
            for t in toks:
                if t.text == first:
                    quote = sentence_at(text, t.start)
                    break
        return tuple(words), quote or text.strip()

    def _reading(self, it, toks, hits, word_row, pb, beh, upt) -> Reading:
        moves = {}
        for col, move in enumerate(MOVES):
            p = float(pb[col])
            present = p >= self.threshold[col]
            ev, quote = self._evidence(col, toks, hits, word_row, it.text) if present else ((), "")
            moves[move] = Move(round(p, 4), bool(present), ev, quote)
        scope = {s: round(float(pb[len(MOVES) + k]), 4) for k, s in enumerate(SCOPES)}
        b = decide_behaviour(beh)
        return Reading(
            text=it.text,
            language=it.language,
            behaviour=BEHAVIOURS[b],
            behaviour_p={lab: round(float(v), 4) for lab, v in zip(BEHAVIOURS, beh, strict=True)},
            moves=moves,
            scope=scope,
            uptake=round(float((upt[1] + 2 * upt[2]) / 2), 4),
            uptake_level=int(np.argmax(upt)),
            lexicon_hits=tuple(hits),
        )

    def read(
        self,
        text: str,
        previous_citizen: str | None = None,
        language: str = "da",
        *,
        extra: Mapping[str, Sequence[str]] | None = None,
    ) -> Reading:
        return self.read_items([Item(text, previous_citizen, language, extra)])[0]

    def read_many(
        self,
        items: Sequence[tuple[str, str | None]],
        language: str = "da",
        *,
        extra: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Reading]:
        return self.read_items([Item(t, p, language, extra) for t, p in items])


_reader: Reader | None = None
_lock = threading.Lock()


def get_reader() -> Reader:
    """The process-wide reader (loaded on first use)."""
    global _reader
    if _reader is None:
        with _lock:
            if _reader is None:
                _reader = Reader()
    return _reader
