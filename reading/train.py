"""Train the reading and write ``reading/models/reader-v1.npz`` + ``reader-v1.json``.

    python -m reading.train [--out DIR] [--cache DIR] [--no-cv]

Data:

* the labelled corpus in ``reading/data/*.jsonl`` (format: docs/reading-labels.md): every
  head — moves, scope, uptake and the behaviour code;
* AnnoMI's training split (``../shared/data/annomi/annomi-full-train.csv``, or the path in
  ``RELPRACTICE_ANNOMI``): therapist utterances, majority label over annotators, with the
  client's previous utterance as context: the behaviour head only.

The held-out sets (``bench/``) are never read here. Needs scikit-learn
(requirements-dev.txt); the shipped model is read with numpy only.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from base.embeddings import DIM, get_embedder
from reading.features import RECIPE, Item, dense_features, embed, marked_text
from reading.labels import BEHAVIOURS, FAMILY_FOCUS, MOVES, SCOPES, SETTINGS, UPTAKE_LEVELS
from reading.model import BINARY_HEADS, MODEL_DIR, MODEL_NAME, TFIDF_BLOCKS
from reading.tfidf import WORD_TOKEN, TfidfBlock

REPO = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(__file__).resolve().parent / "data"
ANNOMI = Path(
    os.environ.get(
        "RELPRACTICE_ANNOMI", REPO.parent / "shared" / "data" / "annomi" / "annomi-full-train.csv"
    )
)
# Hyper-parameters, chosen by grouped cross-validation on the training corpus and AnnoMI's
# training split (never on the held-out sets). GAMMA scales the standardised dense block against
# the l2-normalised TF-IDF blocks; one C for every binary head.
GAMMA = 0.05
C_BINARY = 2.0
C_BEHAVIOUR = 0.5  # grouped 5-fold CV on AnnoMI: C 0.1 0.739, 0.25 0.743, 0.5 0.750, 2 0.745 main-4
C_UPTAKE = 1.0
MIN_DF = 2
FOLDS = 5


@dataclass
class Record:
    id: str
    language: str
    text: str
    previous_citizen: str | None
    behaviour: str | None
    moves: frozenset[str] | None  # None: not labelled for moves (AnnoMI)
    scope: frozenset[str] | None
    uptake: int | None
    group: str
    family: str | None = None
    pair: str | None = None
    source: str = "corpus"
    mi_quality: str = ""


class CorpusError(ValueError):
    pass


def parse_record(obj: dict, where: str) -> Record:
    """One corpus or held-out line; errors name the file, the line and the field."""
    try:
        text = str(obj["text"]).strip()
        lang = obj["language"]
        context = obj.get("context") or []
        prev = None
        for turn in reversed(context):
            if turn.get("speaker") == "citizen":
                prev = str(turn.get("text") or "").strip() or None
                break
        moves = frozenset(obj.get("moves") or [])
        scope = frozenset(obj.get("scope") or [])
        beh = obj.get("behaviour")
    except (KeyError, TypeError, AttributeError) as exc:
        raise CorpusError(f"{where}: missing or malformed field {exc}") from exc
    if lang not in ("da", "en"):
        raise CorpusError(f"{where}: language: {lang!r} is not 'da' or 'en'")
    if not text:
        raise CorpusError(f"{where}: text: empty")
    if unknown := moves - set(MOVES):
        raise CorpusError(f"{where}: moves: unknown {sorted(unknown)}")
    if unknown := scope - set(SCOPES):
        raise CorpusError(f"{where}: scope: unknown {sorted(unknown)}")
    if beh not in BEHAVIOURS:
        raise CorpusError(f"{where}: behaviour: {beh!r} is not one of {', '.join(BEHAVIOURS)}")
    setting = obj.get("setting")
    if setting is not None and setting not in SETTINGS:
        raise CorpusError(f"{where}: setting: {setting!r} is not one of {', '.join(SETTINGS)}")
    uptake = obj.get("uptake")
    if uptake not in UPTAKE_LEVELS:
        raise CorpusError(f"{where}: uptake: {uptake!r} is not 0, 1 or 2")
    rid = str(obj.get("id") or where)
    return Record(
        id=rid,
        language=lang,
        text=text,
        previous_citizen=prev,
        behaviour=beh,
        moves=moves,
        scope=scope,
        uptake=int(uptake),
        group=str(obj.get("pair") or rid),
        family=obj.get("family"),
        pair=obj.get("pair"),
    )


def load_jsonl(paths: Sequence[Path]) -> list[Record]:
    out: list[Record] = []
    seen: set[str] = set()
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{where}: not JSON ({exc.msg})") from exc
            rec = parse_record(obj, where)
            if rec.id in seen:
                raise CorpusError(f"{where}: id: {rec.id!r} appears twice")
            seen.add(rec.id)
            out.append(rec)
    return out


def corpus_files(folder: Path = CORPUS_DIR) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


def _annomi_label(main: str, q: str, r: str, ti: str) -> str | None:
    if main == "question":
        return {"open": "open_question", "closed": "closed_question"}.get(q)
    if main == "reflection":
        return {"simple": "simple_reflection", "complex": "complex_reflection"}.get(r)
    if main == "therapist_input":
        return ti if ti in ("information", "advice", "negotiation", "options") else None
    return "other" if main == "other" else None


def _vote(values: list[str]) -> str:
    counts = Counter(v for v in values if v and v != "n/a")
    if not counts:
        return "n/a"
    best = max(counts.values())
    return next(v for v in values if counts.get(v) == best)


def load_annomi(path: Path = ANNOMI) -> list[Record]:
    """Therapist utterances, one per (transcript, utterance), labels by majority vote."""
    if not path.exists():
        raise CorpusError(
            f"AnnoMI not found at {path}. Put the shared data beside the repository or set "
            "RELPRACTICE_ANNOMI to the CSV."
        )
    rows: dict[tuple[int, int], list[dict[str, str]]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows.setdefault((int(row["transcript_id"]), int(row["utterance_id"])), []).append(row)
    out: list[Record] = []
    last_client: dict[int, str] = {}
    for (tid, uid), group in sorted(rows.items()):
        first = group[0]
        if first["interlocutor"] != "therapist":
            last_client[tid] = first["utterance_text"]
            continue
        main = _vote([g["main_therapist_behaviour"] for g in group])
        same = [g for g in group if g["main_therapist_behaviour"] == main]
        label = _annomi_label(
            main,
            _vote([g["question_subtype"] for g in same]),
            _vote([g["reflection_subtype"] for g in same]),
            _vote([g["therapist_input_subtype"] for g in same]),
        )
        if label is None or not first["utterance_text"].strip():
            continue
        out.append(
            Record(
                id=f"annomi:{tid}:{uid}",
                language="en",
                text=first["utterance_text"].strip(),
                previous_citizen=last_client.get(tid),
                behaviour=label,
                moves=None,
                scope=None,
                uptake=None,
                group=f"annomi:{tid}",
                source="annomi",
                mi_quality=first["mi_quality"],
            )
        )
    return out


# ---------------------------------------------------------------- features


class EmbeddingCache:
    """'query:' embeddings cached on disk while iterating (keyed by text hash)."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "reading-emb-cache.npz" if cache_dir else None
        self.store: dict[str, np.ndarray] = {}
        if self.path and self.path.exists():
            with np.load(self.path) as z:
                self.store = {k: z[k] for k in z.files}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = list(
            dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.store)
        )
        if missing:
            emb = get_embedder()
            for i in range(0, len(missing), 256):
                chunk = missing[i : i + 256]
                for t, v in zip(chunk, emb.query(chunk), strict=True):
                    self.store[self.key(t)] = v
                print(f"  embedded {min(i + 256, len(missing))}/{len(missing)}", file=sys.stderr)
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(self.path, **self.store)
        return np.stack([self.store[k] for k in keys]) if keys else np.zeros((0, DIM), np.float32)


