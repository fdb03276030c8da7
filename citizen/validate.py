"""Checking scenario files: ``python -m citizen validate`` and ``python -m citizen schema``.

Three layers of checks, each reported as one ``file: field.path: reason [code]`` line:

1. each file on its own: safe YAML, ``schema_version``, the pydantic model
   (``citizen.library.load_scenario_file``);
2. across files: duplicate ids, translations that point nowhere
   (``citizen.library.cross_file_problems``), translations in the same language or whose
   structure has drifted from the original (``library.translation_*``, warnings);
3. content (:func:`content_problems`): is there enough to say for a 20-turn
   conversation, can every disclosure depth be reached, do the learning goals name
   rubric principles, does the text look like the declared language, is there a
   reaction for every trigger and key opener, guarded lines for topics that open later.
   These are warnings; ``--strict`` makes the ``content.*`` ones errors.

The Scenario studio reuses :func:`content_problems` and :func:`validate_paths`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import yaml

from base.datafiles import Problem
from base.principles import PRINCIPLE_IDS
from citizen.library import (
    DEFAULT_LIBRARY,
    Library,
    cross_file_problems,
    load_scenario_file,
    scenario_files,
)
from citizen.schema import Opener, Scenario, Trigger, words

REPO = Path(__file__).resolve().parent.parent
RUBRIC_DIR = REPO / "rubric"
SCHEMA_FILE = REPO / "schema" / "scenario.schema.json"

DEFAULT_PRINCIPLES: tuple[str, ...] = PRINCIPLE_IDS  # the rubric schema owns the list

# -- thresholds for the content estimate -------------------------------------------------
SESSION_TURNS = 20
MIN_DISTINCT_LINES = 25  # distinct lines in topics + general: enough for 20 turns without repeats
MIN_LINES_PER_BAND = 2
MOST_TOPICS = 2 / 3  # "most topics" must have MIN_LINES_PER_BAND lines in every band
MIN_TOPICS = 9  # the writing guide: at least nine topics a practitioner may raise
MIN_EXAMPLES = 4  # examples per topic, so that varied questions find it
# Trust is a number in [0, 1]; a gate above this is out of reach in a 20-turn session
# (every trigger costs trust and scars later gains, so real sessions never sit at 1.0).
MAX_REACHABLE_TRUST = 0.9

OPENER_KINDS = frozenset(m.value for m in Opener)
TRIGGER_KINDS = tuple(m.value for m in Trigger)
# openers every scenario should react to (the writing guide)
KEY_OPENERS = (
    "reflection",
    "asks_what_matters",
    "asks_strengths",
    "asks_permission",
    "validation",
    "transparency",
)

# Stopwords that are clearly one language. Words shared by both (i, at, for, man, to,
# her, under, over, min, hun...) are left out on purpose.
_EN_STOPWORDS = """the and is are was were be been you your it its not that this these those my me
    with have has had what which who when where why how but they them their we our us he
    she his him of would could should can will just don do does did know about if there so
    get got like all no yes any some more very really think because than then from into out
    up down off only also again still too much many am an or by on as"""
EN_STOPWORDS = frozenset(_EN_STOPWORDS.split())
_DA_STOPWORDS = """og jeg det er ikke på med som har til af kan vil men du der jo nu bare også hvad
    hvor sig mig mit mine din dit dine han hende hans den de dem vi os jeres deres noget nogen
    skal var være været sådan lige godt meget mere når hvis fordi så ja nej eller efter fra
    ind ud op ned kun igen stadig altså nok vel da hvem hvorfor hvordan blev bliver får fik
    ville kunne skulle må et ved om"""
DA_STOPWORDS = frozenset(_DA_STOPWORDS.split())
LANGUAGE_STOPWORDS = {"en": EN_STOPWORDS, "da": DA_STOPWORDS}

# Real people named in the seed texts: scenarios must be fictional.
REAL_NAMES = (
    "Mette Lybech",
    "Helle Øbo",
    "Katja Faurschou",
    "Carsten Hornstrup",
    "Torsten Gejl",
    "Carl Holst",
)


# -- rubric principles --------------------------------------------------------------------
def rubric_principles(rubric_dir: Path = RUBRIC_DIR) -> frozenset[str]:
    """Principle ids from ``rubric/*.yaml`` (``principles: [{id: ...}]`` or a mapping keyed by
    id); the built-in list when there are no rubric files or none of them names a principle.

    Cached per folder until one of its files changes (the Studio calls this on every check).
    """
    files = sorted(rubric_dir.glob("*.yaml")) if rubric_dir.is_dir() else []
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _rubric_principles(stamp)


@functools.lru_cache(maxsize=16)
def _rubric_principles(stamp: tuple[tuple[str, int, int], ...]) -> frozenset[str]:
    found: set[str] = set()
    for name, _mtime, _size in stamp:
        try:
            data = yaml.safe_load(Path(name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        principles = data.get("principles") if isinstance(data, dict) else None
        if isinstance(principles, list):
            found |= {
                p["id"] for p in principles if isinstance(p, dict) and isinstance(p.get("id"), str)
            }
        elif isinstance(principles, dict):
            found |= {k for k in principles if isinstance(k, str)}
    return frozenset(found) if found else frozenset(DEFAULT_PRINCIPLES)


# -- language -----------------------------------------------------------------------------
def stopword_scores(text: str) -> dict[str, float]:
    """Share of words that are English / Danish stopwords."""
    ws = words(text)
    if not ws:
        return {lang: 0.0 for lang in LANGUAGE_STOPWORDS}
    return {lang: sum(w in stop for w in ws) / len(ws) for lang, stop in LANGUAGE_STOPWORDS.items()}


def guess_language(text: str) -> str | None:
    """'da' or 'en' by stopword share; None when the text is too short to tell."""
    ws = words(text)
    scores = stopword_scores(text)
    hits = {lang: round(score * len(ws)) for lang, score in scores.items()}
    if max(hits.values(), default=0) < 3:
        return None
    best = max(scores, key=lambda lang: scores[lang])
    other = "da" if best == "en" else "en"
    if hits[best] < 2 * hits[other]:
        return None
    return best


def _spoken_lines(s: Scenario) -> Iterable[tuple[str, str]]:
    """(field path, line) for everything the citizen says and the examples of the worker."""
    yield "opening_line", s.opening_line
    for i, t in enumerate(s.topics):
        for j, ex in enumerate(t.examples):
            yield f"topics[{i}].examples[{j}]", ex
        for band in ("low", "mid", "high"):
            for j, line in enumerate(getattr(t.replies, band)):
                yield f"topics[{i}].replies.{band}[{j}]", line
        for j, line in enumerate(t.guarded):
            yield f"topics[{i}].guarded[{j}]", line
    for kind, banded in s.reactions.items():
        for band in ("low", "mid", "high"):
            for j, line in enumerate(getattr(banded, band)):
                yield f"reactions.{kind}.{band}[{j}]", line
    for band in ("low", "mid", "high"):
        for j, line in enumerate(getattr(s.general, band)):
            yield f"general.{band}[{j}]", line
    for i, d in enumerate(s.disclosure):
        for j, line in enumerate(d.reveal_lines):
            yield f"disclosure[{i}].reveal[{j}]", line
    for i, p in enumerate(s.acceptable_plans):
        for j, line in enumerate(p.accept):
            yield f"acceptable_plans[{i}].accept[{j}]", line
    for name in ("too_early", "not_mine"):
        banded = getattr(s.plan_responses, name)
        for band in ("low", "mid", "high"):
            for j, line in enumerate(getattr(banded, band)):
                yield f"plan_responses.{name}.{band}[{j}]", line
    for name in ("opened", "closed", "mixed", "would_have_helped"):
        for j, line in enumerate(getattr(s.debrief, name)):
            yield f"debrief.{name}[{j}]", line


# -- named people, places and institutions ----------------------------------------------
_NAME = re.compile(
    r"(?<![.!?:\n\"'«(]\s)(?<!^)\b([A-ZÆØÅ][a-zæøåéü]{2,}(?:[- ][A-ZÆØÅ][a-zæøåéü]+)*)"
)
# capitalised words that are not names of someone or somewhere a practitioner could ask about
NOT_NAMES = frozenset(
    [
        "Danish",
        "English",
        "Denmark",
        "Danmark",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Christmas",
        "Jul",
        "Easter",
        "Påske",
        "Citizen",
        "Borger",
        "Assessment",
        "Vurdering",
        "Recommendation",
        "Anbefaling",
        "Health",
        "Helbred",
        "Case",
        "Sag",
        "Note",
        "Notat",
        "Previously",
        "Tidligere",
        "Mr",
        "Mrs",
        "Ms",
        "Mondays",
        "Tuesdays",
        "Wednesdays",
        "Thursdays",
        "Fridays",
        "Saturdays",
        "Sundays",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "Act",
        "Lov",
        "Citizens",
        "Children",
        "Youth",
        "Unit",
        "Børne",
        "Borgeren",
        "Disability",
        "Education",
        "Housing",
        "Social",
        "Services",
        "Åbne",
        "Øget",
    ]
)


def story_names(s: Scenario) -> list[str]:
    """Names (capitalised, not at the start of a sentence) in the hidden story, the resources,
    the briefing and the case file: the people, places and institutions of the scenario."""
    texts = [
        s.briefing,
        s.case_file,
        s.persona.situation,
        s.persona.system_history,
        s.hidden.problem_definition,
        *s.hidden.solution_ideas,
        *s.hidden.what_matters,
        *s.resources.strengths,
        *s.resources.network,
        *s.resources.civil_society,
    ]
    own = {w.casefold() for w in words(s.persona.name)}
    seen: dict[str, None] = {}
    for text in texts:
        for m in _NAME.finditer(text):
            name = m.group(1)
            parts = [w for w in name.replace("-", " ").split() if w not in NOT_NAMES]
            if not parts or {p.casefold() for p in parts} <= own:
                continue
            seen.setdefault(" ".join(parts), None)
    return list(seen)


def unaskable_names(s: Scenario) -> list[str]:
    """Story names that no topic's keywords or examples mention (by word stem)."""
    asked = " ".join(" ".join(t.keywords) + " " + " ".join(t.examples) for t in s.topics).casefold()
    asked_words = set(words(asked))
    missing: list[str] = []
    for name in story_names(s):
        parts = [w for w in words(name) if len(w) > 2]
        if not any(any(a.startswith(p[: max(4, len(p) - 2)]) for a in asked_words) for p in parts):
            missing.append(name)
    return missing


# -- content checks -----------------------------------------------------------------------
def content_problems(
    scenario: Scenario, file: str, principles: frozenset[str] | None = None
) -> list[Problem]:
    """Warnings about a schema-valid scenario: will it carry a 20-turn conversation?

    Every problem has severity ``warning`` and a stable ``content.*`` code.
    """
    s = scenario
    out: list[Problem] = []

    def warn(path: str, reason: str, code: str) -> None:
        out.append(Problem(file, path, reason, code, "warning"))

    # enough to say -------------------------------------------------------------------
    topic_lines = {line for t in s.topics for line in t.replies.all_lines()}
    distinct = len(topic_lines | set(s.general.all_lines()))
    if distinct < MIN_DISTINCT_LINES:
        warn(
            "topics",
            f"only {distinct} distinct reply lines in topics and general; "
            f"{MIN_DISTINCT_LINES} or more are needed for {SESSION_TURNS} turns without repeating",
            "content.too_little",
        )
    thin = [
        t.id
        for t in s.topics
        if min(len(t.replies.low), len(t.replies.mid), len(t.replies.high)) < MIN_LINES_PER_BAND
    ]
    if len(s.topics) - len(thin) < MOST_TOPICS * len(s.topics):
        warn(
            "topics",
            f"{len(thin)} of {len(s.topics)} topics have fewer than {MIN_LINES_PER_BAND} lines "
            f"in some trust band ({', '.join(thin)}); most topics need {MIN_LINES_PER_BAND} per band",
            "content.too_little",
        )
    if len(s.topics) < MIN_TOPICS:
        warn(
            "topics",
            f"only {len(s.topics)} topics; {MIN_TOPICS} or more let the conversation go where "
            "the practitioner takes it (family, work, the system, strengths, network, future ...)",
            "content.too_little",
        )
    few = [t.id for t in s.topics if len(t.examples) < MIN_EXAMPLES]
    if few:
        warn(
            "topics",
            f"topics with fewer than {MIN_EXAMPLES} examples are hard to recognise: {', '.join(few)}",
            "content.too_little",
        )
    for name in ("too_early", "not_mine"):
        banded = getattr(s.plan_responses, name)
        for band in ("low", "mid", "high"):
            if not getattr(banded, band):
                warn(
                    f"plan_responses.{name}.{band}",
                    "no lines for this trust band",
                    "content.too_little",
                )
    for band in ("low", "mid", "high"):
        if not getattr(s.general, band):
            warn(
                f"general.{band}",
                "no lines for when no topic fits at this trust band",
                "content.too_little",
            )

    # reachable depths ----------------------------------------------------------------
    topics_by_id = {t.id: t for t in s.topics}
    unreachable: set[int] = set()
    for i, level in enumerate(s.disclosure):
        if level.depth == 0:
            continue
        unlock = level.unlock
        path = f"disclosure[{i}].unlock"
        if unlock.min_trust > MAX_REACHABLE_TRUST:
            unreachable.add(level.depth)
            warn(
                f"{path}.min_trust",
                f"depth {level.depth} needs trust {unlock.min_trust:g}; above {MAX_REACHABLE_TRUST:g} "
                f"is out of reach in a {SESSION_TURNS}-turn conversation",
                "content.unreachable_depth",
            )
        if unlock.any_of and not OPENER_KINDS.intersection(unlock.any_of):
            unreachable.add(level.depth)
            warn(
                f"{path}.any_of",
                f"depth {level.depth} unlocks only on {', '.join(unlock.any_of)}: moves that cost "
                "trust; add at least one relational move (an opener such as reflection)",
                "content.unreachable_depth",
            )
        if unlock.topics and not any(
            tid in topics_by_id and (topics_by_id[tid].examples or topics_by_id[tid].keywords)
            for tid in unlock.topics
        ):
            unreachable.add(level.depth)
            warn(
                f"{path}.topics",
                f"depth {level.depth} needs a turn on {', '.join(unlock.topics)}, "
                "but no such topic has examples or keywords to be recognised by",
                "content.unreachable_depth",
            )
        if level.depth - 1 in unreachable and level.depth not in unreachable:
            unreachable.add(level.depth)
            warn(
                path,
                f"depth {level.depth} comes after depth {level.depth - 1}, which cannot be reached",
                "content.unreachable_depth",
            )
    for i, t in enumerate(s.topics):
        if t.depth in unreachable:
            warn(
                f"topics[{i}].depth",
                f"topic {t.id!r} opens at depth {t.depth}, which cannot be reached; "
                "only its guarded lines will ever be said",
                "content.unreachable_depth",
            )
    for i, p in enumerate(s.acceptable_plans):
        if p.min_depth in unreachable or p.min_trust > MAX_REACHABLE_TRUST:
            warn(
                f"acceptable_plans[{i}]",
                f"plan {p.id!r} needs depth {p.min_depth} and trust {p.min_trust:g}, which cannot be reached",
                "content.unreachable_depth",
            )
    if all(
        p.min_depth in unreachable or p.min_trust > MAX_REACHABLE_TRUST for p in s.acceptable_plans
    ):
        warn("acceptable_plans", "no plan can ever be accepted", "content.unreachable_depth")

    # learning goals ------------------------------------------------------------------
    if not s.learning_goals:
        warn(
            "learning_goals",
            "no learning goal: say what this scenario lets the practitioner practise",
            "content.no_learning_goal",
        )
    for i, g in enumerate(s.learning_goals):
        if not g.moves:
            warn(
                f"learning_goals[{i}].moves",
                "name the relational moves this goal asks for (e.g. [reflection, transparency]), "
                "so that the fidelity suite can check the citizen rewards them",
                "content.goal_without_moves",
            )
    known = principles if principles is not None else rubric_principles()
    for i, g in enumerate(s.learning_goals):
        if g.principle not in known:
            warn(
                f"learning_goals[{i}].principle",
                f"{g.principle!r} is not a rubric principle; use one of {', '.join(sorted(known))}",
                "content.unknown_principle",
            )

    # language ------------------------------------------------------------------------
    lines = list(_spoken_lines(s))
    overall = guess_language(" ".join(line for _, line in lines))
    if overall is not None and overall != s.language:
        warn(
            "language",
            f"declared {s.language!r}, but the lines read as {overall!r}",
            "content.language_mismatch",
        )
    elif overall is None and lines:
        scores = stopword_scores(" ".join(line for _, line in lines))
        if scores[s.language] < 0.05:
            warn(
                "language", f"the lines do not read as {s.language!r}", "content.language_mismatch"
            )
    for path, line in lines:
        guessed = guess_language(line)
        if guessed is not None and guessed != s.language and len(words(line)) >= 6:
            warn(
                path,
                f"reads as {guessed!r}, not {s.language!r}: {line[:60]!r}",
                "content.language_mismatch",
            )

    # reactions and guarded lines -----------------------------------------------------
    for kind in (*TRIGGER_KINDS, *KEY_OPENERS):
        banded = s.reactions.get(kind)
        if banded is None or banded.count() == 0:
            what = "trigger" if kind in TRIGGER_KINDS else "opener"
            warn(
                f"reactions.{kind}",
                f"no reaction lines for the {what} {kind!r}",
                "content.missing_reaction",
            )
    for i, t in enumerate(s.topics):
        if t.depth > 0 and not t.guarded:
            warn(
                f"topics[{i}].guarded",
                f"topic {t.id!r} opens at depth {t.depth} but has no guarded lines for when it "
                "is raised too early",
                "content.missing_guarded",
            )

    # every disclosure says which topics it answers ------------------------------------
    for i, level in enumerate(s.disclosure):
        for j, r in enumerate(level.reveal):
            if isinstance(r, str):
                warn(
                    f"disclosure[{i}].reveal[{j}]",
                    "a plain line: write it as {text: ..., topics: [...]} naming the topics it "
                    "answers, so that it is said when those are asked about",
                    "content.untagged_reveal",
                )

    # every named person, place and institution can be asked about ---------------------
    for name in unaskable_names(s):
        warn(
            "topics",
            f"{name!r} is named in the story or the case file, but no topic's keywords or "
            "examples mention it: a practitioner who asks about it gets no answer",
            "content.unaskable_name",
        )

    # fictional -----------------------------------------------------------------------
    blob = " ".join(
        [s.title, s.summary, s.briefing, s.case_file, s.persona.name, s.persona.situation]
        + [line for _, line in lines]
    ).casefold()
    for name in REAL_NAMES:
        if name.casefold() in blob:
            warn(
                "<file>",
                f"names a real person ({name}); every person must be fictional",
                "content.real_name",
            )
    return out


# -- whole runs ---------------------------------------------------------------------------
def validate_paths(paths: list[Path], *, strict: bool = False) -> tuple[Library, list[Problem]]:
    """Check every file (folders: their ``*.yaml``), then across files.

    Returns the library of valid scenarios and every problem, in file order. With
    ``strict``, content warnings become errors.
    """
    lib = Library()
    problems: list[Problem] = []
    principles = rubric_principles()
    for path in scenario_files(paths):
        scenario, file_problems = load_scenario_file(path)
        problems += file_problems
        if scenario is None:
            continue
        problems += content_problems(scenario, str(path), principles)
        problems += lib.add(scenario, path)
    problems += cross_file_problems(lib)
    problems += _translation_problems(lib)
    if strict:
        problems = [
            dataclasses.replace(p, severity="error") if p.code.startswith("content.") else p
            for p in problems
        ]
    lib.problems = problems
    return lib, problems


def _translation_facts(s: Scenario) -> dict[str, object]:
    """What a translation must keep from its original (structure and numbers, not words)."""
    return {
        "context": s.context.value,
        "difficulty": s.difficulty,
        "persona.age": s.persona.age,
        "topics": len(s.topics),
        "topics[].depth": [t.depth for t in s.topics],
        "acceptable_plans": len(s.acceptable_plans),
        "acceptable_plans[].min_trust": [p.min_trust for p in s.acceptable_plans],
        "disclosure[].unlock.min_trust": [d.unlock.min_trust for d in s.disclosure],
        "dynamics": s.dynamics.model_dump(),
        "learning_goals[].principle": [g.principle for g in s.learning_goals],
    }


def _translation_problems(lib: Library) -> list[Problem]:
    out = []
    for sid, s in lib.scenarios.items():
        original = lib.scenarios.get(s.translation_of or "")
        if original is None:
            continue
        file = str(lib.files[sid])
        if original.language == s.language:
            out.append(
                Problem(
                    file,
                    "translation_of",
                    f"{original.id!r} is in the same language ({s.language})",
                    "library.translation_language",
                    "warning",
                )
            )
        mine, theirs = _translation_facts(s), _translation_facts(original)
        for key, value in mine.items():
            if value != theirs[key]:
                out.append(
                    Problem(
                        file,
                        key,
                        f"differs from {original.id!r} ({value} vs {theirs[key]}): a translation "
                        "should keep the original's structure and numbers",
                        "library.translation_drift",
                        "warning",
                    )
                )
    return out


def main_validate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citizen validate",
        description="Check scenario files; one line per problem: file: field.path: reason [code].",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: the shipped library)"
    )
    parser.add_argument("--strict", action="store_true", help="treat content warnings as errors")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print problems only, no summary"
    )
    args = parser.parse_args(argv)
    paths: list[Path] = args.paths or [DEFAULT_LIBRARY]
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"{p}: <file>: no such file or folder [file.missing]")
    files = scenario_files([p for p in paths if p.exists()])
    if not files and not missing:
        print(f"{', '.join(map(str, paths))}: <file>: no scenario files (*.yaml) found [file.none]")
    lib, problems = validate_paths([p for p in paths if p.exists()], strict=args.strict)
    for p in problems:
        print(p.line())
    errors = [p for p in problems if p.severity == "error"]
    if not args.quiet:
        print(
            f"{len(files)} file(s), {len(lib.scenarios)} valid scenario(s), "
            f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)",
            file=sys.stderr,
        )
    return 1 if errors or missing or not files else 0


# -- JSON Schema for editors --------------------------------------------------------------
def schema_text() -> str:
    """The JSON Schema of a scenario file, as committed in ``schema/scenario.schema.json``."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main_schema(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citizen schema",
        description="Write the JSON Schema of scenario files (for editors: yaml-language-server).",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        help=f"file to write (default: stdout; the committed one is {SCHEMA_FILE.relative_to(REPO)})",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the output file differs from the model"
    )
    args = parser.parse_args(argv)
    text = schema_text()
    if args.check:
        target = args.output or SCHEMA_FILE
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            print(
                f"{target}: <file>: out of date; run python -m citizen schema --output {target} [schema.stale]"
            )
            return 1
        return 0
    if args.output is None:
        sys.stdout.write(text)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
