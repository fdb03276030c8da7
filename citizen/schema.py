"""The scenario file format: one simulated citizen and the practice situation around them.

A scenario is data only (``scenarios/*.yaml``). The engine (``citizen.engine``) reads it;
authors write it by hand or in the Scenario studio. Parts marked *hidden* are never
shown to the practitioner: they drive the engine and, with an LLM, the citizen's voice.

Reply text for the offline renderer is organised by **topic x trust band x kind of move**:
every topic has lines per trust band (``low``/``mid``/``high``), and ``reactions`` hold
short lines per kind of practitioner move (a trigger such as jargon, or an opener such
as a reflection), also per band. The renderer combines them.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = (1,)

Id = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$", description="lower-case id: a-z, 0-9, _ and -"),
]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Line = Annotated[str, Field(min_length=1, max_length=1200)]
Language = Literal["da", "en"]
Trust = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Context(StrEnum):
    """The kind of welfare situation; used to filter the library."""

    family_at_risk = "family_at_risk"
    unemployment = "unemployment"
    leaving_care = "leaving_care"
    loneliness = "loneliness"
    homelessness = "homelessness"
    psychiatry_debt = "psychiatry_debt"
    refugee_family = "refugee_family"
    disability = "disability"
    other = "other"


class Trigger(StrEnum):
    """System-welfare moves that close the citizen."""

    jargon = "jargon"
    directive = "directive"
    sanction = "sanction"
    suspicion = "suspicion"
    rushing = "rushing"
    case_talk = "case_talk"
    labelling = "labelling"


class Opener(StrEnum):
    """Relational moves that open the citizen."""

    open_question = "open_question"
    reflection = "reflection"
    asks_what_matters = "asks_what_matters"
    asks_strengths = "asks_strengths"
    asks_permission = "asks_permission"
    uses_own_words = "uses_own_words"
    transparency = "transparency"
    validation = "validation"


MOVE_KINDS: tuple[str, ...] = tuple(m.value for m in Trigger) + tuple(m.value for m in Opener)


class Banded(Strict):
    """Lines per trust band. The engine picks the band from current trust."""

    low: list[Line] = Field(
        default_factory=list, description="said while trust is low: guarded, short"
    )
    mid: list[Line] = Field(default_factory=list, description="said at middling trust")
    high: list[Line] = Field(default_factory=list, description="said when trust is high: open")

    def all_lines(self) -> list[str]:
        return [*self.low, *self.mid, *self.high]

    def count(self) -> int:
        return len(self.low) + len(self.mid) + len(self.high)


class Persona(Strict):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    age: Annotated[int, Field(ge=0, le=120)]
    situation: Text = Field(description="life situation in a few sentences (hidden)")
    system_history: Text = Field(description="their history with the welfare system (hidden)")
    speech_style: Text = Field(description="how they talk: register, length, habits (hidden)")


class Hidden(Strict):
    problem_definition: Text = Field(description="the problem as the citizen sees it (hidden)")
    solution_ideas: list[Line] = Field(
        min_length=1, description="their own ideas for what would help"
    )
    what_matters: list[Line] = Field(min_length=1, description="what matters most to them")


class Resources(Strict):
    strengths: list[Line] = Field(min_length=1)
    network: list[Line] = Field(default_factory=list)
    civil_society: list[Line] = Field(default_factory=list)


class Plan(Strict):
    id: Id
    description: Text
    keywords: list[Annotated[str, Field(min_length=2, max_length=80)]] = Field(
        min_length=1, description="words that show the practitioner is proposing this plan"
    )
    conditions: list[Line] = Field(
        default_factory=list, description="on what conditions they would agree"
    )
    min_trust: Trust = 0.6
    min_depth: Annotated[int, Field(ge=0, le=3)] = 2
    accept: list[Line] = Field(min_length=1, description="what they say when they agree")


class TriggerCue(Strict):
    kind: Trigger
    keywords: list[Annotated[str, Field(min_length=2, max_length=80)]] = Field(
        default_factory=list, description="scenario-specific words that fire this trigger"
    )
    weight: Annotated[float, Field(ge=0.0, le=3.0)] = 1.0


class OpenerCue(Strict):
    kind: Opener
    keywords: list[Annotated[str, Field(min_length=2, max_length=80)]] = Field(default_factory=list)
    weight: Annotated[float, Field(ge=0.0, le=3.0)] = 1.0


class Unlock(Strict):
    min_trust: Trust = 0.0
    any_of: list[str] = Field(
        default_factory=list,
        description="kinds of move, one of which must occur in the unlocking turn (empty: any move)",
    )
    topics: list[Id] = Field(
        default_factory=list, description="the turn must be on one of these topics (empty: any)"
    )

    @field_validator("any_of")
    @classmethod
    def _known_moves(cls, v: list[str]) -> list[str]:
        unknown = [m for m in v if m not in MOVE_KINDS]
        if unknown:
            raise ValueError(f"unknown kind of move {unknown}; allowed: {', '.join(MOVE_KINDS)}")
        return v


class Reveal(Strict):
    """A disclosure line and the topics it answers: it is spoken when the practitioner asks
    about one of them (or opens the space with an open invitation), not blindly the turn
    its depth unlocks."""

    text: Line
    topics: list[Id] = Field(min_length=1, description="ids of the topics this line answers")


class DisclosureLevel(Strict):
    depth: Annotated[int, Field(ge=0, le=3)]
    facts: list[Line] = Field(
        min_length=1, description="what may be disclosed at this depth (hidden)"
    )
    unlock: Unlock = Field(default_factory=Unlock)
    reveal: list[Line | Reveal] = Field(
        default_factory=list,
        description="what the citizen discloses at this depth: a line, or {text, topics} naming "
        "the topics it answers (a plain line is matched to topics by meaning)",
    )

    @property
    def reveal_lines(self) -> list[str]:
        return [r if isinstance(r, str) else r.text for r in self.reveal]

    def reveal_topics(self, line: str) -> list[str]:
        """The topics an authored reveal line names ([] for a plain line)."""
        for r in self.reveal:
            if isinstance(r, Reveal) and r.text == line:
                return list(r.topics)
        return []


class Topic(Strict):
    id: Id
    depth: Annotated[int, Field(ge=0, le=3)] = Field(
        0, description="disclosure depth needed to talk openly"
    )
    keywords: list[Annotated[str, Field(min_length=2, max_length=80)]] = Field(default_factory=list)
    examples: list[Line] = Field(
        min_length=1,
        description="things a practitioner might say on this topic; matched by embeddings",
    )
    replies: Banded
    guarded: list[Line] = Field(
        default_factory=list, description="said when asked before the depth is reached"
    )


class Dynamics(Strict):
    start_trust: Trust = 0.3
    gain: Annotated[float, Field(gt=0.0, le=3.0)] = Field(
        1.0, description="multiplier on trust gains"
    )
    loss: Annotated[float, Field(gt=0.0, le=3.0)] = Field(
        1.0, description="multiplier on trust losses"
    )
    scar_turns: Annotated[int, Field(ge=0, le=20)] = Field(
        3, description="after a trigger, gains are damped for this many turns"
    )
    mid_band: Trust = 0.35
    high_band: Trust = 0.65

    @model_validator(mode="after")
    def _bands_ordered(self) -> Dynamics:
        if not self.mid_band < self.high_band:
            raise ValueError("mid_band must be lower than high_band")
        return self


class PlanResponses(Strict):
    too_early: Banded = Field(description="a plan is proposed before trust or depth allow it")
    not_mine: Banded = Field(description="a plan that is not one they would accept")


class Debrief(Strict):
    """The citizen's voice after the session, in the first person."""

    opened: list[Line] = Field(min_length=1, description="how it felt when they were met well")
    closed: list[Line] = Field(
        min_length=1, description="how it felt when they were met by the system"
    )
    mixed: list[Line] = Field(min_length=1)
    would_have_helped: list[Line] = Field(min_length=1)


