"""Hand-made readings for coach tests (a plain module).

The coach understands practitioner turns only through ``reading.Reading``. These helpers
build readings by hand, so scoring rules can be tested on exactly the reading they are
about, independently of what the trained model happens to say.

    reading = hand_reading("Må jeg foreslå noget?", "closed_question", {"asks_permission"})
    reader = HandReader({"Må jeg foreslå noget?": ("closed_question", {"asks_permission"})})
    score_transcript(transcript, reader=reader)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reading import BEHAVIOURS, MOVES, SCOPES, Move, Reading

MovesSpec = Mapping[str, float] | set[str] | frozenset[str]


def hand_reading(
    text: str,
    behaviour: str,
    moves: MovesSpec = frozenset(),
    *,
    language: str = "da",
    confidence: float = 1.0,
    quotes: Mapping[str, str] | None = None,
) -> Reading:
    """A reading of `text`: the behaviour code with `confidence`, the given moves present
    (a set: probability 1.0; a mapping: move -> probability), each quoting ``quotes[move]``
    (default: no quote, so ``quote_for`` gives the whole turn)."""
    assert behaviour in BEHAVIOURS, behaviour
    probs = dict(moves) if isinstance(moves, Mapping) else dict.fromkeys(moves, 1.0)
    assert set(probs) <= set(MOVES), set(probs) - set(MOVES)
    quotes = quotes or {}
    rest = (1.0 - confidence) / (len(BEHAVIOURS) - 1)
    return Reading(
        text=text,
        language=language,
        behaviour=behaviour,
        behaviour_p={b: confidence if b == behaviour else rest for b in BEHAVIOURS},
        moves={
            m: Move(
                p=probs.get(m, 0.0),
                present=m in probs,
                evidence=(quotes[m],) if m in quotes else (),
                quote=quotes.get(m, ""),
            )
            for m in MOVES
        },
        scope=dict.fromkeys(SCOPES, 0.0),
        uptake=0.5,
        uptake_level=1,
    )


class HandReader:
    """A reader with hand-labelled turns: text -> (behaviour, moves[, quotes])."""

    manifest = {"name": "hand"}  # noqa: RUF012 - read-only test double

    def __init__(self, labels: Mapping[str, tuple]):
        self.labels = labels
        self.calls: list[list[tuple[str, str | None]]] = []

    def read_many(
        self, items: Sequence[tuple[str, str | None]], language: str = "da"
    ) -> list[Reading]:
        self.calls.append(list(items))
        out = []
        for text, _prev in items:
            behaviour, moves, *rest = self.labels[text]
            quotes = rest[0] if rest else None
            out.append(hand_reading(text, behaviour, moves, language=language, quotes=quotes))
        return out

    def read(
        self, text: str, previous_citizen: str | None = None, language: str = "da", *, extra=None
    ) -> Reading:
        return self.read_many([(text, previous_citizen)], language)[0]


class PrecomputedReader:
    """Gives back readings computed beforehand: isolates the cost of the scoring itself."""

    manifest = {"name": "precomputed"}  # noqa: RUF012 - read-only test double

    def __init__(self, readings: list[Reading]):
        self.readings = readings

    def read_many(self, items, language="da"):
        return self.readings[: len(items)]
