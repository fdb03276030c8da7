"""Rules of the citizen's replies and memory, one test each (issue: a citizen who answers
what was asked). Each test fails when its rule is removed from ``citizen.offline`` or
``citizen.engine``. Moves come from hand-made readings where the rule is about the engine,
not about the reading; topics and lines are matched by the real embedder.

Mutation -> failing test (checked on 2026-12-02 by editing a copy of the repository):

| rule removed | failing test |
|---|---|
| reveal only for its topics (`fitting = pending`) | test_a_reveal_waits_for_its_topic |
| an open invitation lets a pending reveal out | test_an_open_invitation_lets_a_pending_reveal_out |
| lines ranked by meaning | test_answer_lines_are_ranked_by_meaning |
| no opener reaction before a refusal | test_no_warm_reaction_in_front_of_a_refusal |
| a reaction that asks back stands alone | test_a_reaction_that_asks_back_stands_alone |
| reaction lines never echo an unsaid word | test_a_reaction_that_echoes_an_unsaid_label_is_skipped |
| own words need the citizen's words | test_own_words_need_the_citizens_words |
| a quoted, rejected label is no label | test_a_quoted_label_rejected_is_not_a_label |
| an invitation is no proposal | test_an_invitation_to_their_own_plan_is_not_a_proposal |
| no gain around a plan that is not theirs | test_warm_words_around_a_plan_that_is_not_theirs_earn_nothing |
| a follow-up continues the last topic | test_a_follow_up_continues_the_last_topic |
| repair damped less and heals faster | test_an_apology_after_a_rupture_starts_a_slow_repair |
| memory of disclosures; the LLM prompt's memory lines | test_memory_keeps_what_the_practitioner_disclosed_and_their_name |
| debrief lines chosen by what was done | test_the_debrief_does_not_ask_for_what_was_done |
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from base.embeddings import get_embedder
from citizen import offline
from citizen.debrief import citizen_voice
from citizen.engine import REPAIR_HEAL, start
from citizen.library import load_library
from citizen.llm_renderer import system_prompt
from citizen.moves import tokens
from citizen.schema import Scenario
from tests.helpers_reading import HandReader, hand_reading

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scenarios"
SLEEP = "Okay. Sandheden er, at jeg næsten ikke sover."


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_library(FIXTURES).get("fixture-jonas")


@pytest.fixture(scope="module")
def index(scenario: Scenario) -> offline.ScenarioIndex:
    return offline.scenario_index(scenario, get_embedder())


def ask(text: str, **kw) -> offline.Ask:
    kw.setdefault("band", "mid")
    kw.setdefault("depth", 2)
    return offline.Ask(vec=get_embedder().query(text), words=tuple(tokens(text)), **kw)


def answer(scenario: Scenario, index: offline.ScenarioIndex, a: offline.Ask) -> offline.Composition:
    """The reply to ``a`` at the start of a conversation (nothing said yet)."""
    return offline.compose(scenario, index, a, used_lines=set(), used_replies=set())


# -- disclosures follow the question ---------------------------------------------------
def test_a_reveal_waits_for_its_topic(scenario: Scenario, index: offline.ScenarioIndex) -> None:
    assert index.reveal_topics[scenario.disclosure[2].reveal_lines[0]] == ("helbred",)
    other = answer(
        scenario, index, ask("Hvordan har det været at være ledig?", topic="arbejde", new_depth=2)
    )
    assert other.main_kind == "topic"
    assert not any(SLEEP in p for p in other.parts)
    asked = answer(scenario, index, ask("Hvordan har du det med din krop?", topic="helbred"))
    assert asked.main_kind == "reveal"
    assert any(SLEEP in p for p in asked.parts)


def test_an_open_invitation_lets_a_pending_reveal_out(
    scenario: Scenario, index: offline.ScenarioIndex
) -> None:
    c = answer(scenario, index, ask("Mm, fortæl mere.", invitation=True))
    assert c.main_kind == "reveal"
    not_invited = answer(scenario, index, ask("Mm, fortæl mere."))
    assert not_invited.main_kind == "general"


def test_a_told_reveal_is_not_told_again(scenario: Scenario, index: offline.ScenarioIndex) -> None:
    told = set(scenario.disclosure[2].reveal_lines)
    c = offline.compose(
        scenario,
        index,
        ask("Hvordan har du det med din krop?", topic="helbred"),
        used_lines=told,
        used_replies=told,
    )
    assert c.main_kind == "topic"


def test_answer_lines_are_ranked_by_meaning(
    scenario: Scenario, index: offline.ScenarioIndex
) -> None:
    topic = next(t for t in scenario.topics if t.id == "arbejde")
    lines = topic.replies.mid
    assert len(lines) >= 2
    target = lines[-1]
    c = answer(scenario, index, ask(target, topic="arbejde"))
    assert c.parts[-1] == target  # the line closest to the turn, not the first authored one


# -- reactions agree with the answer ------------------------------------------------------
def test_no_warm_reaction_in_front_of_a_refusal(
    scenario: Scenario, index: offline.ScenarioIndex
) -> None:
    c = answer(
        scenario,
        index,
        ask("Hvem betyder noget for dig?", topic="datter", depth=0, reaction_move="reflection"),
    )
    assert c.main_kind == "guarded"
    assert c.reaction is None
    assert len(c.parts) == 1


def test_a_reaction_that_asks_back_stands_alone(
    scenario: Scenario, index: offline.ScenarioIndex
) -> None:
    question = "Hvorfor spørger du om det?"
    sc = scenario.model_copy(
        update={
            "reactions": {
                **scenario.reactions,
                "suspicion": scenario.reactions["suspicion"].model_copy(update={"mid": [question]}),
            }
        }
    )
    c = answer(
        sc,
        index,
        ask("Hvordan har det været at være ledig?", topic="arbejde", reaction_move="suspicion"),
    )
    assert c.parts == [question]


def test_a_reaction_to_a_general_line_is_said_alone(
    scenario: Scenario, index: offline.ScenarioIndex
) -> None:
    c = answer(scenario, index, ask("Nå.", reaction_move="validation"))
    assert c.reaction is not None
    assert c.parts == [c.reaction]


def test_a_label_is_echoed_only_when_it_was_said(scenario: Scenario) -> None:
    label = next(k for cue in scenario.triggers for k in cue.keywords)
    line = f"{label.capitalize()}. Ja. Det har jeg hørt før."
    assert offline.echoes_unsaid_word(line, scenario, ("hvordan", "går", "det"))
    assert not offline.echoes_unsaid_word(line, scenario, tuple(f"du er {label}".split()))
    quoted = "'Umotiveret'. Ja."
    assert offline.echoes_unsaid_word(quoted, scenario, ("hej",))
    assert not offline.echoes_unsaid_word(quoted, scenario, ("du", "er", "umotiveret"))


# -- the engine: what a turn means in this conversation ---------------------------------
def test_own_words_need_the_citizens_words(scenario: Scenario) -> None:
    own = scenario.opening_line.split()
    word = max(own, key=len).strip(".,!?»«")
    theirs = f"Du siger {word}, fortæl mig mere om det?"
    mine = "Du siger sommerfugle, fortæl mig mere om det?"
    hr = HandReader(
        {theirs: ("open_question", {"uses_own_words"}), mine: ("open_question", {"uses_own_words"})}
    )
    assert "uses_own_words" in start(scenario, reader=hr).decide(theirs).moves
    assert "uses_own_words" not in start(scenario, reader=hr).decide(mine).moves


def test_a_quoted_label_rejected_is_not_a_label(scenario: Scenario) -> None:
    text = "Der står 'umotiveret' om dig i sagen, og det er jeg ikke enig i."
    quoted = hand_reading(text, "information", {"labelling", "transparency"})
    plain = hand_reading(text, "information", {"labelling", "transparency"})
    quoted = replace(quoted, scope={**quoted.scope, "quoted": 0.9})

    class One:
        def __init__(self, r):
            self.r = r

        def read(self, *a, **k):
            return self.r

    assert "labelling" not in start(scenario, reader=One(quoted)).decide(text).triggers
    assert "labelling" in start(scenario, reader=One(plain)).decide(text).triggers


def test_an_invitation_to_their_own_plan_is_not_a_proposal(scenario: Scenario) -> None:
    text = "Hvis du selv skulle lave planen, hvad ville du så starte med?"
    invite = HandReader({text: ("negotiation", {"invites_solution"})})
    proposal = HandReader({text: ("negotiation", {"proposes_plan"})})
    assert start(scenario, reader=invite).decide(text).plan.reason == "none"
    assert start(scenario, reader=proposal).decide(text).plan.reason == "not_mine"


def test_warm_words_around_a_plan_that_is_not_theirs_earn_nothing(scenario: Scenario) -> None:
    text = "Jeg hører dig, og du er ekspert i dit eget liv. Du starter på et kursus i regnskab på mandag."
    hr = HandReader({text: ("advice", {"affirms", "proposes_plan"})})
    d = start(scenario, reader=hr).decide(text)
    assert d.plan.reason == "not_mine"
    assert d.delta <= 0


def test_a_follow_up_continues_the_last_topic(scenario: Scenario) -> None:
    c = start(scenario)
    first = c.respond("Hvordan har det været at være ledig?").decision
    assert first.topic == "arbejde"
    d = c.respond("Mm, fortæl mere.").decision
    assert d.invitation
    assert d.topic is None
    assert d.memory.topics[-1] == "arbejde"
    arbejde = next(t for t in scenario.topics if t.id == "arbejde").replies.all_lines()
    assert any(p in arbejde for p in d.offline_parts)
    assert "open_question" in d.moves


def test_an_apology_after_a_rupture_starts_a_slow_repair(scenario: Scenario) -> None:
    hurt = "Du skal møde op, ellers bliver din ydelse trukket."
    sorry = "Undskyld, det var forkert sagt af mig. Jeg er her for at lytte til dig."
    kind = "Det lyder som om, du har haft det svært med møderne."
    hr = HandReader(
        {
            hurt: ("advice", {"sanction"}),
            sorry: ("other", {"repair"}),
            kind: ("complex_reflection", {"reflects_feeling"}),
        }
    )
    a = start(scenario, reader=hr)
    a.respond(hurt)
    scar = a.state.scar
    repaired = a.respond(sorry).decision
    assert a.state.scar == max(0, scar - REPAIR_HEAL)
    b = start(scenario, reader=hr)
    b.respond(hurt)
    plain = b.respond(kind).decision
    assert repaired.delta > plain.delta > 0


def test_memory_keeps_what_the_practitioner_disclosed_and_their_name(scenario: Scenario) -> None:
    text = "Jeg hedder Birgitte. Jeg har læst din sag, og jeg skriver kun det, vi aftaler."
    hr = HandReader({text: ("information", {"transparency"})})
    c = start(scenario, reader=hr)
    d = c.respond(text).decision
    assert d.memory.disclosed == {"transparency": 1}
    assert d.memory.practitioner_name == "Birgitte"
    prompt = system_prompt(scenario, d)
    assert "Birgitte" in prompt
    assert "never say they were not" in prompt


def test_the_debrief_does_not_ask_for_what_was_done(scenario: Scenario) -> None:
    did = "Jeg har læst din sag, så du behøver ikke fortælle det hele forfra."
    lines = [
        "Det havde hjulpet, hvis du havde sagt fra starten, at du havde læst min sag.",
        "Det havde hjulpet, hvis du havde spurgt til min datter og min ryg.",
    ]
    sc = scenario.model_copy(
        update={"debrief": scenario.debrief.model_copy(update={"would_have_helped": lines})}
    )
    hr = HandReader({did: ("information", {"sanction"})})  # a turn that closes: not "opened"
    c = start(sc, reader=hr)
    c.respond(did)
    voice = citizen_voice(sc, c.state)
    assert lines[1] in voice
    assert lines[0] not in voice


def test_a_reaction_that_echoes_an_unsaid_label_is_skipped(
    scenario: Scenario, index: offline.ScenarioIndex
) -> None:
    label = next(
        k for cue in scenario.triggers if cue.kind.value == "labelling" for k in cue.keywords
    )
    echo, plain = f"{label.capitalize()}. Ja. Det har jeg hørt før.", "Nå. Sådan ser du mig altså."
    sc = scenario.model_copy(
        update={
            "reactions": {
                **scenario.reactions,
                "labelling": scenario.reactions["labelling"].model_copy(
                    update={"mid": [echo, plain]}
                ),
            }
        }
    )
    turn = "Du er jo en af dem, der aldrig kommer til noget."
    c = answer(sc, index, ask(turn, reaction_move="labelling"))
    assert c.reaction == plain
    said = f"Du er {label}."
    c = answer(sc, index, ask(said, reaction_move="labelling"))
    assert c.reaction == echo
