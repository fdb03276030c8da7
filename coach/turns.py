"""A practitioner turn as the coach sees it: its text, its place and its reading.

    quote(text, start=0, end=None) -> str     a verbatim piece of a turn, at most MAX_QUOTE
    CoachTurn(index, text, reading)          one practitioner turn with its reading

Shared by the scoring (``coach.scoring``) and the conversation signals (``coach.signals``).
"""

from __future__ import annotations

from dataclasses import dataclass

from reading import Reading

MAX_QUOTE = 220


# --------------------------------------------------------------------------- quoting


def quote(text: str, start: int = 0, end: int | None = None) -> str:
    """A verbatim substring of `text` around [start, end): the sentence(s), at most MAX_QUOTE."""
    end = len(text) if end is None else end
    q = text[start:end].strip()
    if len(q) <= MAX_QUOTE:
        return q
    cut = q[:MAX_QUOTE]
    space = cut.rfind(" ")
    return cut[: space if space > MAX_QUOTE // 2 else MAX_QUOTE].rstrip()


# --------------------------------------------------------------------------- matching


@dataclass
class CoachTurn:
    """A practitioner turn and its reading."""

    index: int
    text: str
    reading: Reading

    @property
    def label(self) -> str:
        return self.reading.behaviour

    @property
    def moves(self) -> frozenset[str]:
        return self.reading.present

    def has(self, move: str) -> bool:
        m = self.reading.moves.get(move)
        return bool(m and m.present)

    def p(self, move: str) -> float:
        m = self.reading.moves.get(move)
        return float(m.p) if m else 0.0

    def quote_for(self, move: str) -> str:
        """The sentence carrying the move (verbatim, at most MAX_QUOTE), else the turn."""
        q = self.reading.quote_for(move).strip()
        start = self.text.find(q) if q else -1
        if start < 0:
            return quote(self.text)
        return quote(self.text, start, start + len(q))
