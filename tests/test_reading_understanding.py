"""The misreadings the product was known for (issue #10), and the ones its scenario authors
reported, read by the shipped model. Each row fails if the reading gets that turn wrong.

These are our own examples (not the held-out set in bench/heldout/): a regression guard,
not a measure of accuracy. `bench/reading_accuracy.py` measures accuracy on data written by
others.
"""

from __future__ import annotations

import pytest

from reading import get_reader

# (text, previous citizen turn, language, moves that must be read, moves that must not)
CASES: list[tuple[str, str | None, str, set[str], set[str]]] = [
    # empathy with "skal/must" is not a directive, fear is not a sanction
    (
        "Det lyder som om du skal bære meget alene.",
        "Jeg står med det hele selv.",
        "da",
        {"reflects_feeling"},
        {"directive"},
    ),
    (
        "Det lyder som om du er rigtig bange for at miste lejligheden.",
        "Jeg kan ikke betale huslejen.",
        "da",
        {"reflects_feeling"},
        {"sanction"},
    ),
    (
        "It sounds like you have to carry all of this on your own.",
        "Nobody helps me.",
        "en",
        {"reflects_feeling"},
        {"directive"},
    ),
    # negation relieves a demand
    (
        "Du skal ikke bekymre dig om, at der står noget i notatet.",
        "Hvad skriver du om mig?",
        "da",
        set(),
        {"directive"},
    ),
    (
        "You don't have to tell it all again.",
        "I've told this story five times.",
        "en",
        set(),
        {"directive"},
    ),
    (
        "Du behøver ikke svare på alt i dag.",
        "Jeg ved ikke, hvad jeg skal sige.",
        "da",
        set(),
        {"directive"},
    ),
    # a label quoted, negated or denied is not labelling
    (
        "Så står der 'umotiveret' om dig. Det passer ikke med det, du fortæller.",
        "Jeg har knoklet i 22 år.",
        "da",
        set(),
        {"labelling"},
    ),
    (
        "That is not lack of integration, that is being a mother.",
        "I stay home with my children.",
        "en",
        set(),
        {"labelling"},
    ),
    (
        "Du er bestemt ikke skrøbelig.",
        "Alle behandler mig, som om jeg går i stykker.",
        "da",
        set(),
        {"labelling"},
    ),
    ("You are unmotivated.", "I don't see the point of the course.", "en", {"labelling"}, set()),
    # raising the notification openly is transparency; an apology is repair
    (
        "Der er kommet en anonym underretning. Jeg vil gerne vise dig, hvad der står i den, og høre "
        "hvordan du ser det.",
        "Hvorfor er du her?",
        "da",
        {"transparency"},
        {"suspicion"},
    ),
    (
        "Jeg kom ind ad døren og begyndte at kontrollere dig, og det er ikke det, jeg er her for.",
        "Du lyder ligesom de andre.",
        "da",
        {"repair"},
        {"suspicion"},
    ),
    # directives need no order word; relational words do not hide them
    (
        "Jeg sætter familiebehandleren i gang.",
        "Jeg ved ikke, om jeg kan mere.",
        "da",
        {"directive"},
        set(),
    ),
    ("I'll write that you agree.", "I suppose so.", "en", {"directive"}, set()),
    (
        "Jeg har tilmeldt dig et seks ugers kursus.",
        "Jeg vil gerne i arbejde.",
        "da",
        {"directive"},
        {"offers_options"},
    ),
    (
        "Jeg hører dig. Du starter på kurset mandag.",
        "Jeg er ikke klar til et kursus.",
        "da",
        {"directive"},
        {"reflects_feeling"},
    ),
    ("Du skal møde op mandag.", "Jeg har ondt i ryggen.", "da", {"directive"}, set()),
    # the engine's old detectors, now read by meaning
    (
        "Vi har kun 5 minutter, så hurtigt nu.",
        "Jeg skal lige finde papirerne.",
        "da",
        {"rushing"},
        set(),
    ),
    (
        "Hvorfor mødte du ikke op? Det lyder som en undskyldning.",
        "Jeg var syg.",
        "da",
        {"suspicion"},
        set(),
    ),
    ("Hvad er vigtigst for dig lige nu?", "Jeg ved det ikke.", "da", {"asks_what_matters"}, set()),
    ("What matters most to you?", "Everything's a mess.", "en", {"asks_what_matters"}, set()),
    ("Hvad er du god til?", "Ikke noget.", "da", {"asks_strengths"}, set()),
    ("Må jeg spørge ind til din ryg?", "Den er dårlig.", "da", {"asks_permission"}, set()),
    (
        "Hvem har du at ringe til, når det er svært?",
        "Jeg klarer mig.",
        "da",
        {"asks_network"},
        set(),
    ),
    # invitation is not proposal; a proposal is an offer
    (
        "Hvis du selv skulle lave planen, hvor ville du starte?",
        "Jeg er træt af andres planer.",
        "da",
        {"invites_solution"},
        {"proposes_plan", "directive"},
    ),
    (
        "What would a first step be for you?",
        "I don't know where to start.",
        "en",
        {"invites_solution"},
        {"directive"},
    ),
    (
        "Hvad med at vi ringer til udlejeren sammen i morgen?",
        "Jeg tør ikke ringe.",
        "da",
        {"proposes_plan"},
        {"directive"},
    ),
    (
        "Jeg foreslår, at du flytter til Grønland og bliver fisker.",
        "Jeg ved ikke, hvad jeg vil.",
        "da",
        {"proposes_plan"},
        set(),
    ),
]


# Turns the shipped model still reads wrong (probabilities when last trained). Strict xfail:
# the day the model reads one right, its test fails until it is taken off this list.
KNOWN_MISSES: dict[str, str] = {
    "That is not lack of integration, that is being a mother.": "labelling p 0.78",
    "Jeg kom ind ad døren og begyndte at kontrollere dig, og det er ikke det, jeg er her for.": "repair p 0.36, suspicion p 0.57",
    "Jeg foreslår, at du flytter til Grønland og bliver fisker.": "no move above 0.2",
    "Hvorfor mødte du ikke op? Det lyder som en undskyldning.": "suspicion p 0.27",
}


def _param(case: tuple) -> object:
    miss = KNOWN_MISSES.get(case[0])
    marks = [pytest.mark.xfail(strict=True, reason=f"known misreading: {miss}")] if miss else []
    return pytest.param(*case, id=case[0][:40], marks=marks)


@pytest.mark.parametrize(("text", "prev", "lang", "must", "must_not"), [_param(c) for c in CASES])
def test_reading_of_known_turns(
    text: str, prev: str | None, lang: str, must: set[str], must_not: set[str]
) -> None:
    r = get_reader().read(text, prev, lang)
    probs = {m: r.moves[m].p for m in must | must_not}
    assert must <= r.present, probs
    assert not (must_not & r.present), probs


def test_uptake_tells_listening_from_asking() -> None:
    prev = "Min datter vil ikke tale med mig mere, siden hun flyttede."
    listening = get_reader().read(
        "Din datter vil ikke tale med dig – hvordan er det for dig?", prev, "da"
    )
    asking = get_reader().read("Hvad er vigtigt for dig i forhold til din jobsøgning?", prev, "da")
    assert listening.uptake > asking.uptake
