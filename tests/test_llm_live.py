"""Live streaming to the UI: tokens arrive as the model writes them; when a guard rejects
the streamed reply, a Replace carries the regenerated or offline reply, and the session
stores exactly the text finally shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.llm import ScriptedModel
from citizen.engine import Decision
from citizen.library import load_scenario_file
from citizen.llm_renderer import LLMRenderer, Replace

FIXTURE = Path(__file__).parent / "fixtures" / "scenarios" / "fixture_jonas.yaml"
OFFLINE = "Nå. Det ved jeg ikke rigtig."
GOOD = ["Det er ", "ryggen. ", "Den gør ondt, ", "og så er det svært ", "at komme nogen steder."]
COACHING = "Godt spørgsmål! Du kunne prøve at spørge mere åbent, som min coach ville sige."


@pytest.fixture(scope="module")
def scenario():
    sc, problems = load_scenario_file(FIXTURE)
    assert sc is not None, problems
    return sc


def _decision(scenario) -> Decision:
    facts = [f for level in scenario.disclosure if level.depth <= 1 for f in level.facts]
    return Decision.model_validate(
        {
            "turn": 1,
            "language": scenario.language,
            "band": "low",
            "trust": 0.3,
            "trust_before": 0.25,
            "delta": 0.05,
            "depth": 1,
            "allowed_facts": facts,
            "offline_reply": OFFLINE,
        }
    )


def test_tokens_arrive_one_by_one_and_a_good_reply_is_not_replaced(scenario) -> None:
    model = ScriptedModel().enqueue(GOOD)
    renderer = LLMRenderer(model, embedder=None)
    items = list(renderer.stream_live(scenario, _decision(scenario), []))
    assert items == GOOD  # as the model produced them, in order, nothing withdrawn
    assert str(renderer.last_outcome) == "ok"


def test_a_rejected_stream_is_replaced_by_the_regenerated_reply(scenario) -> None:
    model = ScriptedModel().enqueue(COACHING, "".join(GOOD))
    renderer = LLMRenderer(model, embedder=None)
    items = list(renderer.stream_live(scenario, _decision(scenario), []))
    assert isinstance(items[-1], Replace)
    assert items[-1].text == "".join(GOOD)
    assert "".join(i for i in items if isinstance(i, str)).strip() == COACHING
    assert renderer.last_outcome.status == "regenerated"


def test_twice_rejected_falls_back_to_the_offline_reply(scenario) -> None:
    model = ScriptedModel().enqueue(COACHING, COACHING)
    renderer = LLMRenderer(model, embedder=None)
    items = list(renderer.stream_live(scenario, _decision(scenario), []))
    assert items[-1] == Replace(OFFLINE)
    assert renderer.last_outcome.status == "fell_back"


def test_the_session_stores_what_is_finally_shown(tmp_path, monkeypatch) -> None:
    from practice.services import build_services
    from practice.settings import load_settings

    monkeypatch.setenv("RELPRACTICE_SCENARIO_DIRS", str(FIXTURE.parent))
    svc = build_services(load_settings())
    user = svc.practice.local_user()
    sid = svc.practice.start(user, "fixture-jonas").info.id
    svc.practice.add_practitioner_turn(user, sid, "Hvad er vigtigst for dig lige nu?")
    model = ScriptedModel().enqueue(COACHING, COACHING)
    renderer = LLMRenderer(model, embedder=None)
    shown = ""
    for item in svc.practice.reply_stream(user, sid, renderer, live=True):
        shown = shown + item if isinstance(item, str) else item.text
    stored = svc.practice.view(user, sid).turns[-1]
    assert stored.speaker == "citizen"
    assert stored.text == shown
    assert stored.meta["outcome"].startswith("fell_back")
    # and the offline reply it fell back to is the engine's authored line for this turn
    assert stored.text
    assert stored.text != COACHING
    svc.db.dispose()
