"""Offline renderer: the citizen speaks only authored lines from the scenario.

- **Topic** of a practitioner turn: cosine similarity of the turn to each topic's
  ``examples`` (multilingual-e5 via ``base.embeddings``), plus small boosts for the
  topic's keywords. Example and plan embeddings are computed once per scenario content and
  cached per process.
- **Reply** = an optional short reaction line (``reactions[move][band]`` for the strongest
  trigger, else opener) + one main line: a plan response, a ``reveal`` line when a depth is
  newly reached, the topic line for the trust band, or ``guarded``/``general`` when the
  topic is deeper than the citizen has opened up.
- **No exact repeat** within a session: lines already said are skipped, falling back
  through neighbouring bands, ``general``, other open topics; as a last resort two
  authored lines are combined into a reply that has not been said before.

Deterministic: the same state and turn always give the same reply.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from base.datafiles import data_dir
from citizen.moves import TRIGGER_KINDS, count_cues, cue_in, tokens
from citizen.schema import Banded, Scenario

if TYPE_CHECKING:
    from citizen.engine import Decision

log = logging.getLogger(__name__)

TOPIC_THRESHOLD = 0.865  # e5-small cosine (query/query); below this no topic fits
KEYWORD_BOOST = 0.03  # per topic keyword found in the turn
MAX_KEYWORD_BOOST = 0.06
BANDS = ("low", "mid", "high")
BAND_ORDER: dict[str, tuple[str, ...]] = {
    "low": ("low", "mid"),
    "mid": ("mid", "low", "high"),
    "high": ("high", "mid", "low"),
}


# -- embedding index per scenario ----------------------------------------------------------
@dataclass(frozen=True)
class ScenarioIndex:
    topic_ids: tuple[str, ...]
    example_topic: np.ndarray  # row -> topic position
    examples: np.ndarray  # (n_examples, dim)
    plans: np.ndarray  # (n_plans, dim)
    reveal_topics: dict[str, tuple[str, ...]] = field(default_factory=dict)  # reveal -> topics
    # answer line -> passage vector, embedded the first time a line is a candidate (a topic's
    # lines when that topic is first asked about), so a new scenario starts at once
    line_vecs: dict[str, np.ndarray] = field(default_factory=dict, compare=False)
    embedder: Any = field(default=None, compare=False, repr=False)
    lock: Any = field(default_factory=threading.Lock, compare=False, repr=False)

    cache_file: Path | None = field(default=None, compare=False, repr=False)

    def vectors(self, lines: list[str]) -> dict[str, np.ndarray]:
        missing = [line for line in dict.fromkeys(lines) if line not in self.line_vecs]
        passage = getattr(self.embedder, "passage", None)
        if missing and passage is not None:
            vecs = np.asarray(passage(missing), dtype=np.float32)
            with self.lock:
                for line, v in zip(missing, vecs, strict=True):
                    self.line_vecs[line] = v
                self._save()
        return self.line_vecs

    def _load(self) -> None:
        if self.cache_file is None or not self.cache_file.exists():
            return
        try:
            with np.load(self.cache_file, allow_pickle=False) as z:
                keys = json.loads(str(z["lines"]))
                vecs = z["vectors"]
            if vecs.ndim == 2 and len(keys) == len(vecs):
                self.line_vecs.update({k: vecs[i] for i, k in enumerate(keys)})
        except (OSError, ValueError, KeyError):
            log.warning("ignoring unreadable line cache %s", self.cache_file)

    def _save(self) -> None:
        if self.cache_file is None or not self.line_vecs:
            return
        keys = list(self.line_vecs)
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_suffix(".tmp.npz")
            np.savez(
                tmp,
                lines=np.asarray(json.dumps(keys, ensure_ascii=False)),
                vectors=np.stack([self.line_vecs[k] for k in keys]),
            )
            os.replace(tmp, self.cache_file)
        except OSError as exc:  # a read-only data folder: keep the vectors in memory only
            log.warning("cannot write line cache %s: %s", self.cache_file, exc)

    def line_sims(self, lines: list[str], vec: np.ndarray | None) -> dict[str, float]:
        if vec is None:
            return dict.fromkeys(lines, 0.0)
        vecs = self.vectors(lines)
        out: dict[str, float] = {}
        for line in lines:
            lv = vecs.get(line)
            out[line] = float(lv @ vec) if lv is not None and lv.shape == vec.shape else 0.0
        return out


def _cache_dir() -> Path:
    """Where answer-line vectors are kept between runs (``$RELPRACTICE_DATA_DIR/cache``)."""
    return data_dir() / "cache" / "scenario-lines"


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", text)[:40]


_INDEX: dict[tuple[str, str], ScenarioIndex] = {}
_INDEX_LOCK = threading.Lock()


def content_hash(scenario: Scenario) -> str:
    parts = [
        t.model_dump_json(include={"id", "examples", "replies", "guarded"}) for t in scenario.topics
    ]
    parts += [p.model_dump_json(include={"id", "description"}) for p in scenario.acceptable_plans]
    parts += [d.model_dump_json(include={"reveal"}) for d in scenario.disclosure]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


def _infer_reveal_topics(scenario: Scenario, index: ScenarioIndex) -> dict[str, tuple[str, ...]]:
    """Topics per reveal line: the ones the author named, else the topic whose own reply
    lines are closest in meaning."""
    out: dict[str, tuple[str, ...]] = {}
    for level in scenario.disclosure:
        for line in level.reveal_lines:
            named = level.reveal_topics(line)
            if named:
                out[line] = tuple(named)
                continue
            replies = {r: t.id for t in scenario.topics for r in t.replies.all_lines()}
            vecs = index.vectors([line, *replies])
            lv = vecs.get(line)
            best, best_sim = None, -1.0
            for other, tid in replies.items():
                ov = vecs.get(other)
                if lv is not None and ov is not None and ov.shape == lv.shape:
                    sim = float(lv @ ov)
                    if sim > best_sim:
                        best, best_sim = tid, sim
            out[line] = (best,) if best else ()
    return out


def scenario_index(scenario: Scenario, embedder: Any) -> ScenarioIndex:
    """Embeddings of topic examples, plan descriptions and answer lines; cached per process
    by scenario id + content hash."""
    key = (scenario.id, content_hash(scenario))
    hit = _INDEX.get(key)
    if hit is not None:
        return hit
    with _INDEX_LOCK:
        hit = _INDEX.get(key)
        if hit is not None:
            return hit
        texts: list[str] = []
        rows: list[int] = []
        for i, topic in enumerate(scenario.topics):
            texts += topic.examples
            rows += [i] * len(topic.examples)
        examples = np.asarray(embedder.query(texts), dtype=np.float32)
        plans = np.asarray(
            embedder.query([p.description for p in scenario.acceptable_plans]), dtype=np.float32
        )
        model = getattr(embedder, "model_id", type(embedder).__name__)
        index = ScenarioIndex(
            topic_ids=tuple(t.id for t in scenario.topics),
            example_topic=np.asarray(rows, dtype=np.int64),
            examples=examples,
            plans=plans,
            embedder=embedder,
            cache_file=_cache_dir() / f"{scenario.id}-{key[1]}-{_slug(str(model))}.npz"
            if getattr(embedder, "persist", False)
            else None,
        )
        index._load()
        index.reveal_topics.update(_infer_reveal_topics(scenario, index))
        _INDEX[key] = index
        return index


def topic_scores(
    scenario: Scenario, index: ScenarioIndex, vec: np.ndarray, words: list[str]
) -> dict[str, float]:
    sims = index.examples @ vec
    best = np.full(len(index.topic_ids), -1.0, dtype=np.float64)
    np.maximum.at(best, index.example_topic, sims.astype(np.float64))
    out: dict[str, float] = {}
    for i, topic in enumerate(scenario.topics):
        boost = min(
            MAX_KEYWORD_BOOST, KEYWORD_BOOST * count_cues(words, topic.keywords, scenario.language)
        )
        out[topic.id] = round(float(best[i]) + boost, 4)
    return out


def choose_topic(scores: dict[str, float]) -> tuple[str | None, float]:
    if not scores:
        return None, 0.0
    tid = max(scores, key=lambda k: (scores[k], k))
    if scores[tid] < TOPIC_THRESHOLD:
        return None, scores[tid]
    return tid, scores[tid]


# minimal encouragers and follow-ups that ask for more of the same, in both languages;
# a turn closer to these than to any topic's examples continues the last topic
FOLLOW_UPS: tuple[str, ...] = (
    "Mm.",
    "Mhm.",
    "Fortæl mere.",
    "Fortæl mig mere om det.",
    "Og så?",
    "Hvad mener du?",
    "Sig lidt mere.",
    "Kan du sige lidt mere om det?",
    "Hvad skete der så?",
    "Go on.",
    "Tell me more.",
    "Tell me more about that.",
    "And then?",
    "What do you mean?",
    "Say a bit more.",
    "Can you say more about that?",
    "What happened then?",
    "I see.",
)
FOLLOW_UP_WORDS = 8  # longer turns carry their own content
FOLLOW_UP_MARGIN = 0.01
_FOLLOW_UPS: dict[int, np.ndarray] = {}


def follow_up_similarity(embedder: Any, vec: np.ndarray) -> float:
    key = id(embedder)
    fv = _FOLLOW_UPS.get(key)
    if fv is None:
        fv = np.asarray(embedder.query(list(FOLLOW_UPS)), dtype=np.float32)
        _FOLLOW_UPS[key] = fv
    if fv.ndim != 2 or fv.shape[1] != vec.shape[0]:
        return 0.0
    return float((fv @ vec).max())


def is_follow_up(
    scenario: Scenario,
    scores: dict[str, float],
    follow_sim: float,
    words: list[str],
) -> bool:
    """A short turn that asks for more ("Mm, fortæl mere", "What happened then?") rather
    than raising a topic: closer in meaning to a follow-up than to any topic, and naming
    none of the best topic's keywords."""
    if len(words) > FOLLOW_UP_WORDS or not scores:
        return False
    best = max(scores, key=lambda k: (scores[k], k))
    topic = next(t for t in scenario.topics if t.id == best)
    if count_cues(words, topic.keywords, scenario.language):
        return False
    return follow_sim >= scores[best] - FOLLOW_UP_MARGIN


