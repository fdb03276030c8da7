"""What a practitioner turn does, as the citizen engine needs it.

The meaning of a turn comes from one place, the reading (:mod:`reading`): its moves, their
scope (negated, quoted, about someone else) and the behaviour code. This module only maps
that reading onto the engine's kinds of move (``citizen.schema.Trigger`` / ``Opener``), and
passes the scenario's own phrases to the reading as *features* (``scenario_lexicon``):
a scenario phrase never decides a move by itself.

It also holds the word matching that topics and plans use (``count_cues``,
``keyword_hits``), on the reading's one tokenizer and Snowball stemmer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from citizen.schema import Opener, Scenario, Trigger
from reading import Reading, get_reader
from reading.text import stem, tokens

__all__ = [
    "META",
    "OPENER_KINDS",
    "TRIGGER_KINDS",
    "Moves",
    "any_cue",
    "classify",
    "count_cues",
    "cue_in",
    "keyword_hits",
    "scenario_lexicon",
    "tokens",
]

TRIGGER_KINDS: tuple[str, ...] = tuple(t.value for t in Trigger)
OPENER_KINDS: tuple[str, ...] = tuple(o.value for o in Opener)
MAX_STRENGTH = 3.0

# the reading's moves -> the engine's kinds (a move without an engine kind only informs
# plans: proposes_plan / offers_options make a turn a proposal)
MOVE_TO_KIND: dict[str, str] = {
    "asks_what_matters": "asks_what_matters",
    "invites_solution": "asks_what_matters",
    "offers_options": "asks_what_matters",
    "asks_strengths": "asks_strengths",
    "asks_network": "asks_strengths",
    "asks_permission": "asks_permission",
    "reflects_feeling": "reflection",
    "uses_own_words": "uses_own_words",
    "affirms": "validation",
    "transparency": "transparency",
    "repair": "transparency",
    "directive": "directive",
    "sanction": "sanction",
    "suspicion": "suspicion",
    "jargon": "jargon",
    "labelling": "labelling",
    "rushing": "rushing",
}
# the engine's kinds -> the reading's moves, for the scenario's phrases
KIND_TO_MOVE: dict[str, str] = {
    "jargon": "jargon",
    "case_talk": "jargon",
    "directive": "directive",
    "sanction": "sanction",
    "suspicion": "suspicion",
    "rushing": "rushing",
    "labelling": "labelling",
    "asks_what_matters": "asks_what_matters",
    "asks_strengths": "asks_strengths",
    "asks_permission": "asks_permission",
    "uses_own_words": "uses_own_words",
    "transparency": "transparency",
    "validation": "affirms",
    "reflection": "reflects_feeling",
}
# a trigger the reading is unsure of (p below UNSURE_TRIGGER) does not count when the same
# turn clearly (p >= CLEAR_OPENER) makes a relational move: "I want to be honest: I have read
# your file…" is transparency, not suspicion
UNSURE_TRIGGER = 0.5
CLEAR_OPENER = 0.8
RELATIONAL = frozenset(m for m, k in MOVE_TO_KIND.items() if k in OPENER_KINDS)
# a label the practitioner quotes (scope quoted at least this) to reject it is not their label
QUOTED_LABEL = 0.5
# a turn that puts a plan to the citizen: offered, set out as options, or dictated
PROPOSAL_MOVES = ("proposes_plan", "offers_options", "directive")
PROPOSAL_CODES = frozenset({"advice", "negotiation", "options"})
REFLECTION_CODES = frozenset({"simple_reflection", "complex_reflection"})

META: tuple[str, ...] = (
    "system prompt",
    "systemprompt*",
    "instructions",
    "instruktioner",
    "role play",
    "roleplay",
    "rollespil*",
    "scenario*",
    "scenarie*",
    "language model",
    "sprogmodel*",
    "chatgpt",
    "ai",
    "hidden facts",
    "skjulte fakta",
    "disclosure",
    "the author",
    "forfatteren",
    "rubric",
    "rubrik*",
    "what score would",
    "give me a score",
    "score me",
    "my score",
    "rate my",
    "evaluate my",
    "vurder min",
    "giv mig en karakter",
    "give me feedback",
    "giv mig feedback",
    "you are now",
    "du er nu",
    "pretend you are",
    "lad som om du er",
    "stop being",
    "stop med at være",
    "depth 3",
    "dybde 3",
)


@dataclass
class Moves:
    """The moves found in one practitioner turn: kind -> strength (1..2)."""

    label: str = "other"
    confidence: float = 0.0
    triggers: dict[str, float] = field(default_factory=dict)
    openers: dict[str, float] = field(default_factory=dict)
    proposal: bool = False
    meta: bool = False  # talks to the machine, not to the person: opens nothing
    dictated: bool = False  # the plan is decided for the citizen, not offered
    uptake: float = 0.0

    @property
    def kinds(self) -> list[str]:
        return sorted(self.triggers) + sorted(self.openers)

    def strongest_trigger(self) -> str | None:
        return _strongest(self.triggers, TRIGGER_KINDS)

    def strongest_opener(self) -> str | None:
        return _strongest(self.openers, OPENER_KINDS)


def _strongest(d: dict[str, float], order: tuple[str, ...]) -> str | None:
    if not d:
        return None
    return max(d, key=lambda k: (d[k], -order.index(k)))


def _bump(d: dict[str, float], kind: str, strength: float) -> None:
    d[kind] = round(min(MAX_STRENGTH, max(d.get(kind, 0.0), strength)), 3)


# ---------------------------------------------------------------- word matching


@lru_cache(maxsize=8192)
def _cue_stems(cue: str, language: str) -> tuple[tuple[str, bool], ...]:
    """A cue as (stem or prefix, is_prefix) per word; ``word*`` is an explicit prefix."""
    out = []
    for w in cue.lower().split():
        if w.endswith("*"):
            out.append((w[:-1], True))
        else:
            out.extend((stem(t, language), False) for t in tokens(w))
    return tuple(out)


def _word_matches(word: str, word_stem: str, p: str, prefix: bool) -> bool:
    if prefix:
        return word.startswith(p)
    # Snowball stems a base form and its inflections differently at times ("morgen" ->
    # "morg", "morgenen" -> "morgen"): a longer stem may extend the cue's by two letters
    return word_stem == p or (
        len(p) >= 4 and word_stem.startswith(p) and len(word_stem) - len(p) <= 2
    )


def _starts(words: list[str], stems_: list[str], cue: str, language: str) -> set[int]:
    pattern = _cue_stems(cue, language)
    n = len(pattern)
    if not n:
        return set()
    return {
        i
        for i in range(len(words) - n + 1)
        if all(
            _word_matches(words[i + k], stems_[i + k], p, pre) for k, (p, pre) in enumerate(pattern)
        )
    }


def _occurs(words: list[str], stems_: list[str], cue: str, language: str) -> bool:
    return bool(_starts(words, stems_, cue, language))


def _stems(words: list[str], language: str) -> list[str]:
    return [stem(w, language) for w in words]


def cue_in(words: list[str], cue: str, language: str = "da") -> bool:
    """True when the (possibly multi-word) cue occurs in the tokenised text: whole words with
    the same Snowball stem, in order; ``stem*`` for an explicit prefix."""
    return _occurs(words, _stems(words, language), cue, language)


def any_cue(words: list[str], cues, language: str = "da") -> bool:
    st = _stems(words, language)
    return any(_occurs(words, st, c, language) for c in cues)


def count_cues(words: list[str], cues, language: str = "da") -> int:
    """At how many places of the tokenised text a cue occurs (two inflections of one word
    at one place count once)."""
    st = _stems(words, language)
    found: set[int] = set()
    for c in cues:
        found |= _starts(words, st, c, language)
    return len(found)


keyword_hits = count_cues


# ---------------------------------------------------------------- the reading -> moves


@lru_cache(maxsize=256)
def _scenario_lexicon(scenario_id: str, items: tuple[tuple[str, tuple[str, ...]], ...]):
    out: dict[str, list[str]] = {}
    for kind, words in items:
        move = KIND_TO_MOVE.get(kind)
        if move:
            out.setdefault(move, []).extend(words)
    return {k: tuple(v) for k, v in out.items()}


def scenario_lexicon(scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """The scenario's own phrases per reading move: extra *features* for the reading."""
    items = tuple(
        (c.kind.value, tuple(c.keywords)) for c in (*scenario.triggers, *scenario.openers)
    )
    return _scenario_lexicon(scenario.id, items)


