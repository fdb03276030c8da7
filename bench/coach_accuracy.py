"""What the coach makes of conversations, and what it costs; prints one JSON object.

    python bench/coach_accuracy.py [--n-timed 40] [--no-annomi]

The coach reads practitioner turns only through the shipped reading model
(``reading.get_reader()``); how well the reading itself does is measured by the reading's
own training and its held-out set, not here.

- ``fixtures``: ``overall`` of the coach's four test fixtures (relational vs system
  practice, Danish and English), and of a dictated plan with and without four empty
  relational phrases ("Jeg hører dig.", ...) in front of its turns: they should not lift it.
- ``cost``: reading time per turn (one call per turn and batched), warm
  ``coach.scoring.score_transcript`` time of a 40-turn conversation (budget 1.5 s), peak
  resident memory (``resource.getrusage``).
- ``session``: session-level ROC AUC of ``overall`` for AnnoMI's high vs low MI quality
  conversations, every therapist utterance read by the shipped model. The reading's
  behaviour head and the calibrated overall were trained on AnnoMI's training split, so
  this is in-sample; ``overall_model_cv`` gives the overall's grouped cross-validated AUC.
- ``heldout``: the coach against bench/heldout/coach (never tuned on): Spearman and MAE of
  overall, per-principle MAE, ownership accuracy (problem, plan, adopted plan), the
  keyword-stuffing shift, excellent minus gaming, how often the band holds the expert's
  overall, and the notes' boilerplate share between conversations.
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

from base.models import MAX_TURN_CHARS, Transcript, Turn
from coach.overall import get_model
from coach.scoring import reader_name, score_transcript
from reading import get_reader

FIXTURES = ROOT / "tests" / "fixtures" / "coach"
_DICTATED_FIXTURE = json.loads(
    (FIXTURES.parent / "dictated_plan_da.json").read_text(encoding="utf-8")
)
DICTATED = [(t["speaker"], t["text"]) for t in _DICTATED_FIXTURE["turns"]]
EMPTY_PHRASES = list(_DICTATED_FIXTURE["empty_phrases"])


def _transcript(turns: list[tuple[str, str]], language: str = "da") -> Transcript:
    return Transcript(language=language, turns=[Turn(speaker=s, text=t) for s, t in turns])


def fixture_figures() -> dict:
    reader = get_reader()
    out: dict[str, float | None] = {}
    for path in sorted(FIXTURES.glob("*.json")):
        tr = Transcript.model_validate_json(path.read_text(encoding="utf-8"))
        out[path.stem] = score_transcript(tr, reader=reader).overall
    phrases = iter(EMPTY_PHRASES)
    padded = [(s, f"{next(phrases)} {t}" if s == "practitioner" else t) for s, t in DICTATED]
    out["dictated_plan"] = score_transcript(_transcript(DICTATED), reader=reader).overall
    out["dictated_plan_with_empty_phrases"] = score_transcript(
        _transcript(padded), reader=reader
    ).overall
    return out


def reading_cost(texts: list[tuple[str, str | None]]) -> dict:
    """Wall time per turn of the shipped reader: single calls, then one batch."""
    reader = get_reader()
    t0 = time.perf_counter()
    reader.read("Hvordan har du det i dag?", None, "da")  # loads the embedder
    warm = time.perf_counter() - t0
    half = len(texts) // 2
    t0 = time.perf_counter()
    for text, prev in texts[:half]:
        reader.read(text, prev, "da")
    single = (time.perf_counter() - t0) / max(half, 1)
    batch_items = texts[half:]
    t0 = time.perf_counter()
    reader.read_many(batch_items, "da")
    batched = (time.perf_counter() - t0) / max(len(batch_items), 1)
    return {
        "score_transcript_40_turns_warm_s": scoring_time(texts),
        "first_call_s": round(warm, 3),
        "ms_per_turn_single": round(single * 1000, 1),
        "ms_per_turn_batched": round(batched * 1000, 1),
        "n_timed": len(texts),
    }


def scoring_time(texts: list[tuple[str, str | None]], n_turns: int = 40) -> float:
    """Warm wall time of scoring one ``n_turns`` conversation with the shipped reader."""

    def transcript(tag: str) -> Transcript:
        turns: list[Turn] = []
        k = 0
        while len(turns) < n_turns and texts:
            text, prev = texts[k % len(texts)]
            turns.append(Turn(speaker="citizen", text=(prev or "Ja.")[:MAX_TURN_CHARS]))
            turns.append(Turn(speaker="practitioner", text=f"{text} ({tag}{k})"[:MAX_TURN_CHARS]))
            k += 1
        return Transcript(language="da", turns=turns[:n_turns])

    score_transcript(transcript("warm"), reader=get_reader())  # loads embedder, rubric
    timed = transcript("timed")  # texts not embedded yet: the embedding cost is included
    t0 = time.perf_counter()
    score_transcript(timed, reader=get_reader())
    return round(time.perf_counter() - t0, 3)


def session_level_auc() -> dict | None:
    """ROC AUC of ``overall``: high vs low MI quality AnnoMI conversations."""
    from coach.train import annomi_sessions

    sessions = annomi_sessions()
    if not sessions:
        return None
    scores: dict[str, list[float]] = {"high": [], "low": []}
    reader = get_reader()
    t0 = time.perf_counter()
    for _gid, quality, transcript in sessions:
        report = score_transcript(transcript, reader=reader)
        if report.overall is not None:
            scores[quality].append(report.overall)
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


HELDOUT = Path(__file__).resolve().parent / "heldout" / "coach"


def _spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return round(float(spearmanr(a, b).statistic), 3)


def _boilerplate(rows: list) -> dict:
    """Share of non-quote note sentences one conversation's notes share with another's
    (same language), over every ordered pair: mean and max."""
    from coach.notes import boilerplate_share, make_notes

    notes = []
    for d, r in rows:
        tr = Transcript(
            language=d["language"],
            turns=[Turn(speaker=t["speaker"], text=t["text"][:MAX_TURN_CHARS]) for t in d["turns"]],
        )
        notes.append((d["language"], make_notes(r, tr)))
    shares = [
        boilerplate_share(a, b)
        for i, (la, a) in enumerate(notes)
        for j, (lb, b) in enumerate(notes)
        if i != j and la == lb
    ]
    if not shares:
        return {}
    return {"mean": round(sum(shares) / len(shares), 3), "max": round(max(shares), 3)}


def heldout_figures() -> dict | None:
    """The coach against conversations rated by a separate author (bench/heldout/coach),
    written before any tuning: never tuned on."""
    files = sorted(HELDOUT.glob("*.json"))
    if not files:
        return None
    reader = get_reader()
    rows = []
    for f in files:
        d = json.loads(f.read_text(encoding="utf-8"))
        tr = Transcript(
            language=d["language"],
            turns=[Turn(speaker=t["speaker"], text=t["text"][:MAX_TURN_CHARS]) for t in d["turns"]],
        )
        rep = score_transcript(tr, reader=reader)
        rows.append((d, rep))
    orig = [(d, r) for d, r in rows if not d.get("stuffed_from")]
    got = [r.overall if r.overall is not None else 0.0 for _, r in orig]
    want = [float(d["expert"]["overall"]) for d, _ in orig]
    principle_err: dict[str, list[float]] = {}
    own_right = {"problem": [], "plan": [], "adopted_plan": []}
    for d, r in orig:
        for p in r.principles:
            exp = d["expert"]["principles"].get(p.id)
            if exp is not None:
                principle_err.setdefault(p.id, []).append(abs(p.score - exp))
        for key in own_right:
            expected = d["expert"]["ownership"].get(key, {}).get("by")
            if expected is not None:
                who = getattr(r.ownership, key).by or "none"
                own_right[key].append(who == expected)
    by_id = {d["id"]: r for d, r in rows}
    shifts = [
        round((r.overall or 0.0) - (by_id[d["stuffed_from"]].overall or 0.0), 1)
        for d, r in rows
        if d.get("stuffed_from") and d["stuffed_from"] in by_id
    ]
    by_type: dict[str, list[float]] = {}
    for d, r in orig:
        by_type.setdefault(d["type"], []).append(r.overall or 0.0)
    mean = {k: round(sum(v) / len(v), 1) for k, v in by_type.items()}
    return {
        "conversations": len(orig),
        "stuffed_copies": len(shifts),
        "overall_spearman": _spearman(got, want),
        "overall_mae": round(sum(abs(a - b) for a, b in zip(got, want, strict=True)) / len(got), 1),
        "principle_mae": {k: round(sum(v) / len(v), 2) for k, v in principle_err.items()},
        "ownership_accuracy": {k: round(sum(v) / len(v), 3) for k, v in own_right.items() if v},
        "band_covers_expert": round(
            sum(
                r.overall_band[0] <= float(d["expert"]["overall"]) <= r.overall_band[1]
                for d, r in orig
                if r.overall_band
            )
            / max(sum(1 for _, r in orig if r.overall_band), 1),
            3,
        ),
        "boilerplate_share": _boilerplate(orig),
        "stuffing_shift": {
            "mean": round(sum(shifts) / len(shifts), 1),
            "max": max(shifts),
            "max_abs": max(abs(x) for x in shifts),
        }
        if shifts
        else None,
        "mean_overall_by_type": mean,
        "excellent_minus_gaming": round(
            mean.get("excellent", 0) - mean.get("keyword_gaming", 0), 1
        ),
        "expert_mean_by_type": {
            t: round(sum(float(d["expert"]["overall"]) for d, _ in orig if d["type"] == t) / n, 1)
            for t, n in ((t, len(v)) for t, v in by_type.items())
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-timed", type=int, default=40)
    ap.add_argument("--no-annomi", action="store_true", help="skip the session-level figure")
    args = ap.parse_args(argv)

    # time on texts the embedder has not seen in this process
    worker = [t for s, t in DICTATED if s == "practitioner"]
    timed = [(f"{worker[i % len(worker)]} (#{i})", "Okay.") for i in range(args.n_timed)]
    cost = reading_cost(timed)
    report = {
        "fixtures": fixture_figures(),
        "cost": cost,
        "session": None if args.no_annomi else session_level_auc(),
        "heldout": heldout_figures(),
        "model": reader_name(get_reader()),
        # the calibrated overall's own cross-validated figures (team data + AnnoMI, grouped
        # by conversation), from its training: the honest AnnoMI AUC, since the shipped
        # overall was fitted on AnnoMI's training split
        "overall_model_cv": (get_model().manifest.get("cv") if get_model() else None),
    }
    cost["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
