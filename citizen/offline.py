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
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from citizen.moves import TRIGGER_KINDS, count_cues
from citizen.schema import Banded, Scenario

if TYPE_CHECKING:
    from citizen.engine import Decision

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


_INDEX: dict[tuple[str, str], ScenarioIndex] = {}
_INDEX_LOCK = threading.Lock()


def content_hash(scenario: Scenario) -> str:
    parts = [t.model_dump_json(include={"id", "examples"}) for t in scenario.topics]
    parts += [p.model_dump_json(include={"id", "description"}) for p in scenario.acceptable_plans]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


def scenario_index(scenario: Scenario, embedder: Any) -> ScenarioIndex:
    """Embeddings of topic examples and plan descriptions; cached per process by
    scenario id + content hash."""
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
        index = ScenarioIndex(
            topic_ids=tuple(t.id for t in scenario.topics),
            example_topic=np.asarray(rows, dtype=np.int64),
            examples=examples,
            plans=plans,
        )
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
        boost = min(MAX_KEYWORD_BOOST, KEYWORD_BOOST * count_cues(words, topic.keywords))
        out[topic.id] = round(float(best[i]) + boost, 4)
    return out


def choose_topic(scores: dict[str, float]) -> tuple[str | None, float]:
    if not scores:
        return None, 0.0
    tid = max(scores, key=lambda k: (scores[k], k))
    if scores[tid] < TOPIC_THRESHOLD:
        return None, scores[tid]
    return tid, scores[tid]


def plan_similarities(index: ScenarioIndex, vec: np.ndarray) -> list[float]:
    return [round(float(x), 4) for x in index.plans @ vec]


# -- line choice -----------------------------------------------------------------------
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


def main_candidates(
    scenario: Scenario,
    *,
    band: str,
    depth: int,
    new_depth: int | None,
    topic: str | None,
    plan_reason: str,
    plan_id: str | None,
) -> tuple[list[str], list[str]]:
    """(primary lines, fallback lines) for the main part of the reply, in order."""
    topics = {t.id: t for t in scenario.topics}
    primary: list[str] = []
    if plan_reason == "accepted" and plan_id is not None:
        plan = next(p for p in scenario.acceptable_plans if p.id == plan_id)
        primary += plan.accept
    elif plan_reason == "too_early":
        primary += banded(scenario.plan_responses.too_early, band)
    elif plan_reason == "not_mine":
        primary += banded(scenario.plan_responses.not_mine, band)
    if new_depth is not None:
        primary += scenario.disclosure[new_depth].reveal_lines
    if topic is not None:
        t = topics[topic]
        if t.depth <= depth:
            primary += banded(t.replies, band)
        else:
            primary += t.guarded
    fallback = banded(scenario.general, band)
    for t in scenario.topics:
        if t.id != topic and t.depth <= depth:
            fallback += banded(t.replies, band)
    for t in scenario.topics:
        fallback += t.guarded
    return primary, fallback


def reaction_line(scenario: Scenario, move: str | None, band: str, used: set[str]) -> str | None:
    if move is None or move not in scenario.reactions:
        return None
    return _first_unused(banded(scenario.reactions[move], band), used)


def compose(
    scenario: Scenario,
    *,
    band: str,
    depth: int,
    new_depth: int | None,
    topic: str | None,
    plan_reason: str,
    plan_id: str | None,
    reaction_move: str | None,
    used_lines: set[str],
    used_replies: set[str],
) -> list[str]:
    """The parts of the offline reply (one or two authored lines)."""
    primary, fallback = main_candidates(
        scenario,
        band=band,
        depth=depth,
        new_depth=new_depth,
        topic=topic,
        plan_reason=plan_reason,
        plan_id=plan_id,
    )
    if reaction_move not in TRIGGER_KINDS and (plan_reason != "none" or new_depth is not None):
        reaction_move = None  # let an agreement or a disclosure stand on its own
    reaction = reaction_line(scenario, reaction_move, band, used_lines)
    main = _first_unused(primary, used_lines)
    if main is None and plan_reason == "accepted" and primary:
        main = primary[0]  # agreeing again is fine; the reaction (or combination) keeps it new
    if main is None:
        main = _first_unused(fallback, used_lines)
    parts = [p for p in (reaction, main) if p]
    if parts and " ".join(parts) not in used_replies and main is not None:
        return parts
    # everything said already: combine two authored lines into a reply not said before
    pool = list(dict.fromkeys(primary + fallback))
    for first in pool:
        for second in pool:
            if first != second and f"{first} {second}" not in used_replies:
                return [first, second]
    return [pool[0] if pool else scenario.opening_line]


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
