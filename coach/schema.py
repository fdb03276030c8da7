"""Data models of the coach: the rubric file format and the report it produces.

The rubric (``rubric/relational-<lang>.yaml``) is data: principles with indicators and
counter-indicators, each with a *machine hook* (``detect``) that says which practitioner
turns count as evidence for or against. A hook names behaviour codes and relational moves
of the reading (:mod:`reading`, the one learned reading of a practitioner turn), never words:
the coach understands practitioner turns only through that reading. ``coach.scoring`` reads
only these hooks, so changing what counts as evidence is a rubric edit, not a code change.

The report (:class:`CoachReport`) is what the scoring produces, the CLI prints, the
exports render and the UI shows. Every report records the rubric id and version.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from base.principles import PRINCIPLE_IDS
from reading.labels import BEHAVIOURS, MOVES

RUBRIC_SCHEMA_VERSION = 2
SUPPORTED_RUBRIC_VERSIONS = (RUBRIC_SCHEMA_VERSION,)
REPORT_SCHEMA_VERSION = 1


Language = Literal["da", "en"]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{1,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Label = Literal[BEHAVIOURS]  # type: ignore[valid-type]  # a behaviour code of the reading
MoveId = Literal[MOVES]  # type: ignore[valid-type]  # a relational move of the reading
Signal = Literal["opening", "ownership_problem", "ownership_plan", "trust"]
Who = Literal["citizen", "practitioner"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regexes(values: list[str]) -> list[str]:
    for v in values:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {v!r}: {exc}") from exc
    return values


def _unique(values: list[str]) -> list[str]:
    dup = sorted({v for v in values if values.count(v) > 1})
    if dup:
        raise ValueError(f"listed more than once: {', '.join(dup)}")
    return values


class Hook(Strict):
    """When a practitioner turn counts as evidence, in terms of its reading.

    A turn matches when the reading's behaviour code is in ``labels`` (weight scaled by
    the code's probability), or the reading finds one of ``moves`` present (weight scaled
    by the move's probability); and the reading finds none of ``unless_moves`` (e.g.
    advice *without* asking permission).
    """

    labels: list[Label] = Field(default_factory=list)
    moves: list[MoveId] = Field(default_factory=list)
    unless_moves: list[MoveId] = Field(default_factory=list)

    _unique_lists = field_validator("labels", "moves", "unless_moves")(_unique)

    @model_validator(mode="after")
    def _not_empty(self) -> Hook:
        if not (self.labels or self.moves):
            raise ValueError("a hook needs at least one of labels or moves")
        overlap = sorted(set(self.moves) & set(self.unless_moves))
        if overlap:
            raise ValueError(f"in both moves and unless_moves: {', '.join(overlap)}")
        return self


class Indicator(Strict):
    id: Id
    text: Text
    weight: float = Field(default=1.0, gt=0, le=5)
    detect: Hook | None = None


class CounterIndicator(Indicator):
    """A system-welfare move. ``alternatives`` are authored re-phrasings for the notes."""

    alternatives: list[Text] = Field(min_length=1)


class Principle(Strict):
    id: Literal[PRINCIPLE_IDS]  # type: ignore[valid-type]
    title: Text
    definition: Text
    source: Text
    weight: float = Field(default=1.0, gt=0, le=5)
    indicators: list[Indicator] = Field(min_length=1)
    counter_indicators: list[CounterIndicator] = Field(min_length=1)
    anchors: dict[int, Text]
    signals: list[Signal] = Field(default_factory=list)
    reflective_question: Text
    next_goal: Text

    @field_validator("anchors")
    @classmethod
    def _anchors_1_to_5(cls, v: dict[int, str]) -> dict[int, str]:
        if sorted(v) != [1, 2, 3, 4, 5]:
            raise ValueError("anchors must describe exactly the scores 1, 2, 3, 4 and 5")
        return v


class OwnershipRules(Strict):
    """How problem and plan ownership are read from the turns (see ``coach.scoring``).

    Two separate sides. CITIZEN turns: ``citizen_problem`` / ``citizen_plan`` are regular
    expressions (case-insensitive), read on citizen turns only (the reading covers
    practitioner turns). PRACTITIONER turns: only their reading counts, through the move
    lists ``practitioner_problem`` (a move present in a statement, not a question) and
    ``practitioner_plan``, and the behaviour codes ``practitioner_plan_labels`` with at
    least ``practitioner_plan_min_confidence``.
    """

    # citizen turns: regular expressions
    citizen_problem: list[str] = Field(min_length=1)
    citizen_plan: list[str] = Field(min_length=1)
    # practitioner turns: the reading
    practitioner_problem: list[MoveId] = Field(min_length=1)
    practitioner_plan: list[MoveId] = Field(min_length=1)
    practitioner_plan_labels: list[Label] = Field(default_factory=list)
    practitioner_plan_min_confidence: float = Field(default=0.0, ge=0, le=1)

    _check = field_validator("citizen_problem", "citizen_plan")(_check_regexes)
    _unique_lists = field_validator(
        "practitioner_problem", "practitioner_plan", "practitioner_plan_labels"
    )(_unique)


class MitiMoves(Strict):
    """Which moves of the reading count as the MITI adherent / non-adherent behaviours
    (asking permission is the move ``asks_permission``; advice is the behaviour code)."""

    seek_collaboration: list[MoveId] = Field(default_factory=list)
    affirm: list[MoveId] = Field(default_factory=list)
    emphasize_autonomy: list[MoveId] = Field(default_factory=list)
    confront: list[MoveId] = Field(default_factory=list)
    persuade: list[MoveId] = Field(default_factory=list)

    _unique_lists = field_validator(
        "seek_collaboration", "affirm", "emphasize_autonomy", "confront", "persuade"
    )(_unique)


class Rubric(Strict):
    schema_version: Literal[2]
    id: Id
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    language: Language
    title: Text
    description: Text
    miti_weight: float = Field(default=0.25, ge=0, le=1)
    principles: list[Principle]
    ownership: OwnershipRules
    miti: MitiMoves

    @field_validator("principles")
    @classmethod
    def _all_principles(cls, v: list[Principle]) -> list[Principle]:
        ids = [p.id for p in v]
        if sorted(ids) != sorted(PRINCIPLE_IDS) or len(set(ids)) != len(ids):
            raise ValueError(f"the rubric must define each of {', '.join(PRINCIPLE_IDS)} once")
        return v

    def principle(self, pid: str) -> Principle:
        for p in self.principles:
            if p.id == pid:
                return p
        raise KeyError(pid)


# --------------------------------------------------------------------------- report


class Evidence(Strict):
    turn: int = Field(ge=0, description="index into transcript.turns")
    quote: str = Field(description="verbatim substring of the turn")
    polarity: Literal["for", "against"]
    indicator: str = Field(description="indicator / counter-indicator id, or a signal id")
    by: Literal["model", "signal", "cue"] = Field(
        default="model",
        description="what matched: the reading (a behaviour code or move), a structural "
        "signal; 'cue' (a rubric regex) only in reports made before rubric schema 2",
    )


class PrincipleScore(Strict):
    id: str
    title: str
    score: int = Field(ge=1, le=5)
    raw: float = Field(ge=1, le=5, description="unrounded score")
    confidence: float = Field(ge=0, le=1)
    insufficient_evidence: bool
    rationale: str
    evidence: list[Evidence] = Field(default_factory=list)


class MitiMetric(Strict):
    id: Literal["reflection_to_question", "pct_open_questions", "pct_complex_reflections"]
    value: float | None
    fair: float
    good: float
    level: Literal["below_fair", "fair", "good"] | None
    source: str


class MitiSummary(Strict):
    counts: dict[str, int]
    questions: int
    reflections: int
    reflection_to_question: float | None
    pct_open_questions: float | None
    pct_complex_reflections: float | None
    mi_adherent: int
    mi_non_adherent: int
    adherent_detail: dict[str, int]
    non_adherent_detail: dict[str, int]
    metrics: list[MitiMetric]
    note: str


class OwnershipEvent(Strict):
    by: Who | None = None
    turn: int | None = None
    quote: str | None = None
    cue: str | None = Field(
        default=None,
        description="what matched: a citizen-turn cue, or a practitioner turn's move or code",
    )


class Ownership(Strict):
    """Who first named the problem, who first proposed a plan, and whose plan was adopted."""

    problem: OwnershipEvent
    plan: OwnershipEvent
    adopted_plan: OwnershipEvent = Field(
        default_factory=OwnershipEvent,
        description="whose proposal the plan agreed at the end is (turn: where it was first put)",
    )
    method: str


PatternKind = Literal[
    "asked_and_listened",
    "asked_not_listened",
    "citizen_plan_followed",
    "plan_taken_over",
    "shelved_idea",
    "rupture_and_repair",
    "rupture_unrepaired",
    "gaming",
]


class Pattern(Strict):
    """A pattern of the conversation that no single turn shows, with the turns that show it."""

    kind: PatternKind
    turns: list[int] = Field(description="the turns that show the pattern, in order")
    quotes: list[str] = Field(description="verbatim quotes of those turns")
    text: str = Field(description="what happened, in the report's language")


class ConversationSignals(Strict):
    """Conversation-level figures behind the patterns and the overall score."""

    practitioner_word_share: float = Field(ge=0, le=1)
    mean_practitioner_words: float = Field(ge=0)
    mean_citizen_words: float = Field(ge=0)
    open_asks: int = Field(ge=0, description="what-matters, strengths or their-view questions")
    open_asks_taken_up: int = Field(ge=0, description="... whose answer the worker took up")
    citizen_ideas: int = Field(ge=0)
    citizen_ideas_shelved: int = Field(ge=0)
    follow_through: float | None = Field(
        default=None, ge=0, le=1, description="how much of the citizen's idea reached the plan"
    )
    ruptures: int = Field(ge=0)
    repairs: int = Field(ge=0)


class TrustPoint(Strict):
    turn: int
    trust: float


class NoteItem(Strict):
    text: str
    turn: int | None = None
    quote: str | None = None


class GrowthPoint(Strict):
    principle: str
    indicator: str
    text: str
    turn: int
    quote: str
    alternative: str


class TurningPoint(Strict):
    turn: int
    before: float
    after: float
    quote: str | None = Field(description="the practitioner turn just before the change")
    text: str


class SupervisionNotes(Strict):
    language: Language
    summary: str
    went_well: list[NoteItem]
    growth_points: list[GrowthPoint]
    turning_points: list[TurningPoint]
    citizen_voice: str | None
    reflective_questions: list[str]
    next_goal: str


class JudgeEvidence(Strict):
    quote: str
    verified: bool


class JudgePrinciple(Strict):
    id: str
    score: int | None = Field(default=None, ge=1, le=5)
    reason: str = ""
    evidence: list[JudgeEvidence] = Field(default_factory=list)
    offline_score: int
    disagreement: bool = False
    flags: list[str] = Field(default_factory=list)


class JudgeResult(Strict):
    model: str
    principles: list[JudgePrinciple]
    injection_suspected: list[int] = Field(
        default_factory=list, description="turn indices with instruction-like practitioner text"
    )


class CoachReport(Strict):
    schema_version: Literal[1] = REPORT_SCHEMA_VERSION
    language: Language
    scenario_id: str | None = None
    rubric_id: str
    rubric_version: str
    coder: str = Field(description="the reading model that read the practitioner turns")
    status: Literal["ok", "no_practitioner_turns"]
    message: str = ""
    practitioner_turns: int
    overall: float | None = Field(default=None, ge=0, le=100)
    overall_band: tuple[float, float] | None = Field(
        default=None, description="the overall's uncertainty band (low, high), 0-100"
    )
    principles: list[PrincipleScore]
    summary: MitiSummary
    ownership: Ownership
    trust: list[TrustPoint]
    behaviours: list[str | None]
    turn_flags: list[list[str]] = Field(
        default_factory=list, description="per turn, the moves the reading found present"
    )
    signals: ConversationSignals | None = None
    patterns: list[Pattern] = Field(default_factory=list)
    notes: SupervisionNotes | None = None
    judge: JudgeResult | None = None

    def principle(self, pid: str) -> PrincipleScore:
        for p in self.principles:
            if p.id == pid:
                return p
        raise KeyError(pid)
