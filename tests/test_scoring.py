"""Scoring: relational vs system practice, MITI figures, ownership, trust, edge cases.

The coach reads practitioner turns only through ``reading``: most rules are tested with
hand-made readings (tests/helpers_reading.py), and the behaviours that matter on hard turns
(a relieving "du skal ikke…", a quoted label, empty phrases around a dictated plan) with
the shipped reading model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.models import Transcript, Turn
from coach.rubric import load_rubric
from coach.schema import Rubric
from coach.scoring import MITI_THRESHOLDS, _level, reader_name, score_transcript
from reading import get_reader
from tests.helpers_reading import HandReader, PrecomputedReader, hand_reading

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "coach"


def load(name: str) -> Transcript:
    return Transcript.model_validate_json((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reader():
    return get_reader()


def conv(lang: str, *turns: tuple[str, str], trust: list[float] | None = None) -> Transcript:
    trust_iter = iter(trust or [])
    out = []
    for speaker, text in turns:
        tv = next(trust_iter, None) if speaker == "citizen" else None
        out.append(Turn(speaker=speaker, text=text, trust=tv))
    return Transcript(language=lang, turns=out)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_relational_and_system_practice_score_clearly_apart(reader, lang: str) -> None:
    rel = score_transcript(load(f"{lang}_relational"), reader=reader)
    sys_ = score_transcript(load(f"{lang}_system"), reader=reader)
    assert rel.status == sys_.status == "ok"
    assert rel.overall is not None
    assert sys_.overall is not None
    assert rel.overall >= 65, rel.overall
    assert sys_.overall <= 35, sys_.overall
    assert rel.overall - sys_.overall >= 40
    for pr, ps in zip(rel.principles, sys_.principles, strict=True):
        assert pr.id == ps.id
        assert pr.score > ps.score, (pr.id, pr.score, ps.score, pr.rationale, ps.rationale)
        assert pr.score >= 3, (pr.id, pr.rationale)
        assert ps.score <= 3, (ps.id, ps.rationale)
    n = len(rel.principles)
    assert sum(p.score for p in rel.principles) / n >= 3.8
    assert sum(p.score for p in sys_.principles) / n <= 2.2


@pytest.mark.parametrize("name", ["da_relational", "da_system", "en_relational", "en_system"])
def test_evidence_quotes_are_verbatim_and_point_at_turns(reader, name: str) -> None:
    tr = load(name)
    report = score_transcript(tr, reader=reader)
    assert report.rubric_id == "relational"
    assert report.rubric_version == load_rubric(tr.language).version
    assert report.language == tr.language
    n_evidence = 0
    for ps in report.principles:
        assert 1 <= ps.score <= 5
        assert 0 <= ps.confidence <= 1
        assert ps.rationale
        for ev in ps.evidence:
            n_evidence += 1
            assert 0 <= ev.turn < len(tr.turns)
            assert ev.quote
            assert ev.quote in tr.turns[ev.turn].text
    assert n_evidence >= 7
    assert len(report.behaviours) == len(tr.turns)
    for turn, b in zip(tr.turns, report.behaviours, strict=True):
        assert (b is None) == (turn.speaker == "citizen")


def test_report_round_trips_as_json(reader) -> None:
    report = score_transcript(load("da_relational"), reader=reader)
    again = type(report).model_validate_json(report.model_dump_json())
    assert again == report
    json.loads(report.model_dump_json())  # plain JSON (no inf/nan)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_no_practitioner_turns_gives_a_valid_report_that_says_so(reader, lang: str) -> None:
    for tr in (
        conv(lang, ("citizen", "Hej."), ("citizen", "Er der nogen?"), trust=[0.4, 0.3]),
        Transcript(language=lang, turns=[]),
    ):
        report = score_transcript(tr, reader=reader)
        assert report.status == "no_practitioner_turns"
        assert report.overall is None
        assert report.principles == []
        assert report.message
        assert report.practitioner_turns == 0
        assert report.summary.questions == 0
        assert report.summary.reflection_to_question is None
        assert all(b is None for b in report.behaviours)
    assert [p.trust for p in score_transcript(tr, reader=reader).trust] == []


def test_few_turns_are_marked_uncertain(reader) -> None:
    tr = conv("en", ("practitioner", "Hello."), ("citizen", "Hi."))
    report = score_transcript(tr, reader=reader)
    assert report.status == "ok"
    assert all(p.insufficient_evidence for p in report.principles)
    assert all(p.confidence < 0.5 for p in report.principles)
    assert "Insufficient evidence" in report.principles[0].rationale


TOY = [
    ("practitioner", "Q1 open", "open_question", set()),
    ("citizen", "c1", None, None),
    ("practitioner", "R1 simple", "simple_reflection", set()),
    ("practitioner", "R2 complex", "complex_reflection", set()),
    ("practitioner", "Q2 open", "open_question", set()),
    ("citizen", "c2", None, None),
    ("practitioner", "R3 complex", "complex_reflection", set()),
    ("practitioner", "Q3 closed", "closed_question", set()),
    ("practitioner", "R4 simple", "simple_reflection", set()),
    ("practitioner", "Q4 open", "open_question", set()),
    ("practitioner", "P1 may I share an idea", "closed_question", {"asks_permission"}),
    ("citizen", "c3", None, None),
    ("practitioner", "A1 advice after permission", "advice", set()),
    ("practitioner", "A2 advice out of the blue", "advice", set()),
    ("practitioner", "D1 do it now", "information", {"directive"}),
    ("practitioner", "S1 suspicion", "information", {"suspicion"}),
    ("practitioner", "R5 complex, well done", "complex_reflection", {"affirms"}),
]


def test_miti_on_a_hand_labelled_toy_transcript() -> None:
    reader = HandReader({text: (label, moves) for _, text, label, moves in TOY if label})
    tr = conv("en", *[(s, text) for s, text, _, _ in TOY])
    report = score_transcript(tr, reader=reader)
    s = report.summary
    assert len(reader.calls) == 1  # batched: one read_many call for the transcript
    assert [text for text, _prev in reader.calls[0]] == [
        text for speaker, text, _, _ in TOY if speaker == "practitioner"
    ]
    assert reader.calls[0][0] == ("Q1 open", None)
    assert reader.calls[0][1] == ("R1 simple", "c1")  # with the citizen turn before it
    # 5 questions (3 open + 1 closed + permission coded closed), 5 reflections (2 simple, 3 complex)
    assert s.questions == 5
    assert s.reflections == 5
    assert s.reflection_to_question == 1.0
    assert s.pct_open_questions == 60.0
    assert s.pct_complex_reflections == 60.0
    levels = {m.id: m.level for m in s.metrics}
    assert levels == {
        "reflection_to_question": "fair",  # 1:1 is fair, 2:1 good
        "pct_open_questions": "fair",  # MITI 3.1.1: fair 50, good 70
        "pct_complex_reflections": "good",  # fair 40, good 50
    }
    assert {m.id: m.source for m in s.metrics}["pct_open_questions"] == "MITI 3.1.1"
    # adherent: asks permission (P1) + affirms (the move in R5)
    assert s.adherent_detail["asks_permission"] == 1
    assert s.adherent_detail["affirm"] == 1
    assert s.mi_adherent == 2
    # non-adherent: A2 (advice without permission), D1 (directive), S1 (confront); A1 is fine
    assert s.non_adherent_detail == {"confront": 1, "directive": 1, "advice_without_permission": 1}
    assert s.mi_non_adherent == 3
    assert report.behaviours[0] == "open_question"
    assert report.behaviours[1] is None


def test_miti_thresholds_and_levels() -> None:
    assert MITI_THRESHOLDS["reflection_to_question"][:2] == (1.0, 2.0)
    assert MITI_THRESHOLDS["pct_complex_reflections"][:2] == (40.0, 50.0)
    assert MITI_THRESHOLDS["pct_open_questions"][:2] == (50.0, 70.0)
    assert _level("reflection_to_question", 0.99) == "below_fair"
    assert _level("reflection_to_question", 1.0) == "fair"
    assert _level("reflection_to_question", 2.0) == "good"
    assert _level("pct_open_questions", 69.9) == "fair"
    assert _level("pct_complex_reflections", None) is None


def test_only_reflections_no_questions() -> None:
    reader = HandReader({"So it is hard.": ("complex_reflection", set())})
    report = score_transcript(conv("en", ("practitioner", "So it is hard.")), reader=reader)
    rq = next(m for m in report.summary.metrics if m.id == "reflection_to_question")
    assert rq.value is None
    assert rq.level == "good"


@pytest.mark.parametrize(
    ("name", "problem", "plan"),
    [
        ("da_relational", "citizen", "citizen"),
        ("en_relational", "citizen", "citizen"),
        ("da_system", "practitioner", "practitioner"),
        ("en_system", "practitioner", "practitioner"),
    ],
)
def test_ownership_of_problem_and_plan(reader, name: str, problem: str, plan: str) -> None:
    tr = load(name)
    own = score_transcript(tr, reader=reader).ownership
    assert own.problem.by == problem
    assert own.plan.by == plan
    assert own.method
    for ev in (own.problem, own.plan):
        assert tr.turns[ev.turn].speaker == ev.by
        assert ev.quote in tr.turns[ev.turn].text


def test_ownership_ignores_questions_and_uses_labels() -> None:
    texts = {
        # the reading finds labelling, but in a question: it does not name the problem
        "Hvad er dit problem, tænker du?": ("open_question", {"labelling"}),
        "Du kunne prøve et kursus, eller tale med din læge.": ("options", set()),
    }
    tr = conv(
        "da",
        ("practitioner", "Hvad er dit problem, tænker du?"),
        ("citizen", "Det sværeste er, at jeg ikke sover."),
        ("practitioner", "Du kunne prøve et kursus, eller tale med din læge."),
        ("citizen", "Jeg vil gerne prøve kurset."),
    )
    own = score_transcript(tr, reader=HandReader(texts)).ownership
    assert (own.problem.by, own.problem.turn) == ("citizen", 1)  # the question did not count
    assert (own.plan.by, own.plan.turn, own.plan.cue) == ("practitioner", 2, "options")


def test_practitioner_ownership_comes_from_the_moves_of_the_reading() -> None:
    stated = "Du er umotiveret. Hvad siger du til det?"
    tr = conv(
        "da",
        ("practitioner", stated),
        ("citizen", "Det sværeste er morgenerne."),
        ("practitioner", "Hvad med at vi ringer til skolen sammen i morgen?"),
        ("citizen", "Jeg vil gerne prøve."),
    )
    reader = HandReader(
        {
            stated: ("closed_question", {"labelling"}, {"labelling": "Du er umotiveret."}),
            "Hvad med at vi ringer til skolen sammen i morgen?": ("negotiation", {"proposes_plan"}),
        }
    )
    own = score_transcript(tr, reader=reader).ownership
    # labelling in a statement names the problem, even in a turn that ends with a question
    assert (own.problem.by, own.problem.turn, own.problem.cue) == ("practitioner", 0, "labelling")
    assert own.problem.quote == "Du er umotiveret."
    # a proposal offered as a question still names the plan first
    assert (own.plan.by, own.plan.turn, own.plan.cue) == ("practitioner", 2, "proposes_plan")
    # without the moves, the same words name nothing for the practitioner
    plain = HandReader(
        {stated: ("closed_question", set()), tr.turns[2].text: ("negotiation", set())}
    )
    own = score_transcript(tr, reader=plain).ownership
    assert own.problem.by != "practitioner"
    assert own.plan.by != "practitioner"


def test_plan_labels_need_the_rubrics_minimum_confidence() -> None:
    text = "Du kunne prøve et kursus."
    tr = conv("da", ("practitioner", text), ("citizen", "Måske."))
    minimum = load_rubric("da").ownership.practitioner_plan_min_confidence
    assert minimum > 0.1

    def plan_by(confidence: float) -> str | None:
        reading = hand_reading(text, "advice", confidence=confidence)
        return score_transcript(tr, reader=PrecomputedReader([reading])).ownership.plan.by

    assert plan_by(minimum + 0.05) == "practitioner"
    assert plan_by(minimum - 0.1) is None


def test_citizen_cues_are_not_read_on_practitioner_turns() -> None:
    # "jeg vil gerne" / "I'd like to" are citizen plan cues; said by the worker they mean nothing
    texts = {
        "Jeg vil gerne høre, hvordan din uge har været.": ("open_question", set()),
        "Det sværeste er at vente, tænker jeg.": ("other", set()),
    }
    tr = conv(
        "da",
        ("practitioner", "Jeg vil gerne høre, hvordan din uge har været."),
        ("citizen", "Fin nok."),
        ("practitioner", "Det sværeste er at vente, tænker jeg."),
        ("citizen", "Ja."),
    )
    own = score_transcript(tr, reader=HandReader(texts)).ownership
    assert own.problem.by is None
    assert own.plan.by is None


def test_nobody_names_anything() -> None:
    tr = conv("en", ("practitioner", "Hello there."), ("citizen", "Hi."))
    own = score_transcript(tr, reader=HandReader({"Hello there.": ("other", set())})).ownership
    assert own.problem.by is None
    assert own.plan.by is None


def test_trust_trajectory_is_reported_and_counts_for_trust(reader) -> None:
    texts = ["Hvad tænker du?", "Hvad tænker du?"]
    up = conv(
        "da",
        ("practitioner", texts[0]),
        ("citizen", "Tja."),
        ("practitioner", texts[1]),
        ("citizen", "Ja."),
        trust=[0.2, 0.7],
    )
    down = conv(
        "da",
        ("practitioner", texts[0]),
        ("citizen", "Tja."),
        ("practitioner", texts[1]),
        ("citizen", "Ja."),
        trust=[0.7, 0.2],
    )
    r_up, r_down = score_transcript(up, reader=reader), score_transcript(down, reader=reader)
    assert [(p.turn, p.trust) for p in r_up.trust] == [(1, 0.2), (3, 0.7)]
    t_up = r_up.principle("trust_not_suspicion")
    t_down = r_down.principle("trust_not_suspicion")
    assert t_up.raw > t_down.raw
    assert any(e.indicator == "trust" and e.polarity == "for" for e in t_up.evidence)


def test_scoring_is_driven_by_the_rubric_data(reader) -> None:
    tr = load("da_system")
    rubric = load_rubric("da")
    data = rubric.model_dump()
    for p in data["principles"]:
        if p["id"] == "person_not_case":
            for c in p["counter_indicators"]:
                if c["id"] == "jargon":
                    c["detect"] = None  # nothing detects this counter-indicator any more
    edited = Rubric.model_validate(data)
    base = score_transcript(tr, reader=reader).principle("person_not_case")
    without = score_transcript(tr, rubric=edited, reader=reader).principle("person_not_case")
    assert any(e.indicator == "jargon" for e in base.evidence)
    assert not any(e.indicator == "jargon" for e in without.evidence)
    assert without.raw > base.raw


def test_trust_evidence_quotes_a_turn_that_moved_trust_the_same_way(reader) -> None:
    tr = conv(
        "en",
        ("practitioner", "How are you?"),
        ("citizen", "Fine."),
        ("practitioner", "Can you prove that?"),
        ("citizen", "What?"),
        ("practitioner", "Thank you for telling me."),
        ("citizen", "Okay."),
        ("practitioner", "That sounds really hard."),
        ("citizen", "It is."),
        trust=[0.4, 0.3, 0.6, 0.9],
    )
    ps = score_transcript(tr, reader=reader).principle("trust_not_suspicion")
    trust_ev = [e for e in ps.evidence if e.indicator == "trust"]
    assert trust_ev[0].polarity == "for"
    assert trust_ev[0].turn in (4, 6)  # a rise, never the turn before the fall (2)


# --------------------------------------------------------------------------- the reading's rules


def _three_turns(text: str, lang: str = "da") -> Transcript:
    """`text` as the middle one of three practitioner turns (the others read as 'other')."""
    return conv(
        lang,
        ("practitioner", "Hej."),
        ("citizen", "Hej."),
        ("practitioner", text),
        ("citizen", "Okay."),
        ("practitioner", "Tak for i dag."),
        ("citizen", "Tak."),
    )


def _filler(**labels: tuple) -> HandReader:
    return HandReader({"Hej.": ("other", set()), "Tak for i dag.": ("other", set()), **labels})


def _on_turn(report, turn: int, indicator: str) -> list:
    return [
        e
        for p in report.principles
        for e in p.evidence
        if e.turn == turn and e.indicator == indicator
    ]


def test_a_move_counts_with_its_probability() -> None:
    text = "Du starter på kurset mandag."
    tr = _three_turns(text)

    def raw(p: float) -> float:
        report = score_transcript(tr, reader=_filler(**{text: ("information", {"directive": p})}))
        return report.principle("citizen_shapes_solution").raw

    sure, unsure = raw(0.95), raw(0.6)
    assert sure < unsure < 3.0  # both count against, the surer reading more


def test_a_behaviour_code_counts_with_its_probability() -> None:
    text = "Hvordan ser en god dag ud for dig?"
    tr = _three_turns(text)

    def raw(confidence: float) -> float:
        reading = hand_reading(text, "open_question", confidence=confidence)
        others = [hand_reading(t, "other") for t in ("Hej.", "Tak for i dag.")]
        report = score_transcript(tr, reader=PrecomputedReader([others[0], reading, others[1]]))
        return report.principle("meet_where_they_are").raw

    assert raw(1.0) > raw(0.4)


def test_evidence_quotes_the_sentence_that_carries_the_move() -> None:
    text = "Tak fordi du kom. Du starter på kurset mandag. Vi ses."
    carrier = "Du starter på kurset mandag."
    reader = _filler(**{text: ("information", {"directive"}, {"directive": carrier})})
    report = score_transcript(_three_turns(text), reader=reader)
    ev = _on_turn(report, 2, "prescribes_plan")
    assert [(e.quote, e.polarity, e.by) for e in ev] == [(carrier, "against", "model")]
    assert report.turn_flags[2] == ["directive"]
    assert report.ownership.plan.quote == carrier


def test_unless_moves_cancel_a_match() -> None:
    advice = "Du kunne ringe til lægen."
    asked = "Må jeg komme med et forslag? Du kunne ringe til lægen."
    report = score_transcript(_three_turns(advice), reader=_filler(**{advice: ("advice", set())}))
    assert _on_turn(report, 2, "advice_without_permission")
    report = score_transcript(
        _three_turns(asked), reader=_filler(**{asked: ("advice", {"asks_permission"})})
    )
    assert not _on_turn(report, 2, "advice_without_permission")
    assert _on_turn(report, 2, "asks_permission")


def test_closed_questions_count_against_unless_they_ask_permission() -> None:
    closed = "Har du været hos lægen?"
    permission = "Er det i orden, at jeg fortæller om et kursus?"
    report = score_transcript(
        _three_turns(closed), reader=_filler(**{closed: ("closed_question", set())})
    )
    assert _on_turn(report, 2, "closed_questions")
    report = score_transcript(
        _three_turns(permission),
        reader=_filler(**{permission: ("closed_question", {"asks_permission"})}),
    )
    assert not _on_turn(report, 2, "closed_questions")


def test_an_opening_with_information_is_beginning_with_ones_own_agenda() -> None:
    def opening(label: str, moves: set[str]) -> list:
        text = "Vi skal tale om din situation i dag."
        tr = conv(
            "da",
            ("practitioner", text),
            ("citizen", "Okay."),
            ("practitioner", "Hej."),
            ("citizen", "Hej."),
            ("practitioner", "Tak for i dag."),
        )
        report = score_transcript(tr, reader=_filler(**{text: (label, moves)}))
        ps = report.principle("meet_where_they_are")
        return [(e.polarity, e.turn) for e in ps.evidence if e.indicator == "opening"]

    assert opening("information", set()) == [("against", 0)]
    assert opening("open_question", {"asks_what_matters"}) == [("for", 0)]
    assert opening("other", set()) == []


def test_turn_flags_are_the_present_moves_and_the_report_names_the_reader(reader) -> None:
    text = "Hvad er vigtigst for dig? Godt, jeg har skrevet dig op til praktik."
    hand = _filler(**{text: ("information", {"asks_what_matters", "directive"})})
    report = score_transcript(_three_turns(text), reader=hand)
    assert report.turn_flags == [[], [], ["asks_what_matters", "directive"], [], [], []]
    assert report.coder == "hand"
    tr = load("da_relational")
    real = score_transcript(tr, reader=reader)
    assert real.coder.startswith(reader.manifest["name"])
    assert real.coder == reader_name(reader)
    for i, turn in enumerate(tr.turns):
        if turn.speaker == "practitioner":
            expected = reader.read(turn.text, tr.previous_citizen(i), "da").present
            assert real.turn_flags[i] == sorted(expected), i
        else:
            assert real.turn_flags[i] == []


def test_miti_behaviours_are_the_rubrics_move_lists() -> None:
    text = "Du kan vælge mellem kurset, praktikken eller noget helt tredje."
    tr = _three_turns(text)
    reader = _filler(**{text: ("options", {"offers_options"})})
    rubric = load_rubric("da")
    assert score_transcript(tr, reader=reader).summary.adherent_detail["emphasize_autonomy"] == 1
    data = rubric.model_dump()
    data["miti"]["emphasize_autonomy"] = ["invites_solution"]
    data["miti"]["confront"] = ["offers_options"]  # nonsense, but it is what the data says
    summary = score_transcript(tr, rubric=Rubric.model_validate(data), reader=reader).summary
    assert summary.adherent_detail["emphasize_autonomy"] == 0
    assert summary.non_adherent_detail["confront"] == 1


# --------------------------------------------------------------------------- hard turns (the model)


def _single(lang: str, prev: str | None, text: str) -> tuple[Transcript, int]:
    """A short transcript with `text` as its one practitioner turn, and that turn's index."""
    before = [("citizen", prev)] if prev else []
    return conv(lang, *before, ("practitioner", text), ("citizen", "Okay.")), len(before)


