"""Offline citizen latency: time per reply (decide + offline render + record) over N turns
across the scenario library, with the embedding model warm. Prints JSON.

    python bench/citizen_latency.py [--turns 200] [--scenario-dir scenarios]

Target: p95 < 100 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from base.embeddings import get_embedder
from citizen.engine import start
from citizen.library import load_library
from citizen.offline import scenario_index
from citizen.scripted import RelationalPractitioner, SystemPractitioner
from reading import get_reader


def percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return 0.0
    k = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[k]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--scenario-dir", type=Path, default=None)
    args = ap.parse_args(argv)

    lib = load_library(args.scenario_dir) if args.scenario_dir else load_library()
    scenarios = sorted(lib.scenarios.values(), key=lambda s: s.id)
    if not scenarios:
        print(json.dumps({"error": "no scenarios"}))
        return 1
    t0 = time.perf_counter()
    embedder = get_embedder()
    reader = get_reader()
    for s in scenarios:  # warm: model loaded, topic examples embedded
        scenario_index(s, embedder)
        start(s, reader=reader, embedder=embedder).respond("Hej")
    warm_ms = (time.perf_counter() - t0) * 1000
    # answer-line vectors: embedded on a topic's first visit, then kept on disk
    # (data/cache/scenario-lines); the first run after a content change pays this once
    t1 = time.perf_counter()
    n_lines = 0
    for s in scenarios:
        lines = [line for t in s.topics for line in t.replies.all_lines() + t.guarded]
        lines += [line for d in s.disclosure for line in d.reveal_lines]
        n_lines += len(lines)
        scenario_index(s, embedder).vectors(lines)
    lines_ms = (time.perf_counter() - t1) * 1000

    times: list[float] = []
    cpu: list[float] = []  # process CPU time per reply: comparable on a busy machine
    i = 0
    while len(times) < args.turns:
        s = scenarios[i % len(scenarios)]
        cls = RelationalPractitioner if i % 2 == 0 else SystemPractitioner
        practitioner = cls(s)
        citizen = start(s, reader=reader, embedder=embedder)
        for _ in range(min(12, args.turns - len(times))):
            text = practitioner.next_turn(citizen) + f" ({i})"  # defeat the embedding cache
            t, c = time.perf_counter(), time.process_time()
            citizen.respond(text)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        i += 1
    out = {
        "turns": len(times),
        "scenarios": len(scenarios),
        "reader": reader.manifest.get("name"),
        "warmup_ms": round(warm_ms, 1),
        "answer_lines": n_lines,
        "answer_lines_ms": round(lines_ms, 1),
        "p50_ms": round(percentile(times, 0.5), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "mean_ms": round(sum(times) / len(times), 2),
        "cpu_p50_ms": round(percentile(cpu, 0.5), 2),
        "cpu_p95_ms": round(percentile(cpu, 0.95), 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "rss_mb": round(rss_mb(), 1),
        "target_p95_ms": 100,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