def plan_similarities(index: ScenarioIndex, vec: np.ndarray) -> list[float]:
    return [round(float(x), 4) for x in index.plans @ vec]


# -- what to answer -----------------------------------------------------------------------
@dataclass(frozen=True)
class Ask:
    """What the reply must answer: the engine's decision about this turn."""

    band: str
    depth: int
    topic: str | None = None
    new_depth: int | None = None
    plan_reason: str = "none"
    plan_id: str | None = None
    reaction_move: str | None = None
    invitation: bool = False  # an open invitation or a minimal encourager: "tell me more"
    continue_topic: str | None = None  # the topic talked about last, for "go on"
    vec: np.ndarray | None = field(default=None, compare=False)  # the turn's query embedding
    words: tuple[str, ...] = ()  # the turn's tokens, for label echoes
    own_words_said: bool = False  # the turn repeats words the citizen said in this conversation


@dataclass(frozen=True)
class Composition:
    parts: list[str]
    main_kind: str  # plan_accept | plan_refuse | reveal | topic | guarded | general | repeat
    reaction: str | None = None


# reactions to questions that are answers in themselves ("Bonnie first. Then a door."):
# said only when no topic line answers the turn
ANSWERING_REACTIONS = frozenset({"open_question", "asks_what_matters", "asks_strengths"})
MAIN_KINDS = ("plan_accept", "plan_refuse", "reveal", "topic", "guarded", "general", "repeat")