RELIEVING = [
    ("da", None, "Du skal ikke fortælle det hele forfra – jeg har læst det.", False),
    ("da", None, "Du behøver ikke svare nu.", False),
    ("da", None, "Du skal ikke bekymre dig, men du skal møde op mandag.", True),
    ("da", None, "Jeg hører dig. Du starter på kurset mandag.", True),
    ("en", None, "You don't have to tell it all again.", False),
    ("en", None, "You have to attend on Monday.", True),
    (
        "da",
        "Jeg har fortalt det hundrede gange.",
        "Du skal ikke fortælle det hele forfra – jeg har læst det.",
        False,
    ),
    *[
        pytest.param(
            "da",
            prev,
            "Du skal ikke bekymre dig om notatet.",
            False,
            marks=pytest.mark.xfail(
                strict=False,
                reason="reading model reader-v1 (reading-v2 recipe, 2026-12-01) reads this "
                "relieving 'du skal ikke' as a directive (p 0.54-0.89 depending on the citizen "
                "turn before it, scope negated >= 0.9); a model issue, not a coach rule",
            ),
        )
        for prev in (None, "Jeg er bange for, hvad der står i notatet.")
    ],
]


@pytest.mark.parametrize(("lang", "prev", "text", "directive"), RELIEVING)
def test_relieving_a_demand_is_not_a_directive(
    reader, lang: str, prev: str | None, text: str, directive: bool
) -> None:
    tr, i = _single(lang, prev, text)
    report = score_transcript(tr, reader=reader)
    assert ("directive" in report.turn_flags[i]) is directive, report.turn_flags[i]
    assert bool(_on_turn(report, i, "prescribes_plan")) is directive
    assert bool(_on_turn(report, i, "stands_above")) is directive
    assert (report.ownership.plan.by == "practitioner") is directive


