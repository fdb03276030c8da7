"""A bank of exemplary practitioner moves, by situation (``rubric/exemplary-moves-<lang>.yaml``).

    load_bank("da") -> ExemplarBank                  cached; raises DataFileError on a bad file
    choose(bank, turn_text, triggers, *, context="", avoid=()) -> Choice | None

Each situation is a kind of system-welfare moment (a measure decided for the citizen, a
threat of sanction, a label, jargon, asking and then ignoring the answer, a shelved idea,
...), with a few example turns that show it, a few exemplary lines a practitioner could say
instead, why those lines help, and a goal for the next practice. The notes pick the
situation closest in meaning to the turn they replace (e5 embeddings over the examples,
``base.embeddings``), among the situations whose ``triggers`` match what the reading found
in the turn; and within the situation the line closest to the turn and the citizen's words.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from base.datafiles import DataFileError, Problem, load_model_file
from base.embeddings import get_embedder

BANK_DIR = Path(__file__).resolve().parent.parent / "rubric"
BANK_VERSIONS = (1,)

Line = Annotated[str, Field(min_length=5, max_length=400)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{1,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Situation(_Strict):
    id: Id
    name: Line = Field(description="the situation in a few words, as the notes name it")
    triggers: list[Id] = Field(
        min_length=1,
        description="moves of the reading, counter-indicator ids or pattern kinds it is for",
    )
    examples: list[Line] = Field(min_length=2, description="turns that show the situation")
    lines: list[Line] = Field(min_length=2, description="exemplary practitioner lines")
    reason: Line = Field(description="why the lines help")
    goal: Line = Field(description="a goal for the next practice")
    goal_moves: list[Id] = Field(
        default_factory=list,
        description="relational moves the goal asks for (a worker who made them gets no such goal)",
    )


class ExemplarBank(_Strict):
    schema_version: Literal[1]
    language: Literal["da", "en"]
    situations: list[Situation] = Field(min_length=1)

    @field_validator("situations")
    @classmethod
    def _unique_ids(cls, v: list[Situation]) -> list[Situation]:
        ids = [s.id for s in v]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"situation ids listed more than once: {', '.join(dup)}")
        return v


def bank_path(language: str) -> Path:
    return BANK_DIR / f"exemplary-moves-{language}.yaml"


def load_bank_file(path: Path) -> tuple[ExemplarBank | None, list[Problem]]:
    return load_model_file(path, ExemplarBank, BANK_VERSIONS)


@functools.cache
def load_bank(language: str) -> ExemplarBank:
    if language not in ("da", "en"):
        raise ValueError(f"unsupported language {language!r}")
    bank, problems = load_bank_file(bank_path(language))
    if bank is None:
        raise DataFileError(problems)
    if bank.language != language:
        raise DataFileError(
            [Problem(str(bank_path(language)), "language", "wrong language", "bank.language")]
        )
    return bank


@dataclass(frozen=True)
class Choice:
    situation: Situation
    line: str
    similarity: float  # of the replaced turn to the situation's closest example


@functools.cache
def _vectors(language: str) -> tuple[list[tuple[int, np.ndarray]], list[np.ndarray]]:
    """Per situation: its examples' vectors; and its lines' vectors (same order)."""
    bank = load_bank(language)
    emb = get_embedder()
    examples = [(i, emb.query(s.examples)) for i, s in enumerate(bank.situations)]
    lines = [emb.query(s.lines) for s in bank.situations]
    return examples, lines


def choose(
    bank: ExemplarBank,
    turn_text: str,
    triggers: Iterable[str],
    *,
    context: str = "",
    avoid: Iterable[str] = (),
) -> Choice | None:
    """The situation closest in meaning to ``turn_text`` among those whose triggers meet
    ``triggers`` (all situations when none does), and its line closest to the turn and
    ``context`` (the citizen's words) that is not in ``avoid``."""
    wanted = set(triggers)
    avoid = set(avoid)
    pool = [i for i, s in enumerate(bank.situations) if wanted & set(s.triggers)]
    if not pool:
        pool = list(range(len(bank.situations)))
    examples, lines = _vectors(bank.language)
    emb = get_embedder()
    v = emb.query(turn_text)
    best: tuple[float, int] | None = None
    for i in pool:
        sim = float((examples[i][1] @ v).max())
        if best is None or sim > best[0]:
            best = (sim, i)
    if best is None:
        return None
    sim, i = best
    situation = bank.situations[i]
    target = emb.query(f"{context} {turn_text}".strip()) if context else v
    scores = lines[i] @ target
    for j in np.argsort(-scores, kind="stable"):
        line = situation.lines[int(j)]
        if line not in avoid:
            return Choice(situation, line, sim)
    return Choice(situation, situation.lines[int(np.argmax(scores))], sim)
