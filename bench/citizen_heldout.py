"""The citizen against the held-out adaptive conversations (``bench/heldout/citizen/``).

Prints JSON:

- ``baseline``: how the replies were rated when the conversations were held (against the
  engine of that day, commit in ``bench/heldout/citizen/README.md``): share of relevant,
  generic, non-sequitur and contradictory replies, overall, per language and per worker.
- ``replayed``: the practitioner turns replayed against today's engine:
  - trust and depth by worker type; relational workers at depth >= 2 within 12 turns, per
    scenario; system and keyword-dictating workers at depth <= 1; trust never rising on a
    turn the author marked as dictating a plan;
  - the ratings of today's replies, where a rater has rated that exact reply
    (``ratings-*.json`` files: conversation id, turn, reply text, label). ``coverage``
    says how many of today's replies are rated; unrated ones are not guessed.
- ``fresh``: conversations held adaptively against a later engine (``final/cf-*.json``, by
  other authors, written after the work and never tuned on), with their authors' ratings;
  valid while the replies are unchanged (``replies_changed``).

    python bench/citizen_heldout.py                 # figures
    python bench/citizen_heldout.py --export DIR    # today's replayed conversations, for a rater

Nobody tunes on these files: the engine's authors read only these aggregate figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from citizen.engine import start
from citizen.library import load_library

HERE = Path(__file__).resolve().parent / "heldout" / "citizen"
LABELS = ("relevant", "generic", "non_sequitur", "contradictory")


def conversations(folder: Path = HERE, pattern: str = "cz-*.json") -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob(pattern))]


def shares(labels: list[str]) -> dict[str, float | int]:
    c = Counter(labels)
    n = len(labels)
    out: dict[str, float | int] = {"n": n}
    for lab in LABELS:
        out[lab] = round(c[lab] / n, 3) if n else 0.0
    out["contradictions"] = c["contradictory"]
    return out


def grouped(rows: list[tuple[str, str, str]]) -> dict[str, object]:
    """rows: (language, worker, label)."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    by_worker: dict[str, list[str]] = defaultdict(list)
    for lang, worker, label in rows:
        by_lang[lang].append(label)
        by_worker[worker].append(label)
    return {
        "all": shares([r[2] for r in rows]),
        "by_language": {k: shares(v) for k, v in sorted(by_lang.items())},
        "by_worker": {k: shares(v) for k, v in sorted(by_worker.items())},
    }


def replay(conv: dict, lib) -> list[dict]:
    sc = lib.get(conv["scenario"])
    citizen = start(sc)
    out = []
    for turn in conv["turns"]:
        before = citizen.state.trust
        r = citizen.respond(turn["practitioner"])
        out.append(
            {
                "practitioner": turn["practitioner"],
                "citizen": r.reply,
                "trust_before": before,
                "trust": r.trust,
                "depth": r.depth,
                "main_kind": r.decision.main_kind,
            }
        )
    return out


def load_ratings(folder: Path = HERE) -> dict[tuple[str, int, str], str]:
    out: dict[tuple[str, int, str], str] = {}
    for p in sorted(folder.glob("ratings-*.json")):
        for r in json.loads(p.read_text(encoding="utf-8"))["ratings"]:
            out[(r["id"], int(r["turn"]), r["citizen"])] = r["label"]
    return out


def measure(convs: list[dict], rated: dict[tuple[str, int, str], str], lib) -> dict[str, object]:
    """Replay the conversations against today's engine; rate today's replies from ``rated``."""
    cur_rows: list[tuple[str, str, str]] = []
    n_replies = changed = 0
    by_worker: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    relational_depth: dict[str, int] = {}
    dictated_rises: list[str] = []
    for c in convs:
        turns = replay(c, lib)
        w = by_worker[c["worker"]]
        w["final_trust"].append(turns[-1]["trust"])
        w["max_depth"].append(max(t["depth"] for t in turns))
        for i, t in enumerate(turns, 1):
            n_replies += 1
            changed += t["citizen"] != c["turns"][i - 1]["citizen"]
            label = rated.get((c["id"], i, t["citizen"]))
            if label is not None:
                cur_rows.append((c["language"], c["worker"], label))
            if i in c.get("dictated_plan_turns", []) and t["trust"] > t["trust_before"]:
                dictated_rises.append(f"{c['id']}#{i}")
        if c["worker"] == "relational":
            relational_depth[c["scenario"]] = max(t["depth"] for t in turns)
    workers = {
        k: {
            "conversations": len(v["final_trust"]),
            "final_trust_mean": round(sum(v["final_trust"]) / len(v["final_trust"]), 3),
            "max_depth": v["max_depth"],
        }
        for k, v in sorted(by_worker.items())
    }
    closed = [d for k in ("system", "keyword_dictating") for d in by_worker[k]["max_depth"]]
    return {
        "conversations": len(convs),
        "replies": n_replies,
        "replies_changed": changed,
        "coverage": round(len(cur_rows) / n_replies, 3) if n_replies else 0.0,
        "rated": grouped(cur_rows) if cur_rows else None,
        "workers": workers,
        "relational_depth_by_scenario": relational_depth,
        "relational_depth_ge_2_everywhere": all(d >= 2 for d in relational_depth.values()),
        "system_and_dictating_depth_le_1": all(d <= 1 for d in closed),
        "trust_rose_on_dictated_plan": len(dictated_rises),
    }


def author_ratings(convs: list[dict]) -> dict[tuple[str, int, str], str]:
    """The author's own rating of each reply, valid for as long as the reply is unchanged."""
    return {
        (c["id"], int(r["turn"]), c["turns"][r["turn"] - 1]["citizen"]): r["label"]
        for c in convs
        for r in c["ratings"]
    }


def figures(folder: Path = HERE) -> dict[str, object]:
    lib = load_library()
    convs = conversations(folder)
    base_rows = [(c["language"], c["worker"], r["label"]) for c in convs for r in c["ratings"]]
    rated = {**author_ratings(convs), **load_ratings(folder)}
    out: dict[str, object] = {
        "baseline": {"conversations": len(convs), **grouped(base_rows)},
        "replayed": measure(convs, rated, lib),
    }
    fresh = conversations(folder / "final", "cf-*.json")
    if fresh:
        out["fresh"] = measure(fresh, author_ratings(fresh), lib)
    return out


def export(out_dir: Path, folder: Path = HERE) -> int:
    lib = load_library()
    out_dir.mkdir(parents=True, exist_ok=True)
    for c in conversations(folder):
        turns = replay(c, lib)
        doc = {
            "id": c["id"],
            "scenario": c["scenario"],
            "language": c["language"],
            "opening": lib.get(c["scenario"]).opening_line,
            "turns": [{"practitioner": t["practitioner"], "citizen": t["citizen"]} for t in turns],
        }
        (out_dir / f"{c['id']}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", type=Path, help="write today's replayed conversations here")
    args = ap.parse_args(argv)
    if args.export:
        return export(args.export)
    print(json.dumps(figures(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