def banded(b: Banded, band: str) -> list[str]:
    out: list[str] = []
    for name in BAND_ORDER[band]:
        out += getattr(b, name)
    return out


def _first_unused(candidates: list[str], used: set[str]) -> str | None:
    for line in candidates:
        if line not in used:
            return line
    return None


def _ranked(b: Banded, band: str, index: ScenarioIndex, vec: np.ndarray | None) -> list[str]:
    """A topic's lines, band by band (own band first), each band best answer first."""
    out: list[str] = []
    sims = index.line_sims(b.all_lines(), vec)
    for name in BAND_ORDER[band]:
        out += sorted(getattr(b, name), key=lambda line: -sims[line])
    return out


def pending_reveals(scenario: Scenario, depth: int, used: set[str]) -> list[tuple[int, str]]:
    """(depth, line) of reveals the citizen may now say and has not said, deepest first."""
    out = [
        (level.depth, line)
        for level in scenario.disclosure
        if 1 <= level.depth <= depth
        for line in level.reveal_lines
        if line not in used
    ]
    return sorted(out, key=lambda x: -x[0])


def choose_main(
    scenario: Scenario, index: ScenarioIndex, ask: Ask, used: set[str]
) -> tuple[str | None, str, list[str]]:
    """(line, kind, pool of the same kind) for the main part of the reply."""
    if ask.plan_reason == "accepted" and ask.plan_id is not None:
        plan = next(p for p in scenario.acceptable_plans if p.id == ask.plan_id)
        return _first_unused(plan.accept, used) or plan.accept[0], "plan_accept", list(plan.accept)
    if ask.plan_reason in ("too_early", "not_mine"):
        pool = banded(getattr(scenario.plan_responses, ask.plan_reason), ask.band)
        line = _first_unused(pool, used)
        if line is not None:
            return line, "plan_refuse", pool

    topics = {t.id: t for t in scenario.topics}
    topic = ask.topic
    if topic is None and ask.invitation:
        topic = ask.continue_topic
    open_topic = topic is not None and topics[topic].depth <= ask.depth

    # a disclosure is said when its topic is asked about, or the space is opened
    pending = pending_reveals(scenario, ask.depth, used)
    if open_topic:
        fitting = [(d, line) for d, line in pending if topic in index.reveal_topics.get(line, ())]
    elif ask.topic is None and ask.invitation:
        fitting = pending
    else:
        fitting = []
    if fitting:
        deepest = fitting[0][0]
        candidates = [line for d, line in fitting if d == deepest]
        sims = index.line_sims(candidates, ask.vec)
        best = max(candidates, key=lambda line: sims[line])
        return best, "reveal", [line for _, line in fitting]

    if topic is not None:
        t = topics[topic]
        if not open_topic:
            line = _first_unused(t.guarded, used)
            if line is not None or t.guarded:
                return line or t.guarded[0], "guarded", list(t.guarded)
        else:
            pool = _ranked(t.replies, ask.band, index, ask.vec)
            line = _first_unused(pool, used)
            if line is not None:
                return line, "topic", pool
    pool = banded(scenario.general, ask.band)
    return _first_unused(pool, used), "general", pool


