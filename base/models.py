"""Conversation records shared by the citizen, the coach and persistence."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TRANSCRIPT_SCHEMA_VERSION = 1
MAX_TURN_CHARS = 4000

Speaker = Literal["practitioner", "citizen"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Turn(Strict):
    speaker: Speaker
    text: Annotated[str, Field(max_length=MAX_TURN_CHARS)]
    # engine state after this turn (citizen turns only): trust 0..1 and deepest depth so far
    trust: float | None = None
    depth: int | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class Transcript(Strict):
    """The CLI/interchange format: {"language": "da"|"en", "turns": [...]}."""

    schema_version: Literal[1] = TRANSCRIPT_SCHEMA_VERSION
    language: Literal["da", "en"]
    scenario_id: str | None = None
    turns: list[Turn] = Field(default_factory=list)

    def practitioner_turns(self) -> list[tuple[int, Turn]]:
        return [(i, t) for i, t in enumerate(self.turns) if t.speaker == "practitioner"]

    def previous_citizen(self, index: int) -> str | None:
        for t in reversed(self.turns[:index]):
            if t.speaker == "citizen":
                return t.text
        return None

    def trust_trajectory(self) -> list[float]:
        return [t.trust for t in self.turns if t.speaker == "citizen" and t.trust is not None]


class SessionInfo(Strict):
    """A practice session as the UI lists it."""

    schema_version: Literal[1] = 1
    id: str
    scenario_id: str
    language: Literal["da", "en"]
    owner: str
    status: Literal["active", "ended"]
    backend: str = "offline"
    created_at: dt.datetime
    updated_at: dt.datetime
    turn_count: int = 0
    title: str = ""
    parent_id: str | None = None
    branch_turn: int | None = None
