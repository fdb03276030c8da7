"""The calibrated overall score: a learned mapping from the conversation's readings and
signals to session quality, with an uncertainty band.

    features(turns, analysis, principle_raws, miti) -> np.ndarray     one row per conversation
    get_model() -> OverallModel | None                               shipped weights, if any
    OverallModel.predict(x, n_practitioner_turns) -> Prediction

The weights (``coach/models/overall.json``) are fitted by ``python -m coach.train`` on the
team's rated conversations (``coach/data/sessions/``) and AnnoMI's high/low MI-quality
training split, by ridge regression with the penalty chosen by cross-validation grouped by
conversation. Inference is numpy only. The band is the cross-validated error of the fit,
widened for short conversations.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from base.principles import PRINCIPLE_IDS
from coach.signals import SIGNAL_FEATURES, Analysis, vector
from coach.turns import CoachTurn
from reading.labels import BEHAVIOURS, MOVES, SYSTEM_MOVES

MODEL_FILE = Path(__file__).resolve().parent / "models" / "overall.json"
BAND_Z = 1.28  # an 80 % band
EMPTY_WORDS = 12  # a turn shorter than this with no uptake may be an empty phrase

FEATURES: tuple[str, ...] = (
    *(f"move_{m}" for m in MOVES),
    *(f"share_{b}" for b in BEHAVIOURS),
    "mean_uptake",
    *SIGNAL_FEATURES,
    *(f"principle_{p}" for p in PRINCIPLE_IDS),
    "miti_attainment",
)


def features(
    turns: Sequence[CoachTurn],
    analysis: Analysis,
    principle_raws: dict[str, float],
    miti: float | None,
) -> np.ndarray:
    """The conversation as one row of numbers (names in FEATURES)."""
    n = max(len(turns), 1)
    moves = [sum(t.p(m) * _earned(t, m) for t in turns) / n for m in MOVES]
    shares = [sum(t.label == b for t in turns) / n for b in BEHAVIOURS]
    uptake = sum(t.reading.uptake for t in turns) / n
    raws = [(principle_raws.get(p, 3.0) - 1.0) / 4.0 for p in PRINCIPLE_IDS]
    row = np.concatenate(
        [
            moves,
            shares,
            [uptake],
            vector(analysis, len(turns)),
            raws,
            [0.5 if miti is None else miti],
        ]
    )
    assert row.shape == (len(FEATURES),)
    return row.astype(np.float64)


def _earned(turn: CoachTurn, move: str) -> float:
    """How much of a relational move counts: a warm phrase in the same turn as a directive,
    a sanction, suspicion or a label counts for little, and so does one in a short turn that
    takes up nothing the citizen said (an empty phrase). System moves always count."""
    if move in SYSTEM_MOVES:
        return 1.0
    agenda = max(turn.p(m) for m in SYSTEM_MOVES)
    words = len(turn.text.split())
    empty = 1.0 if words >= EMPTY_WORDS else 0.3 + 0.7 * turn.reading.uptake
    return (1.0 - agenda) * empty


@dataclass(frozen=True)
class Prediction:
    overall: float  # 0..100
    band: tuple[float, float]
    principles: dict[str, int]  # 1..5
    principle_raw: dict[str, float]  # 1..5, unrounded


@dataclass(frozen=True)
class OverallModel:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (n_features, 1 + n_principles): overall, then each principle
    bias: np.ndarray
    rmse: float  # cross-validated error of the overall, 0..100
    manifest: dict

    def predict(self, x: np.ndarray, n_practitioner_turns: int) -> Prediction:
        z = (x - self.mean) / self.scale
        y = z @ self.weights + self.bias
        overall = float(np.clip(100 * y[0], 0, 100))
        half = BAND_Z * self.rmse * (1 + 2.0 / max(n_practitioner_turns, 1))
        band = (round(max(0.0, overall - half), 1), round(min(100.0, overall + half), 1))
        raw = {p: float(np.clip(1 + 4 * y[1 + k], 1, 5)) for k, p in enumerate(PRINCIPLE_IDS)}
        return Prediction(
            overall=round(overall, 1),
            band=band,
            principles={p: int(np.floor(v + 0.5)) for p, v in raw.items()},
            principle_raw={p: round(v, 2) for p, v in raw.items()},
        )

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "principles": list(PRINCIPLE_IDS),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
            "rmse": self.rmse,
            "manifest": self.manifest,
        }


def load_model(path: Path = MODEL_FILE) -> OverallModel:
    d = json.loads(path.read_text(encoding="utf-8"))
    if d.get("features") != list(FEATURES) or d.get("principles") != list(PRINCIPLE_IDS):
        raise ValueError(
            f"{path}: its features do not match this version of the coach; "
            "retrain with `python -m coach.train`"
        )
    return OverallModel(
        mean=np.array(d["mean"]),
        scale=np.array(d["scale"]),
        weights=np.array(d["weights"]),
        bias=np.array(d["bias"]),
        rmse=float(d["rmse"]),
        manifest=dict(d.get("manifest", {})),
    )


@functools.cache
def get_model() -> OverallModel | None:
    """The shipped model, or None when none has been trained (the rubric formula is used)."""
    return load_model() if MODEL_FILE.exists() else None
