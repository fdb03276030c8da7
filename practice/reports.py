"""What the app calls when a session ends: score + supervision notes + the citizen's voice.

    build_report(transcript, *, scenario=None, state_json=None) -> CoachReport

The citizen's debrief voice comes from ``citizen.debrief.citizen_voice`` when the scenario
and the engine state are known (simulated sessions); uploaded transcripts have neither.
"""

from __future__ import annotations

import logging
from typing import Any

from base.models import Transcript
from citizen.debrief import citizen_voice
from citizen.engine import CitizenState
from coach.notes import coach_session
from coach.schema import CoachReport

log = logging.getLogger("relpractice.reports")


def citizen_voice_for(scenario: Any, state_json: str | None) -> str | None:
    if scenario is None or not state_json:
        return None
    try:
        state = CitizenState.model_validate_json(state_json)
        return citizen_voice(scenario, state)
    except Exception:  # the voice is a bonus: never let it break the report
        log.warning("citizen voice unavailable", exc_info=True)
        return None


def build_report(
    transcript: Transcript, *, scenario: Any = None, state_json: str | None = None
) -> CoachReport:
    return coach_session(transcript, citizen_voice=citizen_voice_for(scenario, state_json))
