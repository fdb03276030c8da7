"""Each scenario's learning goals name the relational moves they ask for; the citizen must
reward every one of them and never punish it, read by the real reading (no hand-made
readings here: this is the fidelity of the whole chain, turn -> reading -> engine)."""

from __future__ import annotations

import pytest

from citizen.engine import start
from citizen.library import load_library
from citizen.schema import Scenario

LIB = load_library()
SCENARIOS = sorted(LIB.scenarios.values(), key=lambda s: s.id)

# a turn that carries the move, per language: written plainly, as a practitioner would say it
EXAMPLES: dict[str, dict[str, str]] = {
    "open_question": {
        "da": "Hvordan ser en almindelig dag ud for dig?",
        "en": "What does an ordinary day look like for you?",
    },
    "reflection": {
        "da": "Det lyder som om, du skal bære rigtig meget alene.",
        "en": "It sounds like you have been carrying a lot on your own.",
    },
    "asks_what_matters": {
        "da": "Hvad betyder mest for dig lige nu?",
        "en": "What matters most to you right now?",
    },
    "asks_strengths": {
        "da": "Hvad er du god til, og hvad har hjulpet dig igennem indtil nu?",
        "en": "What are you good at, and what has helped you get through so far?",
    },
    "asks_permission": {
        "da": "Må jeg spørge dig om noget, der måske er svært at tale om?",
        "en": "Is it all right if I ask you about something that might be hard to talk about?",
    },
    "transparency": {
        "da": "Jeg vil være ærlig over for dig: jeg har læst din sag, og jeg skriver kun det ned, som vi har talt om sammen.",
        "en": "I want to be honest with you: I have read your file, and I will only write down what we have talked about together.",
    },
    "validation": {
        "da": "Du har klaret rigtig meget selv. Det er godt gået.",
        "en": "It took real strength to come here today, even though it wasn't easy.",
    },
}


def own_words_turn(scenario: Scenario) -> str:
    words = scenario.opening_line.split()[:7]
    said = " ".join(words).rstrip(".,!?")
    if scenario.language == "da":
        return f"Du sagde: »{said}«. Fortæl mig mere om det."
    return f"You said: '{said}'. Tell me more about that."


def goal_turns(scenario: Scenario) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for goal in scenario.learning_goals:
        for move in goal.moves:
            text = (
                own_words_turn(scenario)
                if move == "uses_own_words"
                else EXAMPLES[move][scenario.language]
            )
            out.append((move.value, text))
    return list(dict.fromkeys(out))


def test_every_goal_names_moves() -> None:
    for s in SCENARIOS:
        assert s.learning_goals, s.id
        for g in s.learning_goals:
            assert g.moves, f"{s.id}: goal on {g.principle} names no moves"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_goal_moves_are_rewarded_at_the_start(scenario: Scenario) -> None:
    for move, text in goal_turns(scenario):
        c = start(scenario)
        d = c.respond(text).decision
        assert not d.triggers, (move, text, d.triggers)
        assert d.delta > 0, (move, text, d.delta)
        if move != "uses_own_words":
            assert move in d.moves, (move, text, d.moves)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_goal_moves_are_never_punished_after_a_rupture(scenario: Scenario) -> None:
    rupture = {
        "da": "Du skal møde op på mandag, ellers bliver der trukket i din ydelse.",
        "en": "You have to turn up on Monday, or your benefits will be cut.",
    }[scenario.language]
    for move, text in goal_turns(scenario):
        c = start(scenario)
        hurt = c.respond(rupture).decision
        assert hurt.triggers, hurt.moves
        d = c.respond(text).decision
        assert not d.triggers, (move, text, d.triggers)
        assert d.delta >= 0, (move, text, d.delta)


# -- turns of every length (the real reading) ----------------------------------------------
WARM = (
    "Tak fordi jeg måtte komme, Poul. Jeg kan høre, at det har været et svært år, siden Grete "
    "døde. Det lyder som om, hun var den, der holdt sammen på det hele, og at dagene er blevet "
    "lange. Jeg er ikke her for at bestemme noget over hovedet på dig. Jeg vil gerne høre, "
    "hvordan du selv ser det, og hvad der betyder noget for dig. Du har klaret dig selv hele "
    "livet, og det har du stadig lov til. Hvis der er noget, du tænker kunne gøre hverdagen lidt "
    "lettere, så vil jeg gerne høre det. Og hvis du ikke har lyst til at snakke om noget, så "
    "siger du bare til. Hvad betyder mest for dig lige nu? "
)
LECTURE = (
    "Poul, nu skal du høre. Kommunen har vurderet, at du er i ernæringsrisiko, og derfor skal du "
    "have madordning fra på mandag. Du skal også deltage i et visiteret aktivitetstilbud to gange "
    "om ugen, det er besluttet. Hvis du ikke tager imod, må vi overveje andre foranstaltninger. "
    "Det er vigtigt, at du forstår, at vi gør det for din egen skyld. Jeg skriver i journalen, "
    "at du er indforstået. "
)


def test_a_long_warm_turn_is_read_by_its_content() -> None:
    d = start(LIB.get("ensom-poul-da")).respond(WARM * 3).decision  # about 360 words
    assert not d.triggers, d.triggers
    assert d.delta > 0


def test_a_long_lecture_is_read_as_a_lecture() -> None:
    d = start(LIB.get("ensom-poul-da")).respond(LECTURE * 2).decision
    assert d.triggers
    assert d.delta < 0


@pytest.mark.parametrize(
    ("scenario_id", "first", "more"),
    [
        ("ensom-poul-da", "Hvordan har du det for tiden?", "Mm, fortæl mere."),
        ("homeless-kim-en", "Tell me about Bonnie.", "Go on."),
    ],
)
def test_a_minimal_encourager_invites_more(scenario_id: str, first: str, more: str) -> None:
    c = start(LIB.get(scenario_id))
    c.respond(first)
    d = c.respond(more).decision
    assert d.invitation
    assert d.delta > 0
    assert d.main_kind in ("topic", "reveal")
