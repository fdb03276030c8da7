"""How well the reading understands practitioner turns; prints JSON.

    python bench/reading_accuracy.py [--no-annomi-cv] [--model-dir DIR]

* **held-out**: ``bench/heldout/reading/*.jsonl``, written by separate authors from
  docs/reading-labels.md alone, before any tuning; never trained or tuned on. Per-move
  precision/recall/F1 and macro-F1, scope, uptake, behaviour codes, and the accuracy of each
  minimal-pair family (a record is right when every focus move of its family is read right).
* **own data**: grouped out-of-fold figures on the training corpus, from the model's manifest.
* **AnnoMI**: 4-class and 9-label macro-F1 of the behaviour head, 5-fold cross-validation
  grouped by transcript on ``../shared``'s training split (the corpus is always in training).
* **speed**: reading a 40-turn conversation, cold (new texts) and warm (the same again).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reading.features import Item
from reading.labels import BEHAVIOURS, FAMILIES, FAMILY_FOCUS, MAIN_CLASS, MAIN_ORDER, MOVES, SCOPES
from reading.model import MODEL_DIR, Reader
from reading.train import (
    EmbeddingCache,
    corpus_files,
    design,
    featurise,
    fit_blocks,
    load_annomi,
    load_jsonl,
    prf,
)

HELDOUT = ROOT / "bench" / "heldout" / "reading"
FOCUS = FAMILY_FOCUS
assert set(FOCUS) == set(FAMILIES)


def macro_f1(gold: list[str], pred: list[str], labels) -> float:
    scores = []
    for lab in labels:
        g = np.array([x == lab for x in gold])
        p = np.array([x == lab for x in pred])
        if not g.any() and not p.any():
            continue
        scores.append(prf(p, g)["f1"])
    return round(float(np.mean(scores)), 3) if scores else 0.0


def heldout_figures(reader: Reader) -> dict:
    files = sorted(HELDOUT.glob("*.jsonl"))
    recs = load_jsonl(files)
    readings = reader.read_items([Item(r.text, r.previous_citizen, r.language) for r in recs])
    out: dict = {"files": [f.name for f in files], "turns": len(recs)}
    for lang in ("all", "da", "en"):
        idx = [i for i, r in enumerate(recs) if lang == "all" or r.language == lang]
        if not idx:
            continue
        per = {}
        for m in MOVES:
            g = np.array([m in recs[i].moves for i in idx])
            p = np.array([readings[i].has(m) for i in idx])
            per[m] = prf(p, g)
        block = {
            "turns": len(idx),
            "moves_macro_f1": round(float(np.mean([per[m]["f1"] for m in MOVES])), 3),
            "behaviour_9_macro_f1": macro_f1(
                [recs[i].behaviour for i in idx], [readings[i].behaviour for i in idx], BEHAVIOURS
            ),
            "behaviour_4_macro_f1": macro_f1(
                [MAIN_CLASS[recs[i].behaviour] for i in idx],
                [readings[i].main for i in idx],
                MAIN_ORDER,
            ),
        }
        if lang == "all":
            block["per_move"] = per
            block["scope"] = {
                s: prf(
                    np.array(
                        [readings[i].scope[s] >= reader.threshold[len(MOVES) + k] for i in idx]
                    ),
                    np.array([s in recs[i].scope for i in idx]),
                )
                for k, s in enumerate(SCOPES)
            }
            gold_u = np.array([recs[i].uptake for i in idx])
            pred_u = np.array([readings[i].uptake_level for i in idx])
            block["uptake"] = {
                "accuracy": round(float((gold_u == pred_u).mean()), 3),
                "spearman": _spearman(gold_u, np.array([readings[i].uptake for i in idx])),
            }
        out[lang] = block
    fams: dict = {}
    for fam, focus in FOCUS.items():
        idx = [i for i, r in enumerate(recs) if r.family == fam]
        if not idx:
            continue
        right = [all((m in recs[i].moves) == readings[i].has(m) for m in focus) for i in idx]
        pairs: dict[str, list[bool]] = {}
        for i, ok in zip(idx, right, strict=True):
            pairs.setdefault(recs[i].pair or recs[i].id, []).append(ok)
        fams[fam] = {
            "records": len(idx),
            "accuracy": round(float(np.mean(right)), 3),
            "pairs_all_right": round(float(np.mean([all(v) for v in pairs.values()])), 3),
        }
    out["minimal_pairs"] = fams
    out["minimal_pairs_min"] = min((f["accuracy"] for f in fams.values()), default=None)
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    from scipy.stats import spearmanr

    if len(set(a.tolist())) < 2:
        return None
    return round(float(spearmanr(a, b).statistic), 3)


def annomi_cv(cache: EmbeddingCache, folds: int = 5) -> dict:
    """Behaviour head trained on corpus + AnnoMI training folds; scored on the held fold."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from reading.model import decide_behaviour
    from reading.train import C_BEHAVIOUR, GAMMA

    corpus = load_jsonl(corpus_files())
    annomi = load_annomi()
    recs = corpus + annomi
    feats = featurise(recs, cache)
    n_c = len(corpus)
    groups = np.array([r.group for r in annomi])
    gold, pred = [], []
    for tr, te in GroupKFold(n_splits=folds).split(np.zeros(len(annomi)), groups=groups):
        train_idx = list(range(n_c)) + [n_c + i for i in tr]
        test_idx = [n_c + i for i in te]
        sub = type(feats)(
            feats.dense[train_idx],
            [feats.marked[i] for i in train_idx],
            [feats.raw[i] for i in train_idx],
        )
        mean, scale = sub.dense.mean(axis=0), sub.dense.std(axis=0) + 1e-6
        blocks = fit_blocks(sub.marked, sub.raw)
        x_tr = design(blocks, sub, mean, scale, GAMMA)
        test = type(feats)(
            feats.dense[test_idx],
            [feats.marked[i] for i in test_idx],
            [feats.raw[i] for i in test_idx],
        )
        x_te = design(blocks, test, mean, scale, GAMMA)
        m = LogisticRegression(C=C_BEHAVIOUR, max_iter=2000).fit(
            x_tr, [recs[i].behaviour for i in train_idx]
        )
        order = [list(m.classes_).index(b) for b in BEHAVIOURS]
        p = m.predict_proba(x_te)[:, order]
        pred += [BEHAVIOURS[decide_behaviour(row)] for row in p]
        gold += [recs[i].behaviour for i in test_idx]
    return {
        "utterances": len(annomi),
        "folds": folds,
        "behaviour_4_macro_f1": macro_f1(
            [MAIN_CLASS[g] for g in gold], [MAIN_CLASS[p] for p in pred], MAIN_ORDER
        ),
        "behaviour_9_macro_f1": macro_f1(gold, pred, BEHAVIOURS),
    }


