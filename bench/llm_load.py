"""LLM layer benchmark: guard overhead per reply (always) and, given an OpenAI-compatible
endpoint, time to first token, tokens/s and concurrent-request latency.

    python bench/llm_load.py                                   # guards only (ScriptedModel)
    python bench/llm_load.py --base-url http://127.0.0.1:8000/v1 --model smollm2 --n 5 --concurrency 2

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from base.llm import OpenAICompatibleModel, ScriptedModel
from citizen.engine import Decision
from citizen.library import load_scenario_file
from citizen.llm_renderer import LLMRenderer

FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "fixtures"
    / "scenarios"
    / "fixture_jonas.yaml"
)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(p * len(s)))], 2)


def guard_overhead(n: int, embedder: bool) -> dict[str, float]:
    sc, _ = load_scenario_file(FIXTURE)
    assert sc is not None
    reply = "Det er ryggen. Den gør ondt, og så er det svært at komme nogen steder."
    counter = iter(range(10**9))
    # a different reply each time, so the embedding cache does not hide the cost
    model = ScriptedModel(function=lambda msgs, info: f"{reply} Nummer {next(counter)}.")
    r = LLMRenderer(model, embedder="auto" if embedder else None)
    d = Decision(
        turn=1,
        language="da",
        band="mid",
        trust=0.4,
        trust_before=0.35,
        delta=0.05,
        depth=1,
        allowed_facts=[f for lv in sc.disclosure if lv.depth <= 1 for f in lv.facts],
        offline_reply="Nå.",
    )
    hist = [("citizen", sc.opening_line), ("practitioner", "Hvordan går det med ryggen?")]
    r.render(sc, d, hist)  # warm-up (embedder load)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r.render(sc, d, hist)
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95), "max_ms": round(max(times), 2)}


def endpoint(
    base_url: str, model_name: str, n: int, concurrency: int, max_tokens: int
) -> dict[str, object]:
    model = OpenAICompatibleModel(model=model_name, base_url=base_url, timeout_s=300)
    msgs = [
        ("system", "You are a citizen talking to a social worker. Answer in two sentences."),
        ("user", "How are things at home?"),
    ]

    def one(_: int) -> tuple[float, float, int]:
        t = time.perf_counter()
        first = None
        chunks = 0
        for _chunk in model.stream(msgs, temperature=0.7, max_tokens=max_tokens):
            first = first or time.perf_counter() - t
            chunks += 1
        return (first or 0.0), time.perf_counter() - t, chunks

    one(0)  # warm-up
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(n)))
    ttft = [r[0] * 1000 for r in results]
    total = [r[1] * 1000 for r in results]
    rates = [r[2] / r[1] for r in results if r[1] > 0]
    return {
        "requests": n,
        "concurrency": concurrency,
        "ttft_p50_ms": pct(ttft, 0.5),
        "ttft_p95_ms": pct(ttft, 0.95),
        "total_p50_ms": pct(total, 0.5),
        "total_p95_ms": pct(total, 0.95),
        "chunks_per_s_median": round(statistics.median(rates), 1) if rates else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url")
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=60)
    ap.add_argument("--guard-n", type=int, default=200)
    ap.add_argument("--no-embedder", action="store_true")
    args = ap.parse_args()
    out: dict[str, object] = {"guards": guard_overhead(args.guard_n, not args.no_embedder)}
    if args.base_url:
        out["endpoint"] = endpoint(
            args.base_url, args.model, args.n, args.concurrency, args.max_tokens
        )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