@pytest.mark.parametrize(
    ("lang", "text", "labelling"),
    [
        ("da", "Der står 'umotiveret' i sagen. Jeg tror ikke på det ord.", False),
        ("da", "Du virker umotiveret.", True),
        (
            "en",
            "The file says 'non-compliant'. I don't think that word fits what you're telling me.",
            False,
        ),
        ("en", "You are non-compliant.", True),
    ],
)
def test_a_quoted_label_is_not_labelling(reader, lang: str, text: str, labelling: bool) -> None:
    prev = "De skriver altid, at jeg ikke gider." if lang == "da" else "They say I don't cooperate."
    tr, i = _single(lang, prev, text)
    report = score_transcript(tr, reader=reader)
    assert ("labelling" in report.turn_flags[i]) is labelling, report.turn_flags[i]
    assert bool(_on_turn(report, i, "defines_for_them")) is labelling
    assert bool(_on_turn(report, i, "deficit_focus")) is labelling
    assert (report.ownership.problem.by == "practitioner") is labelling


_DICTATED_FIXTURE = json.loads(
    (FIXTURES.parent / "dictated_plan_da.json").read_text(encoding="utf-8")
)
DICTATED = [(t["speaker"], t["text"]) for t in _DICTATED_FIXTURE["turns"]]
EMPTY_PHRASES = list(_DICTATED_FIXTURE["empty_phrases"])


