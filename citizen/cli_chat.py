"""`python -m citizen chat`: talk to a simulated citizen on the command line.

Reads practitioner turns from stdin, one per line. Prints the opening line, then one
JSON object per turn with at least ``reply``, ``trust`` (0..1, 3 decimals) and ``depth``.
With ``--json`` the opening is a JSON object too and each turn carries the full decision.

Non-offline backends voice the engine's decisions through ``citizen.llm_renderer``; when
it is missing or misconfigured the command stops with a clear message (exit code 2) and
never falls back to another backend silently.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from base.i18n import t
from citizen.debrief import citizen_voice
from citizen.engine import Renderer, start
from citizen.library import load_library
from citizen.offline import OfflineRenderer

BACKENDS = ("offline", "openai", "llamacpp")


class BackendError(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True, help="scenario id")
    parser.add_argument("--backend", choices=BACKENDS, default="offline")
    parser.add_argument("--json", action="store_true", help="JSON opening and full decisions")
    parser.add_argument("--scenario-dir", type=Path, default=None, help="folder of scenarios")
    parser.add_argument(
        "--debrief", action="store_true", help="print the citizen's debrief at the end"
    )
    parser.add_argument("--lang", choices=("da", "en"), default="en", help="language of messages")


def load_renderer(backend: str, lang: str = "en") -> Renderer:
    if backend == "offline":
        return OfflineRenderer()
    try:
        module = importlib.import_module("citizen.llm_renderer")
    except ImportError as exc:
        raise BackendError(
            t("citizen.cli.backend_missing", lang, backend=backend, error=exc)
        ) from exc
    try:
        for factory in ("get_renderer", "make_renderer"):
            fn = getattr(module, factory, None)
            if fn is not None:
                return fn(backend)
        cls = getattr(module, "LLMRenderer", None)
        if cls is not None:
            return cls(backend=backend)
    except Exception as exc:  # misconfiguration of the backend: say so, do not fall back
        raise BackendError(
            t("citizen.cli.backend_failed", lang, backend=backend, error=exc)
        ) from exc
    raise BackendError(
        t("citizen.cli.backend_failed", lang, backend=backend, error="no renderer factory")
    )


def run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    lib = load_library(args.scenario_dir) if args.scenario_dir else load_library()
    if args.scenario not in lib.scenarios:
        for p in lib.errors:
            print(t("citizen.cli.library_problem", args.lang, problem=p.line()), file=stderr)
        known = ", ".join(sorted(lib.scenarios)) or "-"
        print(
            t("citizen.cli.unknown_scenario", args.lang, id=args.scenario, known=known), file=stderr
        )
        return 2
    scenario = lib.get(args.scenario)
    try:
        renderer = load_renderer(args.backend, args.lang)
    except BackendError as exc:
        print(str(exc), file=stderr)
        return 2

    citizen = start(scenario)
    if args.json:
        opening = {"opening": citizen.opening, "trust": round(citizen.state.trust, 3), "depth": 0}
        print(json.dumps(opening, ensure_ascii=False), file=stdout, flush=True)
    else:
        print(citizen.opening, file=stdout, flush=True)
    for raw in stdin:
        text = raw.strip()
        if not text:
            continue
        if isinstance(renderer, OfflineRenderer):
            result = citizen.respond(text)
            reply, decision = result.reply, result.decision
        else:
            history = citizen.history
            decision = citizen.decide(text)
            try:
                reply = "".join(renderer.stream(scenario, decision, history)).strip()
            except Exception as exc:  # an LLM error mid-session: say which turn, stop cleanly
                print(
                    json.dumps(
                        {"error": str(exc), "turn": citizen.state.turn, "unanswered": text},
                        ensure_ascii=False,
                    ),
                    file=stdout,
                    flush=True,
                )
                print(
                    f"citizen chat: turn {citizen.state.turn} was not answered: {exc}", file=stderr
                )
                return 3
            citizen.record_reply(reply)
        out: dict[str, Any] = {
            "turn": citizen.state.turn,
            "reply": reply,
            "trust": round(citizen.state.trust, 3),
            "depth": citizen.state.depth,
        }
        if args.json:
            out["decision"] = decision.model_dump(mode="json")
        print(json.dumps(out, ensure_ascii=False), file=stdout, flush=True)
    if args.debrief:
        print(
            json.dumps({"debrief": citizen_voice(scenario, citizen.state)}, ensure_ascii=False),
            file=stdout,
            flush=True,
        )
    return 0


def main_chat(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citizen chat", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args, sys.stdin, sys.stdout, sys.stderr)


main = main_chat  # the name the first skeleton of __main__ used
