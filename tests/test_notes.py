"""Supervision notes: language, quotes, alternatives, turning points, citizen voice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from base.models import Transcript, Turn
from coach.exemplars import load_bank
from coach.notes import coach_session, make_notes
from coach.rubric import load_rubric
from coach.scoring import score_transcript
from reading import get_reader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "coach"


def load(name: str) -> Transcript:
    return Transcript.model_validate_json((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reader():
    return get_reader()


@pytest.mark.parametrize(
    ("lang", "marker", "other"),
    [
        ("da", "Samlet relationel score", "Overall relational score"),
        ("en", "Overall relational score", "Samlet relationel score"),
    ],
)
def test_notes_are_in_the_sessions_language(reader, lang: str, marker: str, other: str) -> None:
    tr = load(f"{lang}_system")
    report = coach_session(tr, reader=reader, citizen_voice="  voice text  ")
    notes = report.notes
    assert notes is not None
    assert notes.language == lang
    assert marker in notes.summary
    assert other not in notes.summary
    assert len(notes.reflective_questions) == 3
    assert len(set(notes.reflective_questions)) == 3
    # the goal names this conversation: a quote of one of its turns
    quoted = re.findall(r"«([^»]+)»|“([^”]+)”", notes.next_goal)
    assert any(
        q and q.lower() in turn.text.lower() for pair in quoted for q in pair for turn in tr.turns
    )
    assert notes.citizen_voice == "voice text"


@pytest.mark.parametrize("lang", ["da", "en"])
def test_growth_points_quote_the_turn_and_offer_an_exemplary_alternative(reader, lang: str) -> None:
    tr = load(f"{lang}_system")
    report = score_transcript(tr, reader=reader)
    notes = make_notes(report, tr)
    rubric = load_rubric(lang)
    lines = {line for s in load_bank(lang).situations for line in s.lines}
    assert 1 <= len(notes.growth_points) <= 3
    for g in notes.growth_points:
        assert tr.turns[g.turn].speaker == "practitioner"
        assert g.quote in tr.turns[g.turn].text
        assert any(line in g.alternative for line in lines)  # from the bank of moves
        assert rubric.principle(g.principle).title in g.text
    assert len({g.indicator for g in notes.growth_points}) == len(notes.growth_points)
    assert len({g.turn for g in notes.growth_points}) == len(notes.growth_points)
    assert len({g.alternative for g in notes.growth_points}) == len(notes.growth_points)


def test_relational_session_has_things_that_went_well_with_quotes(reader) -> None:
    tr = load("en_relational")
    notes = make_notes(score_transcript(tr, reader=reader), tr)
    assert len(notes.went_well) >= 2
    for item in notes.went_well:
        assert item.turn is not None
        assert item.quote in tr.turns[item.turn].text


def test_turning_points_follow_the_trust_trajectory(reader) -> None:
    turns = [
        Turn(speaker="practitioner", text="Hvordan har du det?"),
        Turn(speaker="citizen", text="Okay.", trust=0.4),
        Turn(speaker="practitioner", text="Det lyder hårdt."),
        Turn(speaker="citizen", text="Ja.", trust=0.42),
        Turn(speaker="practitioner", text="Kan du dokumentere det?"),
        Turn(speaker="citizen", text="Hvad?", trust=0.2),
        Turn(speaker="practitioner", text="Tak fordi du fortæller det."),
        Turn(speaker="citizen", text="Nå.", trust=0.35),
    ]
    tr = Transcript(language="da", turns=turns)
    notes = make_notes(score_transcript(tr, reader=reader), tr)
    got = [(tp.turn, tp.before, tp.after, tp.quote) for tp in notes.turning_points]
    assert got == [
        (5, 0.42, 0.2, "Kan du dokumentere det?"),
        (7, 0.2, 0.35, "Tak fordi du fortæller det."),
    ]
    assert "faldt" in notes.turning_points[0].text
    assert "steg" in notes.turning_points[1].text


@pytest.mark.parametrize("lang", ["da", "en"])
def test_notes_for_a_session_without_practitioner_turns(reader, lang: str) -> None:
    tr = Transcript(language=lang, turns=[Turn(speaker="citizen", text="Hej")])
    report = coach_session(tr, reader=reader)
    assert report.notes is not None
    assert report.notes.summary == report.message
    assert len(report.notes.reflective_questions) == 3
    assert report.notes.growth_points == []
    assert report.notes.went_well == []