@dataclass
class Features:
    dense: np.ndarray
    marked: list[str]
    raw: list[str]


def featurise(records: Sequence[Record], cache: EmbeddingCache) -> Features:
    items = [Item(r.text, r.previous_citizen, r.language) for r in records]
    turn, prev, sent = embed(items, cache.embed)
    dense, toks, _hits = dense_features(items, turn, prev, sent)
    marked = [marked_text(t, r.text) for t, r in zip(toks, records, strict=True)]
    return Features(dense, marked, [r.text for r in records])


def fit_blocks(marked: list[str], raw: list[str], min_df: int = MIN_DF) -> list[TfidfBlock]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    blocks = []
    for (_prefix, analyzer, rng), texts in zip(TFIDF_BLOCKS, (marked, raw), strict=True):
        kw = {"token_pattern": WORD_TOKEN} if analyzer == "word" else {}
        vec = TfidfVectorizer(
            analyzer=analyzer,
            ngram_range=rng,
            sublinear_tf=True,
            min_df=min_df,
            lowercase=True,
            **kw,
        )
        vec.fit(texts)
        blocks.append(
            TfidfBlock(
                analyzer,
                rng,
                {k: int(v) for k, v in vec.vocabulary_.items()},
                vec.idf_.astype(np.float64),
            )
        )
    return blocks


