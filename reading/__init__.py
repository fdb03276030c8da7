"""The reading of a practitioner turn, shared by the citizen and the coach.

    from reading import get_reader, Reading
    get_reader().read(text, previous_citizen, language) -> Reading

Below ``citizen`` and ``coach``, above ``base``: it imports only ``base``.
"""

from reading.labels import BEHAVIOURS, MAIN_CLASS, MOVES, RELATIONAL_MOVES, SCOPES, SYSTEM_MOVES
from reading.model import Move, Reader, Reading, get_reader

__all__ = [
    "BEHAVIOURS",
    "MAIN_CLASS",
    "MOVES",
    "RELATIONAL_MOVES",
    "SCOPES",
    "SYSTEM_MOVES",
    "Move",
    "Reader",
    "Reading",
    "get_reader",
]