def _padded(how: str) -> list[tuple[str, str]]:
    if how == "each_turn":  # one phrase in front of each dictating turn
        phrases = iter(EMPTY_PHRASES)
        return [(s, f"{next(phrases)} {t}" if s == "practitioner" else t) for s, t in DICTATED]
    if how == "one_turn":  # all four wrapped around the heart of the plan
        out = list(DICTATED)
        speaker, text = out[4]
        out[4] = (speaker, " ".join([*EMPTY_PHRASES[:2], text, *EMPTY_PHRASES[2:]]))
        return out
    # "own_turns": two turns before the plan, two after
    first, last = EMPTY_PHRASES[:2], EMPTY_PHRASES[2:]
    return [
        ("practitioner", first[0]),
        ("citizen", "Nå."),
        ("practitioner", first[1]),
        ("citizen", "Okay."),
        *DICTATED,
        ("practitioner", last[0]),
        ("citizen", "Ja."),
        ("practitioner", last[1]),
        ("citizen", "Tak."),
    ]


@pytest.mark.parametrize("how", ["each_turn", "one_turn", "own_turns"])
def test_empty_relational_phrases_around_a_dictated_plan_do_not_raise_the_score(
    reader, how: str
) -> None:
    plain = score_transcript(conv("da", *DICTATED), reader=reader)
    padded = score_transcript(conv("da", *_padded(how)), reader=reader)
    assert plain.overall is not None
    assert padded.overall is not None
    assert plain.overall <= 35, plain.overall
    assert padded.overall - plain.overall <= 3.0, (plain.overall, padded.overall)
    assert padded.ownership.plan.by == "practitioner"