def design(
    blocks: list[TfidfBlock], feats: Features, mean: np.ndarray, scale: np.ndarray, gamma: float
):
    from scipy import sparse

    dense = sparse.csr_matrix((feats.dense - mean) / scale * gamma)
    parts = [dense]
    for block, texts in zip(blocks, (feats.marked, feats.raw), strict=True):
        rows, cols, vals = [], [], []
        for r, (idx, v) in enumerate(block.sparse_rows(texts)):
            rows.extend([r] * len(idx))
            cols.extend(idx.tolist())
            vals.extend(v.tolist())
        parts.append(sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(block.idf))))
    return sparse.hstack(parts).tocsr()


def _lr(c: float, balanced: bool = True):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if balanced else None)


def targets(records: Sequence[Record]) -> np.ndarray:
    y = np.zeros((len(records), len(BINARY_HEADS)), dtype=np.int8)
    for i, r in enumerate(records):
        for j, head in enumerate(BINARY_HEADS):
            if head.startswith("scope:"):
                y[i, j] = head[6:] in (r.scope or ())
            else:
                y[i, j] = head in (r.moves or ())
    return y


def best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    best, best_f = 0.5, -1.0
    for t in np.arange(0.2, 0.81, 0.05):
        pred = p >= t
        tp = float((pred & (y == 1)).sum())
        f = 2 * tp / max(1.0, float(pred.sum() + (y == 1).sum()))
        if f > best_f + 1e-9:
            best, best_f = float(t), f
    return round(best, 2)


def platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        return 1.0, 0.0
    m = LogisticRegression(C=100.0).fit(logits.reshape(-1, 1), y)
    return float(m.coef_[0, 0]), float(m.intercept_[0])


@dataclass
class Model:
    blocks: list[TfidfBlock]
    mean: np.ndarray
    scale: np.ndarray
    gamma: float
    binary: list  # one fitted LogisticRegression (or None for a constant head) per head
    platt: np.ndarray  # (heads, 2)
    threshold: np.ndarray
    behaviour: object
    uptake: object
    constant: np.ndarray  # per binary head: -1 fitted, 0/1 constant answer
    own_figures: dict  # grouped out-of-fold figures on the training corpus


def prf(pred: np.ndarray, gold: np.ndarray) -> dict:
    tp = int((pred & gold).sum())
    fp = int((pred & ~gold).sum())
    fn = int((~pred & gold).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(f, 3),
        "support": int(gold.sum()),
    }