def speed(reader: Reader) -> dict:
    base = [
        ("Hej, og tak fordi du ville komme. Hvordan har du det i dag?", "Det går."),
        ("Det lyder som om det har været en lang uge for dig.", "Ja, jeg har ikke sovet meget."),
        ("Hvad fylder mest lige nu?", "Brevene. Jeg åbner dem ikke."),
        (
            "Må jeg spørge, hvad der sker, når du ser et brev fra kommunen?",
            "Så får jeg ondt i maven.",
        ),
    ]
    conv = [(f"{t} ({k})", p) for k in range(10) for t, p in base]  # 40 distinct turns
    t0 = time.perf_counter()
    reader.read_many(conv, "da")
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    reader.read_many(conv, "da")
    warm = time.perf_counter() - t0
    return {"turns": len(conv), "cold_s": round(cold, 3), "warm_s": round(warm, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    ap.add_argument("--no-annomi-cv", action="store_true")
    ap.add_argument("--cache", type=Path, default=ROOT / "data" / "cache")
    args = ap.parse_args(argv)
    reader = Reader(args.model_dir)
    reader.read("Hej.", None, "da")  # load the embedder
    out = {
        "model": reader.manifest.get("name"),
        "trained": reader.manifest.get("trained"),
        "heldout": heldout_figures(reader),
        "own_data_oof": reader.manifest.get("own_data_oof", {}),
        "speed_40_turns": speed(reader),
    }
    if not args.no_annomi_cv:
        out["annomi_grouped_cv"] = annomi_cv(EmbeddingCache(args.cache))
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
