"""The simulated citizen's state engine: step-based, deterministic and serialisable.

    citizen = start(scenario)                  # citizen.opening: the first words
    result = citizen.respond("Hvad betyder mest for dig?")   # offline: decide + render
    result.reply, result.trust, result.depth

    # with another renderer (e.g. an LLM): decide, voice the Decision, record what was said
    decision = citizen.decide(text)
    reply = "".join(renderer.stream(scenario, decision, citizen.history))
    citizen.record_reply(reply)

    saved = citizen.state.model_dump_json()
    again = Citizen.restore(scenario, saved)

Dynamics (see ``Dynamics`` in the schema): relational moves raise trust, less the more
trust there already is (``SATURATION``); triggers lower it (scaled by the cue weight and
``dynamics.loss``, and less once the citizen has closed: ``LOSS_KNEE``), but never below
``RESIGNED`` x the starting trust: met badly, the citizen turns guarded, short and
resigned rather than vanishing. After a trigger, gains are damped for ``scar_turns``
turns, so trust lost to a trigger is not won back by one good turn.
Depth (0..3) never decreases; at most one level is reached per turn, and only
``DWELL_TURNS`` turns after the last one, when trust and the level's ``unlock`` conditions
allow. Talk to the machine (prompt injection, "rate me") opens nothing. A plan is accepted
only when it matches an acceptable plan and trust and depth are high enough.

Reading: what a turn means comes from ``reading.get_reader()`` (the one learned reading
shared with the coach), given the citizen's previous reply and the scenario's own phrases
as features. The practitioner's turn is embedded once per turn: the reading and the engine
(topics, plans) ask ``base.embeddings.get_embedder()`` for the same 'query:' text, so the
second request is a cache hit.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from base.embeddings import get_embedder
from citizen import offline
from citizen.moves import (
    OPENER_KINDS,
    TRIGGER_KINDS,
    Moves,
    classify,
    keyword_hits,
    scenario_lexicon,
    tokens,
)
from citizen.schema import Scenario
from reading import Reader, Reading, get_reader
from reading.features import STOP_WORDS, turn_sentences
from reading.text import stem

log = logging.getLogger(__name__)

STATE_VERSION = 1
Band = Literal["low", "mid", "high"]

# -- default constants (scaled per scenario by dynamics.gain / dynamics.loss) -----------
GAINS: dict[str, float] = {
    "open_question": 0.05,
    "reflection": 0.07,
    "asks_what_matters": 0.08,
    "asks_strengths": 0.07,
    "asks_permission": 0.05,
    "uses_own_words": 0.05,
    "transparency": 0.05,
    "validation": 0.06,
}
LOSSES: dict[str, float] = {
    "jargon": 0.07,
    "directive": 0.09,
    "sanction": 0.16,
    "suspicion": 0.13,
    "rushing": 0.07,
    "case_talk": 0.07,
    "labelling": 0.13,
}
MAX_GAIN = 0.11  # per turn, before dynamics.gain
SATURATION = 0.7  # gains shrink as trust grows: gain * (1 - SATURATION * trust)
MAX_LOSS = 0.35  # per turn, before dynamics.loss
MIXED_DAMP = 0.25  # gains in a turn that also has a trigger
SCAR_DAMP = 0.2  # gains while scarred (the turns after a trigger)
# a citizen who has already closed has less left to lose: below LOSS_KNEE losses shrink
# towards LOSS_FLOOR of their size (guarded and resigned rather than driven to zero)
LOSS_KNEE = 0.3
LOSS_FLOOR = 0.3
# people open up gradually: a new disclosure level needs this many turns since the last
# one (or since the start), whatever the trust
DWELL_TURNS = 2
# met badly, the citizen becomes guarded and resigned but does not vanish: triggers do not
# take trust below this fraction of the starting trust
RESIGNED = 0.25

# openers that open the space: the citizen may say what they have been holding back
INVITING = frozenset(
    {"open_question", "reflection", "asks_what_matters", "validation", "asks_permission"}
)
# an apology while the citizen is still hurt (scarred) starts a slow repair: its gain is damped
# less than other gains, and the scar heals faster
REPAIR_DAMP = 0.5
REPAIR_HEAL = 2

# plan matching: keywords + similarity of the turn to the plan description. e5 cosine
# similarities sit higher for Danish than for English text, hence per-language values:
# (with a keyword, without a keyword, a close paraphrase even without a proposal cue)
PLAN_SIM: dict[str, tuple[float, float, float]] = {
    "da": (0.89, 0.93, 0.95),
    "en": (0.87, 0.91, 0.94),
}


class PlanOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proposed: str | None = Field(None, description="id of the acceptable plan proposed, if any")
    accepted: bool = False
    reason: Literal["none", "accepted", "too_early", "not_mine"] = "none"


class TurnEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int
    text: str
    reply: str | None = None
    label: str = "other"
    moves: list[str] = Field(default_factory=list)
    triggers: dict[str, float] = Field(default_factory=dict)
    openers: dict[str, float] = Field(default_factory=dict)
    topic: str | None = None
    trust_before: float
    trust_after: float
    delta: float
    depth: int
    new_depth: int | None = None
    plan: PlanOutcome = Field(default_factory=PlanOutcome)


class Memory(BaseModel):
    """What has been said in the conversation, so that replies and the debrief never
    contradict it and the citizen does not retell what they already told."""

    model_config = ConfigDict(extra="forbid")

    disclosed: dict[str, int] = Field(
        default_factory=dict,
        description="what the practitioner was open about (transparency, repair) -> first turn",
    )
    practitioner_name: str | None = None
    told: list[str] = Field(default_factory=list, description="disclosures the citizen has made")
    topics: list[str] = Field(default_factory=list, description="topics talked about, in order")
    plans: dict[str, str] = Field(default_factory=dict, description="plan id -> last outcome")


class CitizenState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state_version: int = STATE_VERSION
    scenario_id: str
    session_id: str = ""
    trust: float = Field(ge=0.0, le=1.0)
    start_trust: float = Field(ge=0.0, le=1.0)
    depth: int = Field(0, ge=0, le=3)
    turn: int = 0
    scar: int = 0
    used_lines: list[str] = Field(default_factory=list)
    used_replies: list[str] = Field(default_factory=list)
    trajectory: list[float] = Field(default_factory=list)
    events: list[TurnEvent] = Field(default_factory=list)
    accepted_plan: str | None = None
    memory: Memory = Field(default_factory=Memory)
    coder_fallback: bool = Field(
        False, description="legacy (states saved before the reading model); always False now"
    )


class Decision(BaseModel):
    """What the citizen should say this turn; voiced by a renderer."""

    model_config = ConfigDict(extra="forbid")

    turn: int
    text: str = Field("", description="the practitioner's turn this decision answers")
    language: str
    band: Band
    trust: float
    trust_before: float
    delta: float
    depth: int
    new_depth: int | None = None
    allowed_facts: list[str] = Field(description="disclosure facts up to the current depth")
    reveal: list[str] = Field(default_factory=list, description="reveal lines of a new depth")
    label: str = "other"
    moves: list[str] = Field(default_factory=list)
    triggers: dict[str, float] = Field(default_factory=dict)
    openers: dict[str, float] = Field(default_factory=dict)
    reaction_move: str | None = None
    topic: str | None = None
    topic_score: float = 0.0
    guarded: bool = Field(False, description="the topic is deeper than the citizen has opened")
    plan: PlanOutcome = Field(default_factory=PlanOutcome)
    offline_parts: list[str] = Field(default_factory=list)
    offline_reply: str
    main_kind: str = Field(
        "general",
        description="what the main line is: plan_accept, plan_refuse, reveal, topic, guarded, general, repeat",
    )
    invitation: bool = Field(False, description="an open invitation or a minimal encourager")
    memory: Memory = Field(
        default_factory=Memory, description="the conversation so far, after this turn"
    )
    reading: dict[str, float] = Field(
        default_factory=dict, description="the reading's present moves and their probabilities"
    )
    uptake: float = Field(0.0, description="how much the turn took up the citizen's last reply")


class TurnResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str
    trust: float
    depth: int
    decision: Decision


class Renderer(Protocol):
    def stream(
        self, scenario: Scenario, decision: Decision, history: list[tuple[str, str]]
    ) -> Iterator[str]: ...


def band_for(trust: float, scenario: Scenario) -> Band:
    d = scenario.dynamics
    if trust >= d.high_band:
        return "high"
    if trust >= d.mid_band:
        return "mid"
    return "low"


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def trust_delta(
    moves: Moves,
    scenario: Scenario,
    scar: int,
    trust: float,
    *,
    repairing: bool = False,
    imposed: bool = False,
) -> float:
    """The change in trust from one turn. ``imposed``: the turn puts a plan to the citizen
    that is not theirs (or decides it for them), so it earns no gain at all."""
    d = scenario.dynamics
    gain = min(MAX_GAIN, sum(GAINS[k] * s for k, s in moves.openers.items())) * d.gain
    loss = min(MAX_LOSS, sum(LOSSES[k] * s for k, s in moves.triggers.items())) * d.loss
    loss *= LOSS_FLOOR + (1.0 - LOSS_FLOOR) * min(1.0, trust / LOSS_KNEE)
    if moves.triggers:
        gain *= MIXED_DAMP
    if scar > 0:
        gain *= REPAIR_DAMP if repairing else SCAR_DAMP
    if imposed:
        gain = 0.0
    return gain * (1.0 - SATURATION * trust) - loss


_NAME_PATTERNS = (
    re.compile(
        r"\b(?:jeg hedder|mit navn er|my name is|i am called|call me)\s+([A-ZÆØÅ][\wæøå-]+)", re.I
    ),
    re.compile(r"\b(?:jeg er|i'm|i am)\s+([A-ZÆØÅ][a-zæøå]+)\b(?:,|\.|\s+(?:fra|from|og|and))"),
)


def practitioner_name(text: str) -> str | None:
    """The name a practitioner gives for themself ("Jeg hedder Birgitte"), if any."""
    for pat in _NAME_PATTERNS:
        m = pat.search(text)
        if m:
            return m.group(1)
    return None


def strongest_move(moves: Moves, scenario: Scenario | None = None) -> str | None:
    """The move the citizen reacts to: the most costly trigger, else the most valued opener
    (preferring moves the scenario has reaction lines for)."""
    for table, weights in ((moves.triggers, LOSSES), (moves.openers, GAINS)):
        if not table:
            continue
        kinds = list(table)
        if scenario is not None:
            kinds = [k for k in kinds if k in scenario.reactions] or kinds
        return max(kinds, key=lambda k: (table[k] * weights[k], k))
    return None


class Citizen:
    """One conversation with one simulated citizen."""

    def __init__(
        self,
        scenario: Scenario,
        state: CitizenState,
        *,
        reader: Reader | None = None,
        embedder: Any | None = None,
    ) -> None:
        if state.scenario_id != scenario.id:
            raise ValueError(
                f"state belongs to scenario {state.scenario_id!r}, not {scenario.id!r}"
            )
        self.scenario = scenario
        self.state = state
        self._reader = reader
        self._embedder = embedder
        self._lock = threading.RLock()
        self._pending_parts: list[str] | None = None

    # -- construction ------------------------------------------------------------------
    @classmethod
    def restore(
        cls,
        scenario: Scenario,
        state_json: str | bytes | dict[str, Any],
        *,
        reader: Reader | None = None,
        embedder: Any | None = None,
    ) -> Citizen:
        if isinstance(state_json, dict):
            state = CitizenState.model_validate(state_json)
        else:
            state = CitizenState.model_validate_json(state_json)
        return cls(scenario, state, reader=reader, embedder=embedder)

    # -- views ------------------------------------------------------------------------
    @property
    def opening(self) -> str:
        return self.scenario.opening_line

    @property
    def band(self) -> Band:
        return band_for(self.state.trust, self.scenario)

    @property
    def history(self) -> list[tuple[str, str]]:
        """(speaker, text) pairs, speaker 'citizen' or 'practitioner', from the opening on."""
        out: list[tuple[str, str]] = [("citizen", self.opening)]
        for ev in self.state.events:
            out.append(("practitioner", ev.text))
            if ev.reply is not None:
                out.append(("citizen", ev.reply))
        return out

    def allowed_facts(self, depth: int | None = None) -> list[str]:
        depth = self.state.depth if depth is None else depth
        return [
            f for level in self.scenario.disclosure if level.depth <= depth for f in level.facts
        ]

    def last_reply(self) -> str:
        for ev in reversed(self.state.events):
            if ev.reply is not None:
                return ev.reply
        return self.opening

    # -- collaborators ---------------------------------------------------------------
    @property
    def reader(self) -> Reader:
        if self._reader is None:
            self._reader = get_reader()
        return self._reader

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    # -- the step ------------------------------------------------------------------------
    def decide(self, text: str) -> Decision:
        """Update the state from one practitioner turn; return what the citizen should say."""
        with self._lock:
            return self._decide(text.strip())

    def _decide(self, text: str) -> Decision:
        sc, st = self.scenario, self.state
        previous = self.last_reply()
        reader = self.reader
        reading = reader.read(text, previous, sc.language, extra=scenario_lexicon(sc))
        moves = classify(text, sc, reading)
        words = tokens(text)
        own_words_said = self._own_words(moves, reading, words)

        index = offline.scenario_index(sc, self.embedder)
        vec = np.asarray(self.embedder.query(text), dtype=np.float32)
        scores = offline.topic_scores(sc, index, vec, words)
        topic, topic_score = offline.choose_topic(scores)
        calm = not moves.triggers and not moves.proposal and not moves.meta
        encourager = calm and offline.is_follow_up(
            sc, scores, offline.follow_up_similarity(self.embedder, vec), words
        )
        if encourager:
            topic = None  # more of the same: the reply continues the last topic
            moves.openers.setdefault("open_question", 1.0)
        invitation = (
            not moves.meta
            and not moves.triggers
            and (encourager or bool(INVITING & set(moves.openers)))
        )

        # trust
        before = st.trust
        floor = round(RESIGNED * st.start_trust, 4)
        repairing = st.scar > 0 and reading.has("repair") and not moves.triggers
        delta = trust_delta(moves, sc, st.scar, before, repairing=repairing)
        after = round(_clamp(max(min(before, floor), before + delta)), 4)
        if moves.triggers:
            scar = sc.dynamics.scar_turns
        else:
            scar = max(0, st.scar - (REPAIR_HEAL if repairing else 1))

        # depth: at most one level per turn, never down
        new_depth = self._unlocked(moves, topic, after)
        depth = new_depth if new_depth is not None else st.depth

        # plan
        plan = self._plan(text, words, moves, index, vec, after, depth)
        if plan.reason == "not_mine" and moves.proposal:
            # a plan put to them that is not theirs, or decided for them: warm words around
            # it earn nothing, and nothing opens on that turn
            delta = trust_delta(moves, sc, st.scar, before, repairing=repairing, imposed=True)
            after = round(_clamp(max(min(before, floor), before + delta)), 4)
            new_depth, depth = None, st.depth

        band = band_for(after, sc)
        reaction_move = strongest_move(moves, sc)
        ask = offline.Ask(
            band=band,
            depth=depth,
            topic=topic,
            new_depth=new_depth,
            plan_reason=plan.reason,
            plan_id=plan.proposed,
            reaction_move=reaction_move,
            invitation=invitation,
            continue_topic=st.memory.topics[-1] if st.memory.topics else None,
            own_words_said=own_words_said,
            vec=vec,
            words=tuple(words),
        )
        composed = offline.compose(
            sc, index, ask, used_lines=set(st.used_lines), used_replies=set(st.used_replies)
        )
        parts = composed.parts
        turn = st.turn + 1
        memory = self._remember(st.memory, text, reading, moves, topic, plan, composed, turn)
        decision = Decision(
            turn=turn,
            text=text,
            language=sc.language,
            band=band,
            trust=after,
            trust_before=before,
            delta=round(after - before, 4),
            depth=depth,
            new_depth=new_depth,
            allowed_facts=self.allowed_facts(depth),
            reveal=list(sc.disclosure[new_depth].reveal_lines) if new_depth is not None else [],
            label=moves.label,
            moves=moves.kinds,
            triggers=dict(moves.triggers),
            openers=dict(moves.openers),
            reaction_move=reaction_move,
            topic=topic,
            topic_score=topic_score,
            guarded=topic is not None and {t.id: t for t in sc.topics}[topic].depth > depth,
            plan=plan,
            offline_parts=parts,
            offline_reply=" ".join(parts),
            main_kind=composed.main_kind,
            invitation=invitation,
            memory=memory,
            reading={m: v.p for m, v in reading.moves.items() if v.present},
            uptake=reading.uptake,
        )
        st.trust = after
        st.depth = depth
        st.turn = turn
        st.scar = scar
        st.trajectory.append(after)
        st.memory = memory
        if plan.accepted:
            st.accepted_plan = plan.proposed
        st.events.append(
            TurnEvent(
                turn=turn,
                text=text,
                label=moves.label,
                moves=moves.kinds,
                triggers=dict(moves.triggers),
                openers=dict(moves.openers),
                topic=topic,
                trust_before=before,
                trust_after=after,
                delta=decision.delta,
                depth=depth,
                new_depth=new_depth,
                plan=plan,
            )
        )
        self._pending_parts = parts
        return decision

    def _own_words(self, moves: Moves, reading: Reading, words: list[str]) -> bool:
        """Whether the turn repeats words the citizen said in this conversation. Taking up the
        citizen's own words needs those words, or at least the scenario's own-words phrases
        (their vocabulary) in plain scope; otherwise the move is dropped."""
        said = self._shares_citizen_words(words)
        own_phrases = {
            k.lower()
            for c in self.scenario.openers
            if c.kind.value == "uses_own_words"
            for k in c.keywords
        }
        plain = {h.phrase.lower() for h in reading.lexicon_hits if h.plain}
        if "uses_own_words" in moves.openers and not said and not own_phrases & plain:
            del moves.openers["uses_own_words"]
        return said

    def _shares_citizen_words(self, words: list[str]) -> bool:
        lang = self.scenario.language
        said = " ".join([self.opening] + [ev.reply or "" for ev in self.state.events])
        theirs = {stem(w, lang) for w in tokens(said) if len(w) >= 4 and w not in STOP_WORDS}
        return any(stem(w, lang) in theirs for w in words if len(w) >= 4 and w not in STOP_WORDS)

    def _remember(
        self,
        memory: Memory,
        text: str,
        reading: Reading,
        moves: Moves,
        topic: str | None,
        plan: PlanOutcome,
        composed: offline.Composition,
        turn: int,
    ) -> Memory:
        m = memory.model_copy(deep=True)
        for move in ("transparency", "repair"):
            if reading.has(move):
                m.disclosed.setdefault(move, turn)
        name = practitioner_name(text)
        if name:
            m.practitioner_name = name
        if composed.main_kind == "reveal":
            m.told += [p for p in composed.parts if p not in m.told]
        spoken_topic = topic
        if spoken_topic is None and composed.main_kind == "topic" and memory.topics:
            spoken_topic = memory.topics[-1]  # "go on": still the same topic
        if spoken_topic is not None:
            m.topics.append(spoken_topic)
        if plan.proposed:
            m.plans[plan.proposed] = plan.reason
        return m

    def _unlocked(self, moves: Moves, topic: str | None, trust: float) -> int | None:
        nxt = self.state.depth + 1
        if nxt > 3:
            return None
        last = max((ev.turn for ev in self.state.events if ev.new_depth is not None), default=0)
        if self.state.turn + 1 - last < DWELL_TURNS:
            return None
        unlock = self.scenario.disclosure[nxt].unlock
        if trust < unlock.min_trust:
            return None
        kinds = set(moves.kinds)
        if unlock.any_of:
            if not kinds & set(unlock.any_of):
                return None
            if any(t not in unlock.any_of for t in moves.triggers):
                return None
        elif moves.triggers or not moves.openers:
            return None
        if unlock.topics and topic not in unlock.topics:
            return None
        return nxt

    def _plan(
        self,
        text: str,
        words: list[str],
        moves: Moves,
        index: offline.ScenarioIndex,
        vec: np.ndarray,
        trust: float,
        depth: int,
    ) -> PlanOutcome:
        sims = offline.plan_similarities(index, vec)
        # a plan put in one sentence of a longer turn ("What do you think about this: …?")
        # is compared sentence by sentence too (the reading embedded them: cache hits)
        parts = turn_sentences(text)
        if len(parts) > 1:
            for sv in np.asarray(self.embedder.query(parts), dtype=np.float32):
                sims = [
                    max(a, b)
                    for a, b in zip(sims, offline.plan_similarities(index, sv), strict=True)
                ]
        with_kw, alone, paraphrase = PLAN_SIM.get(self.scenario.language, PLAN_SIM["en"])
        matched: list[tuple[int, float, int]] = []
        any_kw = False
        for i, (plan, sim) in enumerate(zip(self.scenario.acceptable_plans, sims, strict=True)):
            kw = keyword_hits(words, plan.keywords)
            any_kw = any_kw or kw > 0
            ok = moves.proposal and ((kw >= 1 and sim >= with_kw) or sim >= alone)
            if ok or sim >= paraphrase:
                matched.append((kw, sim, i))
        if not matched:
            if moves.dictated or (moves.proposal and not any_kw):
                return PlanOutcome(proposed=None, accepted=False, reason="not_mine")
            # a vague mention of one of their own ideas is neither accepted nor rejected
            return PlanOutcome()
        _, _, best = max(matched, key=lambda m: (m[0], m[1], -m[2]))
        plan = self.scenario.acceptable_plans[best]
        if moves.dictated:  # even their own idea is refused when it is decided for them
            return PlanOutcome(proposed=plan.id, accepted=False, reason="not_mine")
        if trust >= plan.min_trust and depth >= plan.min_depth:
            return PlanOutcome(proposed=plan.id, accepted=True, reason="accepted")
        return PlanOutcome(proposed=plan.id, accepted=False, reason="too_early")

    def record_reply(self, text: str) -> None:
        """Record what the citizen actually said in the last decided turn."""
        with self._lock:
            st = self.state
            if not st.events:
                raise RuntimeError("record_reply() before any decide()")
            st.events[-1].reply = text
            parts = self._pending_parts
            if parts and " ".join(parts) == text:
                for p in parts:
                    if p not in st.used_lines:
                        st.used_lines.append(p)
            else:
                # voiced by another renderer: remember authored lines it used verbatim
                for line in self.scenario.all_reply_lines():
                    if line in text and line not in st.used_lines:
                        st.used_lines.append(line)
            if text not in st.used_replies:
                st.used_replies.append(text)
            self._pending_parts = None

    def respond(self, text: str) -> TurnResult:
        """Decide, render offline and record the reply."""
        with self._lock:
            decision = self.decide(text)
            reply = decision.offline_reply
            self.record_reply(reply)
            return TurnResult(
                reply=reply, trust=self.state.trust, depth=self.state.depth, decision=decision
            )


def start(
    scenario: Scenario,
    *,
    reader: Reader | None = None,
    embedder: Any | None = None,
    session_id: str = "",
) -> Citizen:
    """A new conversation with the scenario's citizen."""
    t0 = scenario.dynamics.start_trust
    state = CitizenState(
        scenario_id=scenario.id,
        session_id=session_id,
        trust=t0,
        start_trust=t0,
        used_lines=[scenario.opening_line],
        used_replies=[scenario.opening_line],
    )
    return Citizen(scenario, state, reader=reader, embedder=embedder)


__all__ = [
    "OPENER_KINDS",
    "TRIGGER_KINDS",
    "Citizen",
    "CitizenState",
    "Decision",
    "Memory",
    "PlanOutcome",
    "Renderer",
    "TurnEvent",
    "TurnResult",
    "band_for",
    "start",
]