def _oof_figures(
    oof: np.ndarray, pl: np.ndarray, th: np.ndarray, y: np.ndarray, corpus: Sequence[Record]
) -> dict:
    """Per-move F1 and minimal-pair family accuracy of the grouped out-of-fold predictions
    on the corpus (own data; the calibration is fitted on the same out-of-fold logits, so
    slightly optimistic)."""
    per = {}
    pred = np.zeros_like(y, dtype=bool)
    for j, head in enumerate(BINARY_HEADS):
        p = 1 / (1 + np.exp(-(pl[j, 0] * oof[:, j] + pl[j, 1])))
        pred[:, j] = p >= th[j]
        per[head] = prf(pred[:, j], y[:, j].astype(bool))
    macro = float(np.mean([per[m]["f1"] for m in MOVES]))
    families: dict[str, float] = {}
    for fam, focus in FAMILY_FOCUS.items():
        idx = [i for i, r in enumerate(corpus) if r.family == fam]
        if idx:
            cols = [BINARY_HEADS.index(m) for m in focus]
            ok = [all(pred[i, c] == bool(y[i, c]) for c in cols) for i in idx]
            families[fam] = round(float(np.mean(ok)), 3)
    return {"moves_macro_f1": round(macro, 3), "per_head": per, "minimal_pairs": families}


def fit_model(
    corpus: Sequence[Record],
    behaviour_extra: Sequence[Record],
    cache: EmbeddingCache,
    *,
    calibrate: bool = True,
    gamma: float = GAMMA,
    verbose: bool = False,
) -> Model:
    """Fit every head. Calibration (Platt + thresholds) from grouped out-of-fold logits."""
    from sklearn.model_selection import GroupKFold

    all_recs = list(corpus) + list(behaviour_extra)
    feats = featurise(all_recs, cache)
    mean = feats.dense.mean(axis=0)
    scale = feats.dense.std(axis=0) + 1e-6
    blocks = fit_blocks(feats.marked, feats.raw)
    x_all = design(blocks, feats, mean, scale, gamma)
    n = len(corpus)
    x_c = x_all[:n]
    y = targets(corpus)
    groups = np.array([r.group for r in corpus])
    heads: list = []
    constant = np.full(len(BINARY_HEADS), -1, dtype=np.int8)
    pl = np.tile([1.0, 0.0], (len(BINARY_HEADS), 1))
    th = np.full(len(BINARY_HEADS), 0.5)
    oof = np.zeros((n, len(BINARY_HEADS)))
    if calibrate:
        folds = list(GroupKFold(n_splits=FOLDS).split(np.zeros(n), groups=groups))
    for j, head in enumerate(BINARY_HEADS):
        yj = y[:, j]
        if yj.min() == yj.max():
            constant[j] = int(yj[0])
            heads.append(None)
            continue
        heads.append(_lr(C_BINARY).fit(x_c, yj))
        if calibrate:
            for tr, te in folds:
                if yj[tr].min() == yj[tr].max():
                    oof[te, j] = 0.0
                    continue
                oof[te, j] = _lr(C_BINARY).fit(x_c[tr], yj[tr]).decision_function(x_c[te])
            a, b = platt(oof[:, j], yj)
            pl[j] = (a, b)
            th[j] = best_threshold(1 / (1 + np.exp(-(a * oof[:, j] + b))), yj)
        if verbose:
            print(f"  head {head}: positives {int(yj.sum())}", file=sys.stderr)
    own = _oof_figures(oof, pl, th, y, corpus) if calibrate else {}
    beh_y = np.array([r.behaviour for r in all_recs])
    behaviour = _lr(C_BEHAVIOUR, balanced=False).fit(x_all, beh_y)
    up_y = np.array([r.uptake for r in corpus])
    uptake = _lr(C_UPTAKE).fit(x_c, up_y)
    return Model(blocks, mean, scale, gamma, heads, pl, th, behaviour, uptake, constant, own)