def _cue_weights(scenario: Scenario, reading: Reading) -> dict[str, float]:
    """Per engine kind, the weight of the scenario's cue whose phrase the turn holds in plain
    scope (the author's "this costs more here"). It only weighs a move the reading found."""
    plain = {h.phrase.lower() for h in reading.lexicon_hits if h.plain}
    out: dict[str, float] = {}
    for cue in (*scenario.triggers, *scenario.openers):
        if any(k.lower() in plain for k in cue.keywords):
            out[cue.kind.value] = max(out.get(cue.kind.value, 0.0), cue.weight)
    return out


def classify(text: str, scenario: Scenario, reading: Reading) -> Moves:
    """The engine's moves for one practitioner turn, from its reading. A move the reading
    finds counts with strength 1, or with the scenario cue's weight when the turn holds one
    of that cue's phrases."""
    moves = Moves(label=reading.behaviour, confidence=reading.confidence, uptake=reading.uptake)
    case_phrases = [w for c in scenario.triggers if c.kind.value == "case_talk" for w in c.keywords]
    weights = _cue_weights(scenario, reading)
    clear_opener = max(
        (m.p for mv, m in reading.moves.items() if m.present and mv in RELATIONAL), default=0.0
    )
    for move, m in reading.moves.items():
        if not m.present or move not in MOVE_TO_KIND:
            continue
        kind = MOVE_TO_KIND[move]
        if kind in TRIGGER_KINDS and m.p < UNSURE_TRIGGER and clear_opener >= CLEAR_OPENER:
            continue  # a faint hint of control in a clearly relational turn is not a trigger
        if (
            kind == "jargon"
            and case_phrases
            and any_cue(tokens(text), case_phrases, scenario.language)
        ):
            kind = "case_talk"
        target = moves.triggers if kind in TRIGGER_KINDS else moves.openers
        _bump(target, kind, weights.get(kind, 1.0))
    if reading.behaviour == "open_question" and not moves.triggers:
        _bump(moves.openers, "open_question", 1.0)
    if reading.behaviour in REFLECTION_CODES:
        _bump(moves.openers, "reflection", 1.0)
    # a label quoted in order to reject it ("der står 'umotiveret', og det er jeg ikke enig
    # i") is not the practitioner's label: it is openness about what the file says
    if (
        "labelling" in moves.triggers
        and reading.scope.get("quoted", 0.0) >= QUOTED_LABEL
        and any(reading.has(m) for m in ("transparency", "affirms", "repair"))
    ):
        del moves.triggers["labelling"]
        _bump(moves.openers, "transparency", 1.0)
    moves.proposal = (
        any(reading.has(m) for m in PROPOSAL_MOVES) or reading.behaviour in PROPOSAL_CODES
    )
    # "Hvis du selv skulle lave planen…" invites their own plan; it proposes none
    if (
        reading.has("invites_solution")
        and not reading.has("proposes_plan")
        and not reading.has("directive")
    ):
        moves.proposal = False
    moves.dictated = reading.has("directive")
    if any_cue(tokens(text), META, scenario.language):
        moves.meta = True
        moves.openers.clear()
        moves.proposal = False
    return moves


def read_moves(text: str, scenario: Scenario, previous_citizen: str | None = None) -> Moves:
    """Read one turn with the shared reader and map it to the engine's moves."""
    reader = get_reader()
    reading = reader.read(
        text, previous_citizen, scenario.language, extra=scenario_lexicon(scenario)
    )
    return classify(text, scenario, reading)
