"""The citizen's voice after the session (offline): how it felt to be met this way.

First person, in the scenario's language, grounded in the trust trajectory and in the
turns that moved trust most (quoting the practitioner briefly), using the scenario's
authored ``debrief`` lines plus small templates (``base/locales/citizen.yaml``).
Deterministic: the same state gives the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from base.embeddings import get_embedder
from base.i18n import t
from citizen.engine import CitizenState, TurnEvent
from citizen.schema import Scenario

MOVED = 0.03  # a turn that moved trust less than this is not quoted
ROSE = 0.15  # overall rise that counts as "opened"
QUOTE_WORDS = 12


def quote(text: str, max_words: int = QUOTE_WORDS) -> str:
    words = text.split()
    short = " ".join(words[:max_words])
    return short + ("…" if len(words) > max_words else "")


def _events(state: CitizenState, turns: Sequence[Any] | None) -> list[TurnEvent]:
    if turns is None:
        return list(state.events)
    out: list[TurnEvent] = []
    for item in turns:
        out.append(item if isinstance(item, TurnEvent) else TurnEvent.model_validate(item))
    return out


def outcome(state: CitizenState, events: list[TurnEvent]) -> str:
    """'opened', 'closed' or 'mixed'."""
    rise = state.trust - state.start_trust
    big_drops = [e for e in events if e.delta <= -0.1]
    if rise >= ROSE and state.depth >= 2 and len(big_drops) <= 1:
        return "opened"
    if rise <= -0.05 or (state.depth <= 1 and rise < ROSE / 2 and big_drops):
        return "closed"
    return "mixed"


def _by_meaning(lines: list[str], turns: list[str], embedder: Any, *, closest: bool) -> str:
    """The authored line closest in meaning to what the practitioner did (``closest``), or
    furthest from everything they did: "it would have helped if you had told me you read my
    file" is never said to someone who did."""
    if len(lines) == 1 or not turns:
        return lines[0]
    lv = np.asarray(embedder.query(lines), dtype=np.float32)
    tv = np.asarray(embedder.query(turns), dtype=np.float32)
    score = (lv @ tv.T).max(axis=1)
    i = int(score.argmax() if closest else score.argmin())
    return lines[i]


def citizen_voice(
    scenario: Scenario,
    state: CitizenState,
    turns: Sequence[Any] | None = None,
    *,
    embedder: Any | None = None,
) -> str:
    """The citizen's debrief in the first person. ``turns`` defaults to ``state.events``
    (a list of TurnEvent or dicts of the same shape). The authored lines are chosen by what
    the practitioner actually did, so the debrief never contradicts the transcript."""
    lang = scenario.language
    events = _events(state, turns)
    if not events:
        return t("citizen.debrief.no_turns", lang)
    kind = outcome(state, events)
    parts: list[str] = [t("citizen.debrief.start", lang)]
    rise = state.trust - state.start_trust
    if rise >= ROSE / 2:
        parts.append(t("citizen.debrief.rose", lang))
    elif rise <= -ROSE / 2:
        parts.append(t("citizen.debrief.fell", lang))
    else:
        parts.append(t("citizen.debrief.flat", lang))

    best = max(events, key=lambda e: (e.delta, -e.turn))
    worst = min(events, key=lambda e: (e.delta, e.turn))
    if best.delta >= MOVED:
        parts.append(t("citizen.debrief.best", lang, quote=quote(best.text)))
    if worst.delta <= -MOVED:
        parts.append(t("citizen.debrief.worst", lang, quote=quote(worst.text)))

    embedder = embedder or get_embedder()
    good = [e.text for e in events if e.delta > 0]
    parts.append(_by_meaning(getattr(scenario.debrief, kind), good, embedder, closest=True))
    parts.append(t(f"citizen.debrief.depth{state.depth}", lang))
    if state.accepted_plan:
        parts.append(t("citizen.debrief.plan_accepted", lang))
    else:
        parts.append(t("citizen.debrief.plan_none", lang))
    if kind != "opened":
        done = [e.text for e in events]
        parts.append(_by_meaning(scenario.debrief.would_have_helped, done, embedder, closest=False))
    return " ".join(parts)
