"""Conversation signals, ownership by meaning and the calibrated overall (issue #12).

Each test names the rule it guards; removing the rule makes it fail:

| rule (coach.signals / coach.overall)                         | test                                  |
|--------------------------------------------------------------|---------------------------------------|
| an answer is taken up only with the citizen's words + uptake | test_asked_and_listened_vs_not        |
| an agenda move overrides the take-up                         | test_asked_and_listened_vs_not        |
| an idea that never reaches the plan is shelved               | test_shelved_idea_and_adopted_plan    |
| the citizen's words reaching the plan make it theirs         | test_citizen_plan_followed            |
| the practitioner naming the problem first owns it            | test_problem_named_by_practitioner    |
| a repair after a controlling move is rupture and repair      | test_rupture_and_repair               |
| citizen sentences are read by meaning, not cue words         | test_citizen_sentence_reading         |
| the overall uses the range; the band holds it                | test_calibrated_overall_uses_range    |
| a broken training file names itself                          | test_broken_session_file_names_itself |
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.models import Transcript, Turn
from coach.rubric import load_rubric
from coach.scoring import read_turns, score_transcript
from coach.signals import analyse, overlap
from reading import get_reader
from reading.citizen import get_citizen_reader

FIXTURES = Path(__file__).parent / "fixtures" / "coach"


def _tr(turns: list[tuple[str, str]], lang: str = "en") -> Transcript:
    return Transcript(language=lang, turns=[Turn(speaker=s, text=t) for s, t in turns])


def _analysis(turns: list[tuple[str, str]], lang: str = "en"):
    tr = _tr(turns, lang)
    return analyse(tr, read_turns(tr, get_reader()), load_rubric(lang))


ASK = "What matters most to you right now?"
ANSWER = (
    "Honestly, the forklift certificate. The exam is in three weeks and my uncle works at the port."
)


def test_asked_and_listened_vs_not() -> None:
    listened = _analysis(
        [
            ("practitioner", ASK),
            ("citizen", ANSWER),
            (
                "practitioner",
                "The forklift exam in three weeks, and your uncle at the port. "
                "Tell me more about what that job would mean to you.",
            ),
            ("citizen", "It would mean I could stand on my own feet."),
        ]
    )
    ignored = _analysis(
        [
            ("practitioner", ASK),
            ("citizen", ANSWER),
            (
                "practitioner",
                "You must attend the four-week job-search course from Monday, "
                "otherwise your benefit will be stopped.",
            ),
            ("citizen", "Fine."),
        ]
    )
    assert listened.asks
    assert listened.asks[0][2] is True
    assert ignored.asks
    assert ignored.asks[0][2] is False
    assert "asked_not_listened" in [p.kind for p in ignored.patterns]
    assert "asked_not_listened" not in [p.kind for p in listened.patterns]
    assert overlap(ANSWER, "the forklift exam", "en") > 0


def test_shelved_idea_and_adopted_plan() -> None:
    a = _analysis(
        [
            ("practitioner", "Hvad tænker du selv, der kunne hjælpe dig videre?"),
            (
                "citizen",
                "Jeg vil gerne tage truckcertifikatet, så kan jeg søge job på havnen.",
            ),
            (
                "practitioner",
                "Det er en fin tanke, men du skal på jobsøgningskursus i fire uger fra mandag.",
            ),
            ("citizen", "Okay."),
            (
                "practitioner",
                "Så planen er jobsøgningskurset fra mandag kl. 8.30, og jeg skriver det ind "
                "i din jobplan.",
            ),
            ("citizen", "Ja."),
        ],
        "da",
    )
    assert a.ownership.plan.by == "citizen"
    assert a.ownership.adopted_plan.by == "practitioner"
    assert a.shelved
    assert a.shelved[0][0] == 1
    assert "shelved_idea" in [p.kind for p in a.patterns]


def test_citizen_plan_followed() -> None:
    a = _analysis(
        [
            ("practitioner", "Hvad tænker du selv, der kunne hjælpe dig videre?"),
            (
                "citizen",
                "Jeg vil gerne tage truckcertifikatet, så kan jeg søge job på havnen.",
            ),
            ("practitioner", "Truckcertifikatet. Hvad skal der til, for at du kan tage det?"),
            ("citizen", "Penge til eksamen, og at nogen passer min søn om tirsdagen."),
            (
                "practitioner",
                "Så vi skriver i planen, at du tager truckcertifikatet, og jeg undersøger, "
                "om vi kan betale eksamen.",
            ),
            ("citizen", "Det lyder godt."),
        ],
        "da",
    )
    assert a.ownership.adopted_plan.by == "citizen"
    assert a.ownership.adopted_plan.turn == 1
    assert "citizen_plan_followed" in [p.kind for p in a.patterns]
    assert not a.shelved


def test_problem_named_by_practitioner() -> None:
    tr = Transcript.model_validate_json((FIXTURES / "da_system.json").read_text(encoding="utf-8"))
    a = analyse(tr, read_turns(tr, get_reader()), load_rubric("da"))
    assert a.ownership.problem.by == "practitioner"
    assert a.ownership.adopted_plan.by == "practitioner"


def test_rupture_and_repair() -> None:
    a = _analysis(
        [
            (
                "practitioner",
                "Are you sure you're not drinking again? The school says you smelled of it.",
            ),
            ("citizen", "So that's what this is. You think I'm lying."),
            (
                "practitioner",
                "I'm sorry. I came in and started checking up on you, and that's not what I'm "
                "here for. Can we start again?",
            ),
            ("citizen", "Okay. Maybe."),
        ]
    )
    assert a.signals.ruptures >= 1
    assert a.signals.repairs >= 1
    assert "rupture_and_repair" in [p.kind for p in a.patterns]


def test_citizen_sentence_reading() -> None:
    r = get_citizen_reader()
    accept, own, other = r.read(
        [
            "Så må jeg vel tage det kursus, hvis det er det, I vil.",
            "Jeg kunne godt tænke mig at prøve at arbejde på et lager om formiddagen.",
            "Jeg bor i Valby med mine to drenge.",
        ],
        ["Du skal på kursus fra mandag.", "Hvad tænker du selv?", "Hvor bor du?"],
    )
    assert own["idea"] > 0.5
    assert accept["idea"] < own["idea"]
    assert other["other"] > 0.5


@pytest.mark.parametrize("lang", ["da", "en"])
def test_calibrated_overall_uses_range(lang: str) -> None:
    system = Transcript.model_validate_json(
        (FIXTURES / f"{lang}_system.json").read_text(encoding="utf-8")
    )
    relational = Transcript.model_validate_json(
        (FIXTURES / f"{lang}_relational.json").read_text(encoding="utf-8")
    )
    low = score_transcript(system)
    high = score_transcript(relational)
    assert low.overall is not None
    assert high.overall is not None
    assert low.overall < 25
    assert high.overall > 55
    assert min(p.score for p in low.principles) == 1
    for rep in (low, high):
        assert rep.overall_band is not None
        lo, hi = rep.overall_band
        assert lo <= rep.overall <= hi
        assert hi - lo > 0
    formula = score_transcript(system, calibrated=False)
    assert formula.overall_band is None


def test_broken_session_file_names_itself(tmp_path: Path) -> None:
    from coach.train import load_sessions

    (tmp_path / "tc-bad.json").write_text(json.dumps({"id": "x", "turns": []}), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"tc-bad\.json"):
        load_sessions(tmp_path)
