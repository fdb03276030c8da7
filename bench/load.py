"""Load benchmark: N simultaneous practice sessions against one app process.

    python bench/load.py --sessions 30 --turns 20 --json
    python bench/load.py --sessions 30 --turns 20 --backend llm --json   # fake LLM server
    python bench/load.py --think-ms 0 ...                                  # saturation run

Each session is a thread that does what the Practise page does, through the same services
(``practice.services.build_services()``, ``PracticeService.start`` / ``send``): start a
scenario, then ``--turns`` times "type" a practitioner turn (a think pause of
``--think-ms`` on average, uniformly 0.5x-1.5x, as a class typing at once) and wait for
the citizen's reply. The latency of a turn is the time ``send`` takes: the practitioner
turn committed, the engine's decision, the reply rendered and committed.

``--backend offline`` (default) uses the offline engine; ``--backend llm`` renders through
``citizen.llm_renderer.LLMRenderer`` + ``base.llm.make_model`` against
``bench/fake_llm_server.py`` (started in-process on loopback with a realistic delay).

Afterwards every typed turn is looked up in the database: ``lost_turns`` counts those not
found. The last line of output is one JSON object (``--json``) with p50_ms, p95_ms,
errors, lost_turns, throughput and peak RSS.

Uses a fresh temporary data folder (SQLite) unless ``--data-dir`` or ``--database-url``
is given. Targets (2 cores, offline): p95 <= 300 ms, 0 errors, 0 lost turns.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from base.llm import LLMSettings, make_model
from citizen.llm_renderer import LLMRenderer
from practice.db import TurnRow, User
from practice.services import build_services

OPENERS = {
    "da": ["Hej", "Godt at se dig", "Tak fordi du kom", "Okay", "Jeg hører dig", "Hmm"],
    "en": ["Hi", "Good to see you", "Thanks for coming", "Okay", "I hear you", "Hmm"],
}
CORES = {
    "da": [
        "hvad er vigtigst for dig lige nu",
        "hvordan har du det med det hele",
        "det lyder som om det har været en hård tid",
        "hvad tænker du selv vi skal bruge tiden på",
        "du skal huske at møde op på jobcentret",
        "fortæl mig mere om det med din familie",
        "hvad ville gøre en forskel for dig",
        "jeg kan mærke du er træt af systemet",
        "hvad har hjulpet dig før",
        "vi er nødt til at tale om dine fraværsdage",
        "hvem er der omkring dig til daglig",
        "hvad håber du på for de næste måneder",
    ],
    "en": [
        "what matters most to you right now",
        "how are you feeling about all of this",
        "it sounds like it has been a hard time",
        "what do you think we should use the time on",
        "you need to remember the appointment at the job centre",
        "tell me more about your family",
        "what would make a difference for you",
        "I can tell you are tired of the system",
        "what has helped you before",
        "we have to talk about the days you missed",
        "who is around you in daily life",
        "what do you hope for in the next months",
    ],
}
TAILS = {
    "da": ["?", ".", " – tag den tid du har brug for.", " i dag?", ", hvis du vil fortælle det?"],
    "en": ["?", ".", " – take your time.", " today?", ", if you want to tell me?"],
}


def utterance(rng: random.Random, language: str, session: int, turn: int) -> str:
    lang = language if language in CORES else "en"
    core = rng.choice(CORES[lang])
    text = f"{rng.choice(OPENERS[lang])}, {core}{rng.choice(TAILS[lang])}"
    # typed text is never identical across a class: no embedding-cache flattery
    return f"{text} ({session}.{turn})" if rng.random() < 0.5 else text


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def make_users(svc: Any, n: int, prefix: str = "bench") -> list[Any]:

    users = []
    with svc.db.Session() as s:
        for i in range(n):
            u = User(username=f"{prefix}-{i}-{os.getpid()}", display_name=f"Bench {i}")
            s.add(u)
            users.append(u)
        s.commit()
    return users


def llm_renderer_factory(base_url: str):

    settings = LLMSettings(
        backend="openai", base_url=base_url, model="fake-citizen", timeout_s=60, max_retries=2
    )
    model = make_model(settings)  # one client for the process, like the app's cache

    def factory() -> Any:
        return LLMRenderer(model)  # one renderer per session (it keeps last_outcome)

    return factory


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.backend == "llm":
        # the bench is not a test: a real (loopback, fake) backend is what we measure
        os.environ.pop("RELPRACTICE_BLOCK_REAL_LLM", None)
    os.environ.setdefault("RELPRACTICE_SEARCH_INDEX", "off")
    tmp = None
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.data_dir:
        os.environ["RELPRACTICE_DATA_DIR"] = args.data_dir
    elif not os.environ.get("RELPRACTICE_DATA_DIR") or not args.keep_env:
        tmp = tempfile.TemporaryDirectory(prefix="relpractice-load-")
        os.environ["RELPRACTICE_DATA_DIR"] = tmp.name
        if not args.database_url:
            os.environ.pop("DATABASE_URL", None)

    t0 = time.perf_counter()
    svc = build_services()
    library = svc.library()
    scenario_ids = [args.scenario] if args.scenario else sorted(library.scenarios)
    if not scenario_ids:
        raise SystemExit(f"no scenarios loaded: {[p.line() for p in library.errors]}")
    users = make_users(svc, args.sessions)
    startup_ms = (time.perf_counter() - t0) * 1000

    server = None
    renderer_factory = None
    if args.backend == "llm":
        from bench.fake_llm_server import FakeLLMServer

        server = FakeLLMServer(
            ttft_ms=args.llm_ttft_ms, token_ms=args.llm_token_ms, slots=args.llm_slots
        ).__enter__()
        renderer_factory = llm_renderer_factory(server.base_url)

    # warm-up: load the embedding model and the scenario indexes once per process (the app
    # does this on its first turn; here it is kept out of the per-turn figures)
    t0 = time.perf_counter()
    warm_user = make_users(svc, 1, "warmup")[0]
    for sid in scenario_ids[: args.scenarios]:
        view = svc.practice.start(warm_user, sid)
        renderer = renderer_factory() if renderer_factory else None
        svc.practice.send(warm_user, view.info.id, "Hej, hvordan går det?", renderer)
    warmup_ms = (time.perf_counter() - t0) * 1000

    latencies: list[float] = []
    start_latencies: list[float] = []
    typed: dict[str, list[str]] = {}
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(args.sessions)

    def session_worker(i: int) -> None:
        rng = random.Random(args.seed * 1000 + i)
        user = users[i]
        scenario_id = scenario_ids[i % min(len(scenario_ids), args.scenarios)]
        renderer = renderer_factory() if renderer_factory else None
        barrier.wait()
        try:
            t = time.perf_counter()
            view = svc.practice.start(user, scenario_id)
            with lock:
                start_latencies.append((time.perf_counter() - t) * 1000)
        except Exception as exc:
            with lock:
                errors[f"start:{type(exc).__name__}"] += 1
            if args.verbose:
                traceback.print_exc()
            return
        sid, language = view.info.id, view.info.language
        mine: list[str] = []
        with lock:
            typed[sid] = mine
        for turn in range(args.turns):
            if args.think_ms > 0:
                time.sleep(rng.uniform(0.5, 1.5) * args.think_ms / 1000)
            text = utterance(rng, language, i, turn)
            t = time.perf_counter()
            try:
                svc.practice.send(user, sid, text, renderer)
            except Exception as exc:
                with lock:
                    errors[f"send:{type(exc).__name__}"] += 1
                if args.verbose:
                    traceback.print_exc()
                # the practitioner text is committed before the reply: retry the reply only
                with contextlib.suppress(Exception):
                    "".join(svc.practice.reply_stream(user, sid, renderer))
            finally:
                elapsed = (time.perf_counter() - t) * 1000
            mine.append(text)
            with lock:
                latencies.append(elapsed)

    threads = [
        threading.Thread(target=session_worker, args=(i,), name=f"session-{i}")
        for i in range(args.sessions)
    ]
    t_run = time.perf_counter()
    cpu0 = time.process_time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall_s = time.perf_counter() - t_run
    cpu_s = time.process_time() - cpu0

    # what reached the database: every typed turn must be there, in order
    lost = 0
    missing_replies = 0
    with svc.db.Session() as s:
        for sid, texts in typed.items():
            rows = (
                s.query(TurnRow.speaker, TurnRow.text)
                .filter(TurnRow.session_id == sid)
                .order_by(TurnRow.idx)
                .all()
            )
            stored = [t for sp, t in rows if sp == "practitioner"]
            lost += sum(1 for t in texts if t not in stored)
            missing_replies += sum(1 for sp, _ in rows if sp == "practitioner") - sum(
                1 for sp, _ in rows[1:] if sp == "citizen"
            )
    lost += (args.sessions - len(typed)) * args.turns  # sessions that never started
    dialect = svc.db.engine.dialect.name
    svc.db.dispose()
    if server is not None:
        server.__exit__(None, None, None)
    if tmp is not None:
        tmp.cleanup()

    n = len(latencies)
    return {
        "backend": args.backend,
        "database": dialect,
        "sessions": args.sessions,
        "turns_per_session": args.turns,
        "turns": n,
        "think_ms": args.think_ms,
        "p50_ms": round(pct(latencies, 0.50), 1),
        "p95_ms": round(pct(latencies, 0.95), 1),
        "p99_ms": round(pct(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1) if latencies else 0.0,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "start_p95_ms": round(pct(start_latencies, 0.95), 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "lost_turns": lost,
        "missing_replies": missing_replies,
        "throughput_turns_per_s": round(n / wall_s, 2) if wall_s else 0.0,
        "wall_s": round(wall_s, 2),
        "cpu_s": round(cpu_s, 2),
        "cpu_util": round(cpu_s / wall_s / (os.cpu_count() or 1), 2) if wall_s else 0.0,
        "startup_ms": round(startup_ms, 1),
        "warmup_ms": round(warmup_ms, 1),
        "rss_mb": round(rss_mb(), 1),
        "cores": os.cpu_count(),
        "llm_requests": server.requests if server is not None else 0,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--backend", choices=["offline", "llm"], default="offline")
    ap.add_argument(
        "--think-ms",
        type=float,
        default=1500.0,
        help="mean pause before each typed turn (0: saturation, every session types at once)",
    )
    ap.add_argument("--scenario", help="one scenario id (default: spread over the library)")
    ap.add_argument("--scenarios", type=int, default=4, help="how many scenarios to spread over")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", help="data folder (default: a fresh temporary one)")
    ap.add_argument("--database-url", help="e.g. postgresql+psycopg://... (default: SQLite)")
    ap.add_argument("--keep-env", action="store_true", help="use RELPRACTICE_DATA_DIR as set")
    ap.add_argument("--llm-ttft-ms", type=float, default=350.0)
    ap.add_argument("--llm-token-ms", type=float, default=30.0)
    ap.add_argument("--llm-slots", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    if not args.json or args.verbose:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    if args.json:
        print(json.dumps(result))
    return 0 if result["errors"] == 0 and result["lost_turns"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