_QUOTED = re.compile(r"[\"“”«»']([^\"“”«»']{3,60})[\"“”«»']|‘([^’]{3,60})’")


def echoes_unsaid_word(line: str, scenario: Scenario, turn_words: tuple[str, ...]) -> bool:
    """True when a reaction line repeats a word (a scenario trigger phrase, or a quoted word)
    that the practitioner did not say in this turn: "Umotiveret. Ja." needs "umotiveret"."""
    lang = scenario.language
    line_words = tokens(line)
    turn = list(turn_words)
    phrases = [k for cue in scenario.triggers for k in cue.keywords]
    for m in _QUOTED.finditer(line):
        phrases.append((m.group(1) or m.group(2) or "").strip())
    for phrase in phrases:
        if (
            phrase
            and tokens(phrase)
            and cue_in(line_words, phrase, lang)
            and not cue_in(turn, phrase, lang)
        ):
            return True
    return False


def choose_reaction(scenario: Scenario, ask: Ask, main_kind: str, used: set[str]) -> str | None:
    """A short reaction to the strongest move, only where it agrees with the answer."""
    move = ask.reaction_move
    if move is None or move not in scenario.reactions:
        return None
    if move == "uses_own_words" and not ask.own_words_said:
        return None  # "you remembered" needs something of theirs to remember
    trigger = move in TRIGGER_KINDS
    if trigger and main_kind in ("plan_accept", "reveal"):
        return None  # an agreement or a disclosure stands on its own
    if not trigger and main_kind in ("plan_accept", "plan_refuse", "reveal", "guarded"):
        return None  # no "that's it exactly" in front of a refusal
    if move in ANSWERING_REACTIONS and main_kind in ("topic", "guarded"):
        return None  # the answer itself is the response to the question
    for line in banded(scenario.reactions[move], ask.band):
        if line in used or echoes_unsaid_word(line, scenario, ask.words):
            continue
        return line
    return None


def compose(
    scenario: Scenario,
    index: ScenarioIndex,
    ask: Ask,
    *,
    used_lines: set[str],
    used_replies: set[str],
) -> Composition:
    """The offline reply: one main line that answers the turn, with a reaction in front
    only when the two agree; never a reply said before."""
    main, kind, pool = choose_main(scenario, index, ask, used_lines)
    reaction = choose_reaction(scenario, ask, kind, used_lines)
    if reaction is not None:
        is_question = reaction.rstrip().endswith("?")
        trigger = ask.reaction_move in TRIGGER_KINDS
        if kind == "general" or main is None or (is_question and trigger):
            parts = [reaction]  # a reaction that asks back, or nothing specific to add
        elif is_question:
            parts = [main]
            reaction = None
        else:
            parts = [reaction, main]
    else:
        parts = [main] if main else []
    if parts and " ".join(parts) not in used_replies:
        return Composition(parts, kind if main in parts else "general", reaction)
    # everything said already: combine two lines of the same kind into a new reply
    pool = list(dict.fromkeys(pool + banded(scenario.general, ask.band)))
    for first in pool:
        for second in pool:
            if first != second and f"{first} {second}" not in used_replies:
                return Composition([first, second], "repeat")
    return Composition([pool[0] if pool else scenario.opening_line], "repeat")


# -- renderer ----------------------------------------------------------------------------
class OfflineRenderer:
    """Voices a Decision with the authored offline reply, streamed in a few chunks."""

    name = "offline"

    def stream(
        self, scenario: Scenario, decision: Decision, history: list[tuple[str, str]]
    ) -> Iterator[str]:
        parts = list(decision.offline_parts) or [decision.offline_reply]
        for i, part in enumerate(parts):
            yield part if i == 0 else f" {part}"