class LearningGoal(Strict):
    principle: Id = Field(description="a principle id from the rubric")
    goal: Text
    moves: list[Opener] = Field(
        default_factory=list,
        description="the relational moves this goal asks for: the citizen rewards each of them "
        "and never punishes it (checked by the fidelity suite)",
    )


class Scenario(Strict):
    schema_version: Literal[1] = Field(alias="schema_version")
    id: Id
    language: Language
    title: Annotated[str, Field(min_length=1, max_length=120)]
    summary: Text
    context: Context
    difficulty: Annotated[int, Field(ge=1, le=3)]
    fictional_notice: Text = Field(description="states that all people and places are fictional")
    author: Annotated[str, Field(min_length=1, max_length=120)] = "unknown"
    created: dt.date | None = None
    translation_of: Id | None = Field(None, description="id of the scenario this one translates")
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list)

    learning_goals: list[LearningGoal] = Field(default_factory=list)
    briefing: Text = Field(description="for the practitioner: the setting, their role and mandate")
    case_file: Text = Field(
        description="the file as the system wrote it: deficit-framed system language"
    )

    persona: Persona
    hidden: Hidden
    resources: Resources
    acceptable_plans: list[Plan] = Field(min_length=1)
    triggers: list[TriggerCue] = Field(default_factory=list)
    openers: list[OpenerCue] = Field(default_factory=list)
    disclosure: list[DisclosureLevel] = Field(min_length=4, max_length=4)
    dynamics: Dynamics = Field(default_factory=Dynamics)

    opening_line: Line = Field(description="the citizen's first words")
    topics: list[Topic] = Field(min_length=1)
    reactions: dict[str, Banded] = Field(
        default_factory=dict,
        description="short lines per kind of move (trigger or opener), per band",
    )
    general: Banded = Field(description="when no topic fits")
    plan_responses: PlanResponses
    debrief: Debrief

    @field_validator("reactions")
    @classmethod
    def _reaction_kinds(cls, v: dict[str, Banded]) -> dict[str, Banded]:
        unknown = [k for k in v if k not in MOVE_KINDS]
        if unknown:
            raise ValueError(f"unknown kind of move {unknown}; allowed: {', '.join(MOVE_KINDS)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        depths = [d.depth for d in self.disclosure]
        if depths != [0, 1, 2, 3]:
            raise ValueError(f"disclosure must list depths 0, 1, 2, 3 in order; found {depths}")
        topic_ids = [t.id for t in self.topics]
        dupes = sorted({t for t in topic_ids if topic_ids.count(t) > 1})
        if dupes:
            raise ValueError(f"topic ids must be unique; repeated: {dupes}")
        for level in self.disclosure:
            missing = [t for t in level.unlock.topics if t not in topic_ids]
            if missing:
                raise ValueError(
                    f"disclosure depth {level.depth} unlock names unknown topics {missing}"
                )
            for r in level.reveal:
                missing = [t for t in getattr(r, "topics", []) if t not in topic_ids]
                if missing:
                    raise ValueError(
                        f"disclosure depth {level.depth} reveal names unknown topics {missing}"
                    )
        plan_ids = [p.id for p in self.acceptable_plans]
        if len(set(plan_ids)) != len(plan_ids):
            raise ValueError("acceptable_plans ids must be unique")
        return self

    # -- views -------------------------------------------------------------
    def public_view(self) -> dict[str, object]:
        """What the practitioner may see before and during the conversation."""
        return {
            "id": self.id,
            "language": self.language,
            "title": self.title,
            "summary": self.summary,
            "context": self.context.value,
            "difficulty": self.difficulty,
            "briefing": self.briefing,
            "case_file": self.case_file,
            "name": self.persona.name,
            "age": self.persona.age,
            "learning_goals": [g.model_dump(mode="json") for g in self.learning_goals],
            "fictional_notice": self.fictional_notice,
        }

    def all_reply_lines(self) -> list[str]:
        lines: list[str] = [self.opening_line]
        for t in self.topics:
            lines += t.replies.all_lines() + t.guarded
        for b in self.reactions.values():
            lines += b.all_lines()
        lines += self.general.all_lines()
        for d in self.disclosure:
            lines += d.reveal_lines
        for p in self.acceptable_plans:
            lines += p.accept
        lines += (
            self.plan_responses.too_early.all_lines() + self.plan_responses.not_mine.all_lines()
        )
        return lines


_WORD = re.compile(r"[a-zæøåäöü]+", re.IGNORECASE)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]
