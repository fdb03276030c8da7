"""Coach command line.

    python -m coach score FILE... [--json] [--notes] [--judge] [--export md|docx|pdf --out DIR]

Each FILE is a transcript ``{"language": "da"|"en", "turns": [{"speaker", "text"}, ...]}``
(validated with ``base.models.Transcript``). With ``--json`` one JSON object per file is
printed, in input order, with ``overall``, ``principles`` (id -> score, evidence),
``overall_band``, ``summary`` (MITI), ``ownership`` (``problem`` / ``plan`` /
``adopted_plan``: who, turn, quote), ``patterns``, ``signals``, ``behaviours``
(the reading's behaviour code per turn, null for citizen turns) and ``turn_flags`` (the
moves the reading found in each turn). A file that cannot be read or validated gives
``file: path: reason`` on stderr; the other files are still scored and the exit code is 1.
The models are loaded once; a progress bar goes to stderr when scoring several files.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from base.datafiles import Problem, read_text, validation_problems
from base.llm import LLMError, make_model, resolve_settings
from base.models import Transcript
from coach import export
from coach.judge import with_judge
from coach.notes import coach_session
from coach.scoring import score_transcript
from reading import get_reader

if TYPE_CHECKING:
    from coach.schema import CoachReport


def load_transcript(path: Path) -> tuple[Transcript | None, list[Problem]]:
    """Read and validate one transcript file; problems as ``file: path: reason``."""
    file = str(path)
    text, problems = read_text(path)
    if text is None:
        return None, problems
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        return None, [Problem(file, "", f"not valid JSON: {exc.msg} ({where})", "json.syntax")]
    if not isinstance(data, dict):
        return None, [
            Problem(file, "", "expected a JSON object at the top level", "json.not_object")
        ]
    try:
        return Transcript.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, file)


def report_json(report: CoachReport) -> dict:
    return {
        "overall": report.overall,
        "overall_band": list(report.overall_band) if report.overall_band else None,
        "status": report.status,
        "language": report.language,
        "rubric_version": report.rubric_version,
        "principles": {
            p.id: {
                "score": p.score,
                "confidence": p.confidence,
                "insufficient_evidence": p.insufficient_evidence,
                "rationale": p.rationale,
                "evidence": [e.model_dump() for e in p.evidence],
            }
            for p in report.principles
        },
        "summary": report.summary.model_dump(),
        # problem / plan / adopted_plan: by, turn, quote, cue
        "ownership": report.ownership.model_dump(),
        "patterns": [p.model_dump() for p in report.patterns],
        "signals": report.signals.model_dump() if report.signals else None,
        "behaviours": report.behaviours,
        "turn_flags": report.turn_flags,
        "reader": report.coder,
    }


def _progress(total: int):  # -> tqdm | None
    if total < 2 or not sys.stderr:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is installed with streamlit's deps
        return None
    return tqdm(total=total, file=sys.stderr, unit="file", desc="scoring", leave=False)


def cmd_score(args: argparse.Namespace) -> int:

    failed = False
    reader = None
    judge_model = None
    if args.judge:
        try:
            judge_model = make_model(resolve_settings())
        except LLMError as exc:
            print(f"coach: --judge needs a language model: {exc}", file=sys.stderr)
            return 2
    bar = _progress(len(args.files))
    out_dir = Path(args.out) if args.out else None
    for name in args.files:
        path = Path(name)
        transcript, problems = load_transcript(path)
        if transcript is None:
            failed = True
            for p in problems:
                if bar is not None:
                    bar.write(p.line(), file=sys.stderr)  # keeps the bar off the error line
                else:
                    print(p.line(), file=sys.stderr)
        else:
            if reader is None:
                try:
                    reader = get_reader()  # load once, only when there is something to score
                except Exception as exc:
                    print(f"coach: cannot load the reading model: {exc}", file=sys.stderr)
                    return 2
            if args.notes or args.export:
                report = coach_session(transcript, reader=reader)
            else:
                report = score_transcript(transcript, reader=reader)
            if judge_model is not None:
                report = with_judge(report, transcript, judge_model)
            if args.json:
                payload = report_json(report)
                if report.judge is not None:
                    payload["judge"] = report.judge.model_dump()
                if args.notes and report.notes is not None:
                    payload["notes"] = report.notes.model_dump()
                print(json.dumps(payload, ensure_ascii=False), flush=True)
            else:
                overall = "-" if report.overall is None else f"{report.overall:.1f}"
                scores = " ".join(f"{p.id}={p.score}" for p in report.principles)
                print(f"{path}: overall {overall} {scores}".rstrip(), flush=True)
            if args.export and out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                fn = {"md": export.to_markdown, "docx": export.to_docx, "pdf": export.to_pdf}
                data = fn[args.export](report, transcript=transcript)
                (out_dir / f"{path.stem}.{args.export}").write_bytes(data)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coach", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="score transcript files (JSON)")
    score.add_argument("files", nargs="+", metavar="FILE")
    score.add_argument("--json", action="store_true", help="one JSON object per file")
    score.add_argument("--notes", action="store_true", help="add supervision notes (with --json)")
    score.add_argument("--export", choices=("md", "docx", "pdf"), help="also write a report file")
    score.add_argument("--out", help="directory for --export files")
    score.add_argument(
        "--judge",
        action="store_true",
        help="add the optional LLM judge (endpoint settings as for the citizen: environment)",
    )
    args = parser.parse_args(argv)
    if args.export and not args.out:
        parser.error("--export needs --out DIR")
    if args.command == "score":
        return cmd_score(args)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
