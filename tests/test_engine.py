"""Unit tests of the citizen engine on the fixture scenario (tests/fixtures/scenarios)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from base.embeddings import get_embedder
from citizen import cli_chat
from citizen.debrief import citizen_voice
from citizen.engine import Citizen, CitizenState, band_for, start
from citizen.library import load_library
from citizen.moves import cue_in, keyword_hits, tokens
from citizen.offline import OfflineRenderer
from citizen.schema import Scenario
from citizen.scripted import RelationalPractitioner, SystemPractitioner
from tests.helpers_reading import HandReader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scenarios"

OPEN = "Hvad betyder mest for dig lige nu?"
GOOD = [
    "Hej Jonas, jeg er her for at lytte. Hvad er vigtigt for dig i dag?",
    "Det lyder som om du er træt af forløb. Hvad ville hjælpe dig?",
    "Hvad betyder mest for dig lige nu?",
    "Hvad er du god til, og hvem i dit liv støtter dig?",
    "Det giver god mening. Må jeg spørge, hvordan du sover?",
    "Fortæl om din datter, hvis du har lyst?",
]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    lib = load_library(FIXTURES)
    assert not lib.errors, lib.errors
    return lib.get("fixture-jonas")


def new(scenario: Scenario) -> Citizen:
    return start(scenario)


def test_start_state(scenario: Scenario) -> None:
    c = new(scenario)
    assert c.opening == scenario.opening_line
    assert c.state.trust == pytest.approx(scenario.dynamics.start_trust)
    assert c.state.depth == 0
    assert c.state.turn == 0
    assert c.history == [("citizen", scenario.opening_line)]


def test_relational_turns_raise_trust_and_depth(scenario: Scenario) -> None:
    c = new(scenario)
    depths = [0]
    for text in GOOD:
        r = c.respond(text)
        assert r.depth - depths[-1] in (0, 1)  # at most one level per turn, never down
        depths.append(r.depth)
    assert c.state.trust > scenario.dynamics.start_trust + 0.3
    assert c.state.depth >= 2
    assert len(c.state.trajectory) == len(GOOD) == c.state.turn


def test_trigger_lowers_trust_and_one_good_turn_does_not_repair(scenario: Scenario) -> None:
    c = new(scenario)
    for text in GOOD[:3]:
        c.respond(text)
    before = c.state.trust
    hit = c.respond("Hvis du ikke møder op, får du en sanktion og vi trækker i din ydelse.")
    assert "sanction" in hit.decision.triggers
    assert hit.trust < before - 0.1
    assert c.state.scar == scenario.dynamics.scar_turns
    repair = c.respond("Hvad betyder mest for dig? Det giver god mening.")
    assert repair.trust > hit.trust
    assert repair.trust < before - 0.05  # the scar damps the gain


def test_depth_needs_trust(scenario: Scenario) -> None:
    c = new(scenario)
    c.state.trust = 0.0
    r = c.respond(OPEN)
    assert r.depth == 0  # trust below the depth-1 threshold
    assert r.decision.new_depth is None


def test_depth_needs_unlock_topic(scenario: Scenario) -> None:
    c = new(scenario)
    c.state.trust, c.state.depth = 0.95, 2
    r = c.respond("Hvordan sover du om natten?")  # a good move, but not on the 'datter' topic
    assert r.depth == 2
    r = c.respond("Fortæl om din datter?")
    assert r.depth == 3
    assert r.decision.new_depth == 3
    assert r.reply.endswith(scenario.disclosure[3].reveal_lines[0])


def test_allowed_facts_only_up_to_depth(scenario: Scenario) -> None:
    c = new(scenario)
    d = c.decide("Hej")
    assert d.allowed_facts == scenario.disclosure[0].facts
    c.state.depth = 2
    facts = c.allowed_facts()
    assert scenario.disclosure[2].facts[0] in facts
    assert scenario.disclosure[3].facts[0] not in facts


def test_guarded_topic_before_depth(scenario: Scenario) -> None:
    c = new(scenario)
    r = c.respond("Fortæl om din datter Sofie?")
    assert r.decision.topic == "datter"
    assert r.decision.guarded
    datter = next(t for t in scenario.topics if t.id == "datter")
    assert any(line in r.reply for line in datter.guarded)
    assert not any(line in r.reply for line in datter.replies.high)


def test_plan_too_early_then_accepted(scenario: Scenario) -> None:
    plan = scenario.acceptable_plans[0]
    proposal = f"Hvad siger du til {plan.description.lower()}?"
    c = new(scenario)
    early = c.respond(proposal)
    assert early.decision.plan.proposed == plan.id
    assert early.decision.plan.reason == "too_early"
    assert not early.decision.plan.accepted
    assert c.state.accepted_plan is None
    c.state.trust, c.state.depth = 0.9, 3
    ok = c.respond(proposal)
    assert ok.decision.plan.accepted
    assert ok.decision.plan.reason == "accepted"
    assert c.state.accepted_plan == plan.id
    assert plan.accept[0] in ok.reply


def test_unrelated_plan_is_not_mine(scenario: Scenario) -> None:
    # the rule under test is the engine's: a proposal that matches none of the citizen's
    # plans is "not mine". The reading of the turn is given by hand (the shipped model does
    # not yet take this one as a proposal: tests/test_reading_understanding.py, KNOWN_MISSES)
    text = "Jeg foreslår, at du flytter til Grønland og bliver fisker."
    c = start(scenario, reader=HandReader({text: ("advice", {"proposes_plan"})}))
    c.state.trust, c.state.depth = 1.0, 3
    r = c.respond(text)
    assert r.decision.plan.reason == "not_mine"
    assert c.state.accepted_plan is None
    assert any(line in r.reply for line in scenario.plan_responses.not_mine.all_lines())


def test_state_round_trip_and_resume(scenario: Scenario) -> None:
    a = new(scenario)
    for text in GOOD[:3]:
        a.respond(text)
    saved = a.state.model_dump_json()
    b = Citizen.restore(scenario, saved)
    assert b.state == a.state
    assert CitizenState.model_validate_json(saved).model_dump_json() == saved
    for text in [*GOOD[3:], "Vi har kun 5 minutter."]:
        assert a.respond(text).reply == b.respond(text).reply
    assert a.state.model_dump_json() == b.state.model_dump_json()


def test_restore_refuses_other_scenario(scenario: Scenario) -> None:
    state = new(scenario).state.model_copy(update={"scenario_id": "someone-else"})
    with pytest.raises(ValueError, match="someone-else"):
        Citizen.restore(scenario, state.model_dump_json())


def test_deterministic(scenario: Scenario) -> None:
    runs = []
    for _ in range(2):
        c = new(scenario)
        runs.append([c.respond(t).reply for t in GOOD])
    assert runs[0] == runs[1]


def test_no_exact_repeat_even_for_same_question(scenario: Scenario) -> None:
    c = new(scenario)
    replies = [c.respond("Hvordan har du det?").reply for _ in range(40)]
    assert len(set(replies)) == len(replies)
    assert scenario.opening_line not in replies


def test_llm_path_decide_and_record(scenario: Scenario) -> None:
    c = new(scenario)
    d = c.decide(OPEN)
    assert c.state.events[-1].reply is None
    history = c.history
    assert history[-1] == ("practitioner", OPEN)
    c.record_reply("Min datter. Det er hende.")
    assert c.history[-1] == ("citizen", "Min datter. Det er hende.")
    assert "Min datter. Det er hende." in c.state.used_replies
    assert d.offline_reply not in c.state.used_replies
    with pytest.raises(RuntimeError):
        new(scenario).record_reply("x")


def test_offline_renderer_streams_the_offline_reply(scenario: Scenario) -> None:
    c = new(scenario)
    d = c.decide("Vi har kun 5 minutter, så lad os komme til sagen.")
    chunks = list(OfflineRenderer().stream(scenario, d, c.history))
    assert "".join(chunks) == d.offline_reply
    assert len(chunks) == len(d.offline_parts) >= 1  # one chunk per authored line


def test_band_for(scenario: Scenario) -> None:
    dyn = scenario.dynamics
    assert band_for(dyn.mid_band - 0.01, scenario) == "low"
    assert band_for(dyn.mid_band, scenario) == "mid"
    assert band_for(dyn.high_band, scenario) == "high"


# -- moves ---------------------------------------------------------------------------------
def test_cues_match_on_stems_case_insensitive() -> None:
    assert cue_in(tokens("Der kommer SANKTIONER"), "sanktion")
    assert cue_in(tokens("We have to cut your benefits"), "cut your")
    assert not cue_in(tokens("sagt"), "sagen")
    assert keyword_hits(tokens("om morgenen"), ["morgen", "morgenerne"]) == 1


# -- debrief -----------------------------------------------------------------------------
def _play(scenario: Scenario, practitioner: object, n: int) -> Citizen:
    c = new(scenario)
    for _ in range(n):
        c.respond(practitioner.next_turn(c))  # type: ignore[attr-defined]
    return c


def test_debrief_relational_and_system(scenario: Scenario) -> None:
    good = _play(scenario, RelationalPractitioner(scenario), 10)
    text = citizen_voice(scenario, good.state)
    assert scenario.debrief.opened[0] in text
    assert "»" in text  # quotes the practitioner
    bad = _play(scenario, SystemPractitioner(scenario), 8)
    text2 = citizen_voice(scenario, bad.state)
    assert scenario.debrief.closed[0] in text2
    assert scenario.debrief.would_have_helped[0] in text2
    worst = min(bad.state.events, key=lambda e: e.delta)
    assert worst.text.split()[0] in text2
    assert citizen_voice(scenario, bad.state) == text2  # deterministic
    dicts = [e.model_dump() for e in bad.state.events]
    assert citizen_voice(scenario, bad.state, dicts) == text2


def test_debrief_english_and_empty(scenario: Scenario) -> None:
    en = scenario.model_copy(update={"language": "en"})
    st = new(scenario).state
    assert citizen_voice(en, st) == "We never really got to talk."
    c = _play(scenario, SystemPractitioner(scenario), 3)
    assert citizen_voice(en, c.state).startswith("I came in on my guard.")


# -- CLI ---------------------------------------------------------------------------------
def _cli(argv: list[str], stdin: str) -> tuple[int, str, str]:
    parser = cli_chat.argparse.ArgumentParser()
    cli_chat.add_arguments(parser)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    rc = cli_chat.run(args, io.StringIO(stdin), out, err)
    return rc, out.getvalue(), err.getvalue()


def test_cli_chat_offline() -> None:
    rc, out, err = _cli(
        ["--scenario", "fixture-jonas", "--scenario-dir", str(FIXTURES)],
        "Hvad betyder mest for dig?\n\nDu skal møde op kl. 8.\n",
    )
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "Nå. Jeg er her så. Hvad skal vi tale om denne gang?"
    turns = [json.loads(x) for x in lines[1:]]
    assert len(turns) == 2
    for t in turns:
        assert isinstance(t["reply"], str)
        assert t["reply"]
        assert 0.0 <= t["trust"] <= 1.0
        assert t["trust"] == round(t["trust"], 3)
        assert isinstance(t["depth"], int)
    assert turns[1]["trust"] < turns[0]["trust"]


def test_cli_chat_json_and_debrief() -> None:
    rc, out, _ = _cli(
        ["--scenario", "fixture-jonas", "--scenario-dir", str(FIXTURES), "--json", "--debrief"],
        "Hej\n",
    )
    assert rc == 0
    objs = [json.loads(x) for x in out.splitlines()]
    assert objs[0]["opening"]
    assert objs[0]["depth"] == 0
    assert "band" in objs[1]["decision"]
    assert "debrief" in objs[-1]


def test_cli_unknown_scenario() -> None:
    rc, _, err = _cli(["--scenario", "nobody", "--scenario-dir", str(FIXTURES)], "")
    assert rc == 2
    assert "nobody" in err
    assert "fixture-jonas" in err


def test_cli_llm_backend_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = cli_chat.importlib.import_module

    def fake(name: str, *a: object) -> object:
        if name == "citizen.llm_renderer":
            raise ImportError("not built")
        return real(name, *a)

    monkeypatch.setattr(cli_chat.importlib, "import_module", fake)
    rc, out, err = _cli(
        ["--scenario", "fixture-jonas", "--scenario-dir", str(FIXTURES), "--backend", "openai"],
        "Hej\n",
    )
    assert rc == 2
    assert "openai" in err
    assert "offline" in err
    assert out == ""  # never fell back to offline


def test_cli_llm_backend_misconfigured_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(backend: str) -> object:
        raise RuntimeError("no model configured")

    module = SimpleNamespace(get_renderer=broken)
    monkeypatch.setattr(cli_chat.importlib, "import_module", lambda name: module)
    rc, out, err = _cli(
        ["--scenario", "fixture-jonas", "--scenario-dir", str(FIXTURES), "--backend", "llamacpp"],
        "Hej\n",
    )
    assert rc == 2
    assert "no model configured" in err
    assert out == ""


def test_cli_llm_backend_voices_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    class Echo:
        def stream(self, scenario, decision, history):  # type: ignore[no-untyped-def]
            yield f"[{decision.band}] "
            yield decision.offline_reply

    module = SimpleNamespace(get_renderer=lambda backend: Echo())
    monkeypatch.setattr(cli_chat.importlib, "import_module", lambda name: module)
    rc, out, _ = _cli(
        ["--scenario", "fixture-jonas", "--scenario-dir", str(FIXTURES), "--backend", "openai"],
        "Hej\n",
    )
    assert rc == 0
    assert json.loads(out.splitlines()[1])["reply"].startswith("[low] ")


def test_main_dispatch(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from citizen import __main__ as entry

    seen = []
    module = SimpleNamespace(
        main_validate=lambda argv: seen.append(("validate", argv)) or 0,
        main_schema=lambda argv: seen.append(("schema", argv)) or 3,
    )
    monkeypatch.setattr(entry.importlib, "import_module", lambda name: module)
    assert entry.main(["validate", "a.yaml", "--strict"]) == 0
    assert entry.main(["schema", "--out", "x"]) == 3
    assert seen == [("validate", ["a.yaml", "--strict"]), ("schema", ["--out", "x"])]
    with pytest.raises(SystemExit):
        entry.main(["bogus"])
    assert "invalid choice" in capsys.readouterr().err


def test_topic_index_cached_by_content(scenario: Scenario) -> None:
    import numpy as np

    from citizen.offline import scenario_index

    calls: list[int] = []

    class Fake:
        def query(self, texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            return np.ones((len(texts), 4), dtype=np.float32) / 2.0

    edited = scenario.model_copy(
        update={"topics": [scenario.topics[0].model_copy(update={"examples": ["Nyt eksempel?"]})]}
    )
    first = scenario_index(edited, Fake())
    assert scenario_index(edited, Fake()) is first
    assert calls == [1, len(scenario.acceptable_plans)]  # examples + plans, embedded once
    other = edited.model_copy(
        update={"topics": [edited.topics[0].model_copy(update={"examples": ["Andet?"]})]}
    )
    assert scenario_index(other, Fake()) is not first


# -- cue errors found by the scenario authors (regressions) ---------------------------------
def test_cues_match_whole_words_with_explicit_stems() -> None:
    assert not cue_in(tokens("your caseworker"), "your case")
    assert cue_in(tokens("your cases"), "your case")
    assert not cue_in(tokens("sagsbehandleren"), "sagen")
    assert cue_in(tokens("tvangsanbringelsen"), "tvangsanbring*")
    assert not cue_in(tokens("Er du klar?"), "klarede")
    assert cue_in(tokens("Sanktionerne"), "sanktion")


def test_view_question_is_not_refused_as_not_mine(scenario: Scenario) -> None:
    c = new(scenario)
    c.state.trust, c.state.depth = 0.9, 3
    r = c.respond("Hvad tænker du om, at Lene er bekymret?")
    assert r.decision.plan.reason == "none"


def test_one_embedding_per_turn_shared_with_the_reading(scenario: Scenario) -> None:
    emb = get_embedder()
    c = start(scenario)
    c.respond("Hej")  # warm: scenario index embedded
    calls: list[int] = []
    real = emb._encode

    def counting(texts: list[str], is_query: bool):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return real(texts, is_query)

    emb._encode = counting  # type: ignore[method-assign]
    try:
        c.respond("Hvad ville hjælpe dig med morgenerne, tænker du? (unik 7431)")
    finally:
        del emb._encode
    # one batched encode per turn: the turn and its sentences for the reading (the topic
    # match reuses the turn's vector from the cache); the citizen's previous reply, the
    # reading's context, is cached from the first turn
    assert len(calls) == 1, calls


def test_a_dictated_plan_is_refused_even_when_it_is_their_own(scenario: Scenario) -> None:
    plan = scenario.acceptable_plans[0]
    text = f"{plan.description} Det er besluttet."
    c = start(scenario, reader=HandReader({text: ("information", {"directive"})}))
    c.state.trust, c.state.depth = 1.0, 3
    r = c.respond(text)
    assert r.decision.plan.proposed == plan.id
    assert not r.decision.plan.accepted
    assert r.decision.plan.reason == "not_mine"
    assert c.state.accepted_plan is None


def test_a_plan_in_one_sentence_of_a_longer_turn_is_recognised(scenario: Scenario) -> None:
    plan = scenario.acceptable_plans[0]
    text = (
        "Jeg har tænkt på noget, mens du fortalte. Du har sagt meget i dag om, hvordan det er "
        "at blive sendt rundt mellem kontorerne. Hvad siger du til det her: "
        f"{plan.description.rstrip('.')}?"
    )
    asked = start(scenario, reader=HandReader({text: ("open_question", set())}))
    asked.state.trust, asked.state.depth = 1.0, 3
    assert asked.respond(text).decision.plan.accepted
