"""Accuracy and cost of the behaviour coder; prints one JSON object.

    python bench/coach_accuracy.py [--folds 5] [--cache /tmp/relpractice-coder-cache]

- ``coder``: macro-F1 on the 4 main classes and on the 9 labels, grouped k-fold
  cross-validation on the AnnoMI training file (groups = transcripts), retraining inside
  each fold with the same recipe as the shipped model (``coach.train_coder``); also the
  hand-written Danish/English examples, scored in their own folds.
- ``cost``: coding time per utterance with the shipped model (one call per utterance and
  batched), warm ``coach.scoring.score_transcript`` time of a 40-turn conversation (budget
  1.5 s), peak resident memory (``resource.getrusage``).
- ``session``: session-level ROC AUC of ``overall`` for high vs low MI quality; filled by
  :func:`session_level_auc` (hook for ``coach.scoring``; ``null`` until implemented).

AnnoMI figures are cross-validated on the training split; they are not held-out figures.
Needs scikit-learn (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coach.coder import get_coder  # noqa: E402
from coach.train_coder import (  # noqa: E402
    Dataset,
    EmbeddingCache,
    cross_validate,
    load_annomi,
    load_examples,
)


def coder_cv(annomi: Dataset, examples: Dataset, cache: EmbeddingCache, folds: int) -> dict:
    """Grouped k-fold figures of the coder recipe (predictions kept for the session hook)."""
    return cross_validate(annomi, examples, cache, folds=folds)


def coding_cost(texts: list[tuple[str, str | None]]) -> dict:
    """Wall time per utterance of the shipped coder: cold single calls, then one batch."""
    coder = get_coder()
    t0 = time.perf_counter()
    coder.code("Hvordan har du det i dag?", None, "da")  # loads the embedder
    warm = time.perf_counter() - t0
    half = len(texts) // 2
    t0 = time.perf_counter()
    for text, prev in texts[:half]:
        coder.code(text, prev, "da")
    single = (time.perf_counter() - t0) / max(half, 1)
    batch_items = texts[half:]
    t0 = time.perf_counter()
    coder.code_many(batch_items, "da")
    batched = (time.perf_counter() - t0) / max(len(batch_items), 1)
    score_s = scoring_time(texts)
    return {
        "score_transcript_40_turns_warm_s": score_s,
        "first_call_s": round(warm, 3),
        "ms_per_utterance_single": round(single * 1000, 1),
        "ms_per_utterance_batched": round(batched * 1000, 1),
        "n_timed": len(texts),
    }


def scoring_time(texts: list[tuple[str, str | None]], n_turns: int = 40) -> float:
    """Warm wall time of scoring one ``n_turns`` conversation with the shipped coder."""
    from coach.scoring import score_transcript
    from practice.models import MAX_TURN_CHARS, Transcript, Turn

    def transcript(tag: str) -> Transcript:
        turns: list[Turn] = []
        k = 0
        while len(turns) < n_turns and texts:
            text, prev = texts[k % len(texts)]
            turns.append(Turn(speaker="citizen", text=(prev or "Ja.")[:MAX_TURN_CHARS]))
            turns.append(Turn(speaker="practitioner", text=f"{text} ({tag}{k})"[:MAX_TURN_CHARS]))
            k += 1
        return Transcript(language="da", turns=turns[:n_turns])

    score_transcript(transcript("warm"), coder=get_coder())  # loads embedder, rubric, caches
    timed = transcript("timed")  # texts not embedded yet: the embedding cost is included
    t0 = time.perf_counter()
    score_transcript(timed, coder=get_coder())
    return round(time.perf_counter() - t0, 3)


def session_level_auc(annomi: Dataset, predicted: list[str]) -> dict | None:
    """HOOK for the session-level figure (owned by the scoring engineer).

    ``annomi`` holds the therapist utterances (``texts``, ``prevs``, ``groups`` =
    "annomi:<transcript_id>", ``mi_quality`` = high|low) and ``predicted`` the coder's
    out-of-fold label for each of them (same order). Group by transcript, score each
    session with ``coach.scoring``, and return e.g. ``{"roc_auc_overall": ..., "n_high": ...,
    "n_low": ...}`` for ``overall`` of high vs low quality. ``None`` until implemented.
    """
    # Implemented by the coach engineer: each AnnoMI transcript becomes a Transcript (the
    # client's previous utterance as a citizen turn before each therapist utterance), coded
    # with the out-of-fold labels (flags from coach.flags), scored with coach.scoring.
    from coach.coder import Coded
    from coach.flags import detect_flags
    from coach.scoring import score_transcript
    from practice.models import MAX_TURN_CHARS, Transcript, Turn

    sessions: dict[str, list[int]] = {}
    for i, (group, quality) in enumerate(zip(annomi.groups, annomi.mi_quality, strict=True)):
        if quality in ("high", "low"):
            sessions.setdefault(group, []).append(i)
    if not sessions:
        return None

    class _OutOfFold:
        name = "out-of-fold coder"

        def __init__(self, labels: list[str]):
            self.labels = labels

        def code_many(self, items, language="en"):
            return [
                Coded(label, 1.0, detect_flags(text, prev, language))
                for label, (text, prev) in zip(self.labels, items, strict=True)
            ]

    scores: dict[str, list[float]] = {"high": [], "low": []}
    t0 = time.perf_counter()
    for idx in sessions.values():
        turns: list[Turn] = []
        for i in idx:
            prev = annomi.prevs[i]
            if prev and not (turns and turns[-1].speaker == "citizen" and turns[-1].text == prev):
                turns.append(Turn(speaker="citizen", text=prev[:MAX_TURN_CHARS]))
            turns.append(Turn(speaker="practitioner", text=annomi.texts[i][:MAX_TURN_CHARS]))
        report = score_transcript(
            Transcript(language="en", turns=turns), coder=_OutOfFold([predicted[i] for i in idx])
        )
        if report.overall is not None:
            scores[annomi.mi_quality[idx[0]]].append(report.overall)
    high, low = scores["high"], scores["low"]
    if not high or not low:
        return None
    # ROC AUC = P(overall of a high-quality session > a low-quality one), ties count half
    wins = sum((h > lo) + 0.5 * (h == lo) for h in high for lo in low)
    return {
        "roc_auc_overall": round(wins / (len(high) * len(low)), 3),
        "mean_overall_high": round(sum(high) / len(high), 1),
        "mean_overall_low": round(sum(low) / len(low), 1),
        "n_high": len(high),
        "n_low": len(low),
        "scoring_seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/relpractice-coder-cache"))
    ap.add_argument("--n-timed", type=int, default=40)
    args = ap.parse_args(argv)

    annomi = load_annomi()
    examples = load_examples()
    # time on texts the embedder has not seen in this process (before the CV embeds them)
    timed = list(zip(examples.texts, examples.prevs, strict=True))[: args.n_timed]
    cost = coding_cost(timed)
    cache = EmbeddingCache(args.cache)
    t0 = time.perf_counter()
    cv = coder_cv(annomi, examples, cache, args.folds)
    predicted = cv.pop("annomi_predictions")
    cv["cv_seconds"] = round(time.perf_counter() - t0, 1)
    cv["folds"] = args.folds
    cost["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report = {
        "coder": cv,
        "cost": cost,
        "session": session_level_auc(annomi, predicted),
        "model": get_coder().manifest.get("trained"),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
