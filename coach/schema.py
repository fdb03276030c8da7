"""Data models of the coach: the rubric file format and the report it produces.

The rubric (``rubric/relational-<lang>.yaml``) is data: principles with indicators and
counter-indicators, each with *machine hooks* (coder labels, coder flags and regular
expression cues) that say which practitioner turns count as evidence for or against.
``coach.scoring`` reads only these hooks, so changing what counts as evidence is a
rubric edit, not a code change.

The report (:class:`CoachReport`) is what the scoring produces, the CLI prints, the
exports render and the UI shows. Every report records the rubric id and version.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coach.coder import FLAGS, LABELS

RUBRIC_SCHEMA_VERSION = 1
SUPPORTED_RUBRIC_VERSIONS = (1,)
REPORT_SCHEMA_VERSION = 1

PRINCIPLE_IDS: tuple[str, ...] = (
    "meet_where_they_are",
    "citizen_defines_problem",
    "citizen_shapes_solution",
    "stand_beside",
    "resources_first",
    "trust_not_suspicion",
    "person_not_case",
)

Language = Literal["da", "en"]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{1,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Label = Literal[LABELS]  # type: ignore[valid-type]
Flag = Literal[FLAGS]  # type: ignore[valid-type]
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


class Hook(Strict):
    """When a practitioner turn counts as evidence.

    A turn matches when its coder label is in ``labels``, or it carries one of ``flags``,
    or one of the ``cues`` (case-insensitive regular expressions) occurs in it; and none
    of ``unless_flags`` / ``unless_cues`` applies (e.g. advice *without* permission).
    ``statements_only`` restricts cue matching to sentences that are not questions.
    """

    labels: list[Label] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    cues: list[str] = Field(default_factory=list)
    unless_flags: list[Flag] = Field(default_factory=list)
    unless_cues: list[str] = Field(default_factory=list)
    statements_only: bool = False

    _check = field_validator("cues", "unless_cues")(_check_regexes)

    @model_validator(mode="after")
    def _not_empty(self) -> Hook:
        if not (self.labels or self.flags or self.cues):
            raise ValueError("a hook needs at least one of labels, flags or cues")
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


class OwnershipCues(Strict):
    """How problem and plan ownership are read from the turns (see ``coach.scoring``)."""

    citizen_problem: list[str] = Field(min_length=1)
    practitioner_problem: list[str] = Field(min_length=1)
    practitioner_problem_flags: list[Flag] = Field(default_factory=list)
    citizen_plan: list[str] = Field(min_length=1)
    practitioner_plan: list[str] = Field(min_length=1)
    practitioner_plan_labels: list[Label] = Field(default_factory=list)
    practitioner_plan_min_confidence: float = Field(default=0.0, ge=0, le=1)

    _check = field_validator(
        "citizen_problem", "practitioner_problem", "citizen_plan", "practitioner_plan"
    )(_check_regexes)


class MitiCues(Strict):
    """Cues for the MITI adherent / non-adherent behaviour counts (on top of coder flags)."""

    seek_collaboration: list[str] = Field(default_factory=list)
    affirm: list[str] = Field(default_factory=list)
    emphasize_autonomy: list[str] = Field(default_factory=list)
    confront: list[str] = Field(default_factory=list)
    persuade: list[str] = Field(default_factory=list)

    _check = field_validator(
        "seek_collaboration", "affirm", "emphasize_autonomy", "confront", "persuade"
    )(_check_regexes)


class Rubric(Strict):
    schema_version: Literal[1]
    id: Id
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    language: Language
    title: Text
    description: Text
    miti_weight: float = Field(default=0.25, ge=0, le=1)
    principles: list[Principle]
    ownership: OwnershipCues
    miti: MitiCues

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
    by: Literal["cue", "model", "signal"] = Field(
        default="cue", description="what matched: a rubric cue, a coder label/flag, a signal"
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
    cue: str | None = Field(default=None, description="what matched: a cue, label or flag")


class Ownership(Strict):
    problem: OwnershipEvent
    plan: OwnershipEvent
    method: str


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
    coder: str
    status: Literal["ok", "no_practitioner_turns"]
    message: str = ""
    practitioner_turns: int
    overall: float | None = Field(default=None, ge=0, le=100)
    principles: list[PrincipleScore]
    summary: MitiSummary
    ownership: Ownership
    trust: list[TrustPoint]
    behaviours: list[str | None]
    turn_flags: list[list[str]] = Field(default_factory=list)
    notes: SupervisionNotes | None = None
    judge: JudgeResult | None = None

    def principle(self, pid: str) -> PrincipleScore:
        for p in self.principles:
            if p.id == pid:
                return p
        raise KeyError(pid)