def _split(
    coef: np.ndarray, blocks: list[TfidfBlock], d: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns of a fitted coefficient matrix (classes, features) → dense, word, char parts."""
    nw = len(blocks[0].idf)
    return coef[:, :d].T, coef[:, d : d + nw].T, coef[:, d + nw :].T


def _multinomial(
    model, classes: Sequence, blocks: list[TfidfBlock], d: int, gamma: float, scale: np.ndarray
):
    order = [list(model.classes_).index(c) for c in classes]
    coef = model.coef_[order]
    bias = model.intercept_[order]
    dense, word, char = _split(coef, blocks, d)
    return dense, word, char, bias


def export(model: Model, out_dir: Path, manifest_extra: dict) -> None:
    d = model.mean.shape[0]
    arrays: dict[str, np.ndarray] = {
        "dense_mean": model.mean.astype(np.float32),
        "dense_scale": model.scale.astype(np.float32),
    }
    for (prefix, _a, _r), block in zip(TFIDF_BLOCKS, model.blocks, strict=True):
        arrays.update(block.to_arrays(prefix))
    n_feat = d + sum(len(b.idf) for b in model.blocks)
    coef = np.zeros((len(BINARY_HEADS), n_feat))
    bias = np.zeros(len(BINARY_HEADS))
    for j, head in enumerate(model.binary):
        if head is None:
            bias[j] = 30.0 if model.constant[j] == 1 else -30.0
        else:
            coef[j] = head.coef_[0]
            bias[j] = head.intercept_[0]
    bd, bw, bc = _split(coef, model.blocks, d)
    arrays.update(binary_dense=bd, binary_word=bw, binary_char=bc, binary_bias=bias)
    arrays["binary_platt"] = model.platt
    arrays["binary_threshold"] = model.threshold
    for name, m, classes in (
        ("behaviour", model.behaviour, BEHAVIOURS),
        ("uptake", model.uptake, (0, 1, 2)),
    ):
        dd, ww, cc, bb = _multinomial(m, classes, model.blocks, d, model.gamma, model.scale)
        arrays.update(
            {f"{name}_dense": dd, f"{name}_word": ww, f"{name}_char": cc, f"{name}_bias": bb}
        )
    arrays = {
        k: (v.astype(np.float16) if k.endswith(("_word", "_char")) else v)
        for k, v in arrays.items()
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / f"{MODEL_NAME}.npz", **arrays)
    manifest = {
        "name": MODEL_NAME,
        "recipe": RECIPE,
        "dense_gamma": model.gamma,
        "heads": list(BINARY_HEADS),
        "thresholds": {h: float(t) for h, t in zip(BINARY_HEADS, model.threshold, strict=True)},
        "hyperparameters": {
            "C_binary": C_BINARY,
            "C_behaviour": C_BEHAVIOUR,
            "C_uptake": C_UPTAKE,
            "min_df": MIN_DF,
        },
        **manifest_extra,
    }
    (out_dir / f"{MODEL_NAME}.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def data_hash(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m reading.train", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=MODEL_DIR)
    ap.add_argument("--cache", type=Path, default=REPO / "data" / "cache")
    ap.add_argument(
        "--no-annomi", action="store_true", help="train the behaviour head on the corpus only"
    )
    args = ap.parse_args(argv)
    files = corpus_files()
    corpus = load_jsonl(files)
    annomi = [] if args.no_annomi else load_annomi()
    print(
        f"corpus {len(corpus)} turns from {len(files)} files; AnnoMI {len(annomi)} utterances",
        file=sys.stderr,
    )
    cache = EmbeddingCache(args.cache)
    model = fit_model(corpus, annomi, cache, verbose=True)
    langs = Counter(r.language for r in corpus)
    export(
        model,
        args.out,
        {
            "trained": dt.date.today().isoformat(),
            "corpus": {
                "turns": len(corpus),
                "languages": dict(langs),
                "sha256_16": data_hash(files),
            },
            "annomi_utterances": len(annomi),
            "own_data_oof": model.own_figures,
        },
    )
    print(f"wrote {args.out / (MODEL_NAME + '.npz')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
