"""Behaviour coder: one AnnoMI label per practitioner utterance, plus relational flags.

INTERFACE (stable; other packages depend on it):
    get_coder() -> BehaviourCoder            process-wide, thread-safe, loaded once
    BehaviourCoder.code(text, previous_citizen=None, language="da") -> Coded
    BehaviourCoder.code_many(items: list[tuple[str, str | None]], language) -> list[Coded]

TEMPORARY heuristic implementation, to be replaced by the trained model.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

LABELS: tuple[str, ...] = (
    "open_question",
    "closed_question",
    "simple_reflection",
    "complex_reflection",
    "information",
    "advice",
    "negotiation",
    "options",
    "other",
)
MAIN_CLASS = {
    "open_question": "question",
    "closed_question": "question",
    "simple_reflection": "reflection",
    "complex_reflection": "reflection",
    "information": "therapist_input",
    "advice": "therapist_input",
    "negotiation": "therapist_input",
    "options": "therapist_input",
    "other": "other",
}
FLAGS: tuple[str, ...] = (
    "asks_what_matters",
    "asks_strengths",
    "asks_permission",
    "uses_own_words",
    "jargon",
    "directive",
    "sanction",
    "suspicion",
    "labelling",
)


@dataclass(frozen=True)
class Coded:
    label: str
    confidence: float
    flags: frozenset[str] = frozenset()
    probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def main(self) -> str:
        return MAIN_CLASS[self.label]


_OPEN = re.compile(r"^\s*(hvad|hvordan|hvorfor|hvornår|hvem|hvilke|fortæl|what|how|why|when|who|which|tell me)\b", re.I)


class BehaviourCoder:
    def code(self, text: str, previous_citizen: str | None = None, language: str = "da") -> Coded:
        t = text.strip()
        if t.endswith("?"):
            label = "open_question" if _OPEN.search(t) else "closed_question"
        elif re.search(r"\b(du skal|you must|you need to|you should|du bør)\b", t, re.I):
            label = "advice"
        elif re.search(r"^(det lyder|it sounds|so you|så du)", t, re.I):
            label = "complex_reflection"
        else:
            label = "other"
        return Coded(label=label, confidence=0.5)

    def code_many(self, items: list[tuple[str, str | None]], language: str = "da") -> list[Coded]:
        return [self.code(t, p, language) for t, p in items]


_coder: BehaviourCoder | None = None
_lock = threading.Lock()


def get_coder() -> BehaviourCoder:
    global _coder
    if _coder is None:
        with _lock:
            if _coder is None:
                _coder = BehaviourCoder()
    return _coder
