"""Scoring: relational vs system practice, MITI figures, ownership, trust, edge cases."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from coach.coder import Coded, get_coder
from coach.rubric import load_rubric
from coach.schema import Rubric
from coach.scoring import MITI_THRESHOLDS, _level, score_transcript
from practice.models import Transcript, Turn

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "coach"


def load(name: str) -> Transcript:
    return Transcript.model_validate_json((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def coder():
    return get_coder()


class HandCoder:
    """A hand-labelled toy coder: text -> (label, flags). The labels are the ground truth."""

    name = "hand"

    def __init__(self, labels: dict[str, tuple[str, set[str]]]):
        self.labels = labels
        self.calls = 0

    def code_many(self, items, language="da"):
        self.calls += 1
        out = []
        for text, _prev in items:
            label, flags = self.labels[text]
            out.append(Coded(label=label, confidence=1.0, flags=frozenset(flags)))
        return out


def conv(lang: str, *turns: tuple[str, str], trust: list[float] | None = None) -> Transcript:
    trust_iter = iter(trust or [])
    out = []
    for speaker, text in turns:
        tv = next(trust_iter, None) if speaker == "citizen" else None
        out.append(Turn(speaker=speaker, text=text, trust=tv))
    return Transcript(language=lang, turns=out)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_relational_and_system_practice_score_clearly_apart(coder, lang: str) -> None:
    rel = score_transcript(load(f"{lang}_relational"), coder=coder)
    sys_ = score_transcript(load(f"{lang}_system"), coder=coder)
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
def test_evidence_quotes_are_verbatim_and_point_at_turns(coder, name: str) -> None:
    tr = load(name)
    report = score_transcript(tr, coder=coder)
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


def test_report_round_trips_as_json(coder) -> None:
    report = score_transcript(load("da_relational"), coder=coder)
    again = type(report).model_validate_json(report.model_dump_json())
    assert again == report
    json.loads(report.model_dump_json())  # plain JSON (no inf/nan)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_no_practitioner_turns_gives_a_valid_report_that_says_so(coder, lang: str) -> None:
    for tr in (
        conv(lang, ("citizen", "Hej."), ("citizen", "Er der nogen?"), trust=[0.4, 0.3]),
        Transcript(language=lang, turns=[]),
    ):
        report = score_transcript(tr, coder=coder)
        assert report.status == "no_practitioner_turns"
        assert report.overall is None
        assert report.principles == []
        assert report.message
        assert report.practitioner_turns == 0
        assert report.summary.questions == 0
        assert report.summary.reflection_to_question is None
        assert all(b is None for b in report.behaviours)
    assert [p.trust for p in score_transcript(tr, coder=coder).trust] == []


def test_few_turns_are_marked_uncertain(coder) -> None:
    tr = conv("en", ("practitioner", "Hello."), ("citizen", "Hi."))
    report = score_transcript(tr, coder=coder)
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
    ("practitioner", "R5 complex, well done", "complex_reflection", set()),
]


def test_miti_on_a_hand_labelled_toy_transcript() -> None:
    coder = HandCoder({text: (label, flags) for _, text, label, flags in TOY if label})
    tr = conv("en", *[(s, text) for s, text, _, _ in TOY])
    report = score_transcript(tr, coder=coder)
    s = report.summary
    assert coder.calls == 1  # batched
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
    # adherent: asks permission (P1) + affirms ("well done" in R5)
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
    coder = HandCoder({"So it is hard.": ("complex_reflection", set())})
    report = score_transcript(conv("en", ("practitioner", "So it is hard.")), coder=coder)
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
def test_ownership_of_problem_and_plan(coder, name: str, problem: str, plan: str) -> None:
    tr = load(name)
    own = score_transcript(tr, coder=coder).ownership
    assert own.problem.by == problem
    assert own.plan.by == plan
    assert own.method
    for ev in (own.problem, own.plan):
        assert tr.turns[ev.turn].speaker == ev.by
        assert ev.quote in tr.turns[ev.turn].text


def test_ownership_ignores_questions_and_uses_labels() -> None:
    texts = {
        "Hvad er dit problem, tænker du?": ("open_question", set()),
        "Du kunne prøve et kursus, eller tale med din læge.": ("options", set()),
    }
    tr = conv(
        "da",
        ("practitioner", "Hvad er dit problem, tænker du?"),
        ("citizen", "Det sværeste er, at jeg ikke sover."),
        ("practitioner", "Du kunne prøve et kursus, eller tale med din læge."),
        ("citizen", "Jeg vil gerne prøve kurset."),
    )
    own = score_transcript(tr, coder=HandCoder(texts)).ownership
    assert (own.problem.by, own.problem.turn) == ("citizen", 1)  # the question did not count
    assert (own.plan.by, own.plan.turn, own.plan.cue) == ("practitioner", 2, "options")


def test_nobody_names_anything() -> None:
    tr = conv("en", ("practitioner", "Hello there."), ("citizen", "Hi."))
    own = score_transcript(tr, coder=HandCoder({"Hello there.": ("other", set())})).ownership
    assert own.problem.by is None
    assert own.plan.by is None


def test_trust_trajectory_is_reported_and_counts_for_trust(coder) -> None:
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
    r_up, r_down = score_transcript(up, coder=coder), score_transcript(down, coder=coder)
    assert [(p.turn, p.trust) for p in r_up.trust] == [(1, 0.2), (3, 0.7)]
    t_up = r_up.principle("trust_not_suspicion")
    t_down = r_down.principle("trust_not_suspicion")
    assert t_up.raw > t_down.raw
    assert any(e.indicator == "trust" and e.polarity == "for" for e in t_up.evidence)


def test_scoring_is_driven_by_the_rubric_data(coder) -> None:
    tr = load("da_system")
    rubric = load_rubric("da")
    data = rubric.model_dump()
    for p in data["principles"]:
        if p["id"] == "person_not_case":
            for c in p["counter_indicators"]:
                if c["id"] == "jargon":
                    c["detect"] = {"cues": [r"\bxyzzy\b"]}  # never matches
    edited = Rubric.model_validate(data)
    base = score_transcript(tr, coder=coder).principle("person_not_case")
    without = score_transcript(tr, rubric=edited, coder=coder).principle("person_not_case")
    assert any(e.indicator == "jargon" for e in base.evidence)
    assert not any(e.indicator == "jargon" for e in without.evidence)
    assert without.raw > base.raw


class _PrecodedCoder:
    """Returns labels computed beforehand: isolates the cost of the scoring itself."""

    name = "precoded"

    def __init__(self, coded: list[Coded]):
        self.coded = coded

    def code_many(self, items, language="da"):
        return self.coded[: len(items)]


def _forty_turns(tag: str) -> Transcript:
    base = load("da_relational").turns
    turns = [
        Turn(speaker=t.speaker, text=f"{t.text} ({tag}{i})", trust=t.trust)
        for i, t in enumerate((base * 3)[:40])
    ]
    return Transcript(language="da", turns=turns)


def test_scoring_overhead_of_forty_turns_is_small(coder) -> None:
    tr = _forty_turns("a")
    prac = [i for i, t in enumerate(tr.turns) if t.speaker == "practitioner"]
    coded = coder.code_many([(tr.turns[i].text, tr.previous_citizen(i)) for i in prac], "da")
    fast = _PrecodedCoder(coded)
    score_transcript(tr, coder=fast)  # warm (regexes, locale files)
    best = min(_timed(lambda: score_transcript(tr, coder=fast)) for _ in range(3))
    assert best < 0.3, f"{best:.3f}s without the coder"


@pytest.mark.slow
def test_forty_fresh_turns_score_under_one_and_a_half_seconds_warm(coder) -> None:
    """Target: a 40-turn transcript in < 1.5 s once the models are loaded (2 cores).

    Each run uses fresh texts so no embedding cache helps. The figure is the smaller of wall
    time and this process's CPU time, so that other work on a busy machine does not count.
    """
    score_transcript(_forty_turns("warm"), coder=coder)  # loads the coder and the embedder
    runs = []
    for k in range(3):
        tr = _forty_turns(f"r{k}")
        cpu0, wall0 = _cpu(), time.perf_counter()
        score_transcript(tr, coder=coder)
        runs.append(min(time.perf_counter() - wall0, _cpu() - cpu0))
    assert min(runs) < 1.5, [f"{r:.2f}s" for r in runs]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_trust_evidence_quotes_a_turn_that_moved_trust_the_same_way(coder) -> None:
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
    ps = score_transcript(tr, coder=coder).principle("trust_not_suspicion")
    trust_ev = [e for e in ps.evidence if e.indicator == "trust"]
    assert trust_ev[0].polarity == "for"
    assert trust_ev[0].turn in (4, 6)  # a rise, never the turn before the fall (2)
