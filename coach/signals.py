"""What the conversation shows that no single turn does: asked and listened, the citizen's
ideas and where they went, rupture and repair, talk share, and ownership by meaning.

    analyse(transcript, turns, rubric) -> Analysis

Everything here works on *meaning*, never on a keyword list deciding alone:

- **Taking up an answer.** After a what-matters, strengths or invite-your-solution question
  (moves of the reading), the citizen answers; the worker's next turn *takes it up* when it
  carries the citizen's own content words (Snowball stems) and the reading's uptake is high,
  and it does not push the worker's own agenda (a directive, a sanction, suspicion, a label).
- **The citizen's ideas and problems.** Each citizen sentence is read by the learned
  citizen-sentence reading (:mod:`reading.citizen`, with the practitioner turn before it):
  the citizen's own idea, the citizen's own problem, or neither.
- **The plan.** The plan decided is the last plan put in the conversation (a practitioner turn
  whose reading proposes a plan, dictates or offers options, or a citizen idea). Whose plan
  it is, is decided by comparing its content with the earlier ideas and proposals: the
  citizen's own words reaching the plan make it the citizen's.
- **Rupture and repair.** A controlling move (suspicion, sanction, a label) or a fall in trust,
  followed later by a repair move of the reading.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from base.i18n import t
from base.models import Transcript
from coach.schema import ConversationSignals, Ownership, OwnershipEvent, Pattern, Rubric
from coach.turns import CoachTurn, quote
from reading.citizen import get_citizen_reader
from reading.features import STOP_WORDS
from reading.text import sentences, stem, tokens

OPEN_ASKS = ("asks_what_matters", "asks_strengths", "invites_solution")
AGENDA = ("directive", "sanction", "suspicion", "labelling")
CONTROL = ("suspicion", "sanction", "labelling")
PLAN_MOVES = ("proposes_plan", "directive", "offers_options")
SURFACE = ("affirms", "reflects_feeling", "asks_what_matters", "uses_own_words")

TAKE_UP = 0.4  # take-up at or above this: the worker worked with the answer
AGENDA_P = 0.5  # an agenda move this sure overrides the take-up
CITIZEN_P = 0.4  # the citizen-sentence reading's probability for an idea or a problem
PLAN_OVERLAP = 0.34  # share of an idea's content words that must reach the plan
TRUST_DROP = 0.1


def content_stems(text: str, language: str) -> set[str]:
    """Stems of the words of `text` that carry content (no stop words, no short words)."""
    return {stem(w, language) for w in tokens(text) if w not in STOP_WORDS and len(w) > 2}


def overlap(source: str, target: str, language: str, cap: int = 5) -> float:
    """0..1: how many of `source`'s content words come back in `target` (at most `cap` needed)."""
    src = content_stems(source, language)
    if not src:
        return 0.0
    return min(1.0, len(src & content_stems(target, language)) / min(len(src), cap))


def _sentences(text: str) -> list[str]:
    return [s for a, b in sentences(text) if len(tokens(s := text[a:b].strip())) >= 3]


@dataclass(frozen=True)
class CitizenStatement:
    turn: int
    sentence: str
    kind: str  # "idea" | "problem"
    score: float


@dataclass
class Analysis:
    signals: ConversationSignals
    ownership: Ownership
    patterns: list[Pattern]
    asks: list[tuple[int, int | None, bool]] = field(default_factory=list)  # ask, next, taken up
    gaming_turns: list[int] = field(default_factory=list)
    shelved: list[tuple[int, int]] = field(default_factory=list)  # idea turn, shelving turn
    final_plan: int | None = None


# --------------------------------------------------------------------------- citizen turns


def citizen_statements(transcript: Transcript) -> list[CitizenStatement]:
    """Citizen sentences that put forward an idea of their own or name their own problem,
    read by the learned citizen-sentence reading (:mod:`reading.citizen`) with the
    practitioner turn before each."""
    tt = transcript.turns
    items = []
    for i, tr in enumerate(tt):
        if tr.speaker != "citizen":
            continue
        prev = next((tt[j].text for j in range(i - 1, -1, -1) if tt[j].speaker != "citizen"), None)
        items.extend((i, s, prev) for s in _sentences(tr.text))
    if not items:
        return []
    probs = get_citizen_reader().read([s for _, s, _ in items], [p for _, _, p in items])
    out = []
    for (i, s, _), p in zip(items, probs, strict=True):
        kind = max(("idea", "problem"), key=p.__getitem__)
        if p[kind] >= CITIZEN_P and p[kind] >= p["other"]:
            out.append(CitizenStatement(i, s, kind, p[kind]))
    return out


# --------------------------------------------------------------------------- practitioner turns


def take_up(turn: CoachTurn, answer: str, language: str) -> float:
    """0..1: how far the practitioner turn works with the citizen's answer."""
    return 0.5 * turn.reading.uptake + 0.5 * overlap(answer, turn.text, language)


def _agenda(turn: CoachTurn) -> bool:
    return any(turn.p(m) >= AGENDA_P for m in AGENDA)


def _is_plan(turn: CoachTurn, rubric: Rubric) -> bool:
    """The turn puts a plan: a plan move of the reading, or the rubric's plan codes
    (advice, options) read with at least the rubric's minimum confidence."""
    own = rubric.ownership
    return any(turn.has(m) for m in own.practitioner_plan) or (
        turn.label in own.practitioner_plan_labels
        and turn.reading.confidence >= own.practitioner_plan_min_confidence
    )


def _plan_cue(turn: CoachTurn) -> tuple[str, str]:
    """(cue, quote) of a plan turn: its strongest plan move, else its behaviour code."""
    present = [m for m in PLAN_MOVES if turn.has(m)]
    if present:
        move = max(present, key=turn.p)
        return move, turn.quote_for(move)
    return turn.label, turn.text


def _names_problem(turn: CoachTurn, rubric: Rubric) -> str | None:
    """The move with which the practitioner puts the problem in their own terms, if any."""
    stated = [
        m
        for m in (*rubric.ownership.practitioner_problem, "suspicion", "sanction")
        if turn.has(m) and not turn.quote_for(m).rstrip().endswith("?")
    ]
    return max(stated, key=turn.p) if stated else None


# --------------------------------------------------------------------------- analysis


def analyse(
    transcript: Transcript,
    turns: Sequence[CoachTurn],
    rubric: Rubric,
) -> Analysis:
    lang = transcript.language
    tt = transcript.turns
    by_index = {tr.index: tr for tr in turns}
    statements = citizen_statements(transcript)
    ideas = [s for s in statements if s.kind == "idea"]
    problems = [s for s in statements if s.kind == "problem"]

    # asked and listened
    asks: list[tuple[int, int | None, bool]] = []
    for k, turn in enumerate(turns):
        if not any(turn.has(m) for m in OPEN_ASKS):
            continue
        if turn.index + 1 >= len(tt) or tt[turn.index + 1].speaker != "citizen":
            continue
        answer = tt[turn.index + 1].text
        if len(tokens(answer)) < 3 or k + 1 >= len(turns):
            asks.append((turn.index, None, False))
            continue
        nxt = turns[k + 1]
        ok = take_up(nxt, answer, lang) >= TAKE_UP and not _agenda(nxt)
        asks.append((turn.index, nxt.index, ok))
    judged = [a for a in asks if a[1] is not None]
    taken = [a for a in judged if a[2]]

    # gaming: relational surface with the worker's agenda in the same turn
    gaming = [
        tr.index
        for tr in turns
        if any(tr.has(m) for m in SURFACE) and any(tr.has(m) for m in AGENDA)
    ]

    # plans: the last one put is the plan decided
    plan_turns = [tr for tr in turns if _is_plan(tr, rubric)]
    candidates = [(tr.index, "practitioner") for tr in plan_turns] + [
        (s.turn, "citizen") for s in ideas
    ]
    final = max(candidates)[0] if candidates else None
    final_text = tt[final].text if final is not None else ""

    def reaches_plan(idea: CitizenStatement) -> float:
        if final is None:
            return 0.0
        if final == idea.turn:
            return 1.0
        return overlap(idea.sentence, final_text, lang) if final > idea.turn else 0.0

    follow = {s.turn: reaches_plan(s) for s in ideas}
    adopted = OwnershipEvent()
    if final is not None:
        if tt[final].speaker == "citizen":
            first = min((s for s in ideas if follow[s.turn] >= PLAN_OVERLAP), key=lambda s: s.turn)
            adopted = _event("citizen", first.turn, first.sentence, "idea")
        else:
            own_ideas = [s for s in ideas if s.turn < final and follow[s.turn] >= PLAN_OVERLAP]
            if own_ideas:
                s = own_ideas[0]
                adopted = _event("citizen", s.turn, s.sentence, "idea")
            else:
                ft = by_index[final]
                first = next(
                    (
                        tr
                        for tr in plan_turns
                        if tr.index <= final and overlap(tr.text, final_text, lang) >= PLAN_OVERLAP
                    ),
                    ft,
                )
                cue, text = _plan_cue(first)
                adopted = _event("practitioner", first.index, text, cue)

    shelved: list[tuple[int, int]] = []
    for s in ideas if adopted.by == "practitioner" else ():
        # set aside for the worker's own plan (not for another idea of the citizen's)
        if follow[s.turn] >= PLAN_OVERLAP:
            continue
        after = [tr for tr in plan_turns if tr.index > s.turn]
        if after:
            shelved.append((s.turn, after[0].index))

    # who first put forward a plan
    plan_event = OwnershipEvent()
    first_prac_plan = plan_turns[0] if plan_turns else None
    first_idea = ideas[0] if ideas else None
    if first_idea and (first_prac_plan is None or first_idea.turn < first_prac_plan.index):
        plan_event = _event("citizen", first_idea.turn, first_idea.sentence, "idea")
    elif first_prac_plan is not None:
        cue, text = _plan_cue(first_prac_plan)
        plan_event = _event("practitioner", first_prac_plan.index, text, cue)

    # who first put the problem into words
    problem_event = OwnershipEvent()
    first_problem = problems[0] if problems else None
    for tr in turns:
        if first_problem is not None and tr.index > first_problem.turn:
            break
        move = _names_problem(tr, rubric)
        if move is not None:
            problem_event = _event("practitioner", tr.index, tr.quote_for(move), move)
            break
    if problem_event.by is None and first_problem is not None:
        problem_event = _event("citizen", first_problem.turn, first_problem.sentence, "problem")

    # rupture and repair
    trust = [
        (i, x.trust) for i, x in enumerate(tt) if x.speaker == "citizen" and x.trust is not None
    ]
    ruptures = [tr.index for tr in turns if any(tr.has(m) for m in CONTROL)]
    for (i0, a), (i1, b) in itertools.pairwise(trust):
        if a - b >= TRUST_DROP:
            before = [tr.index for tr in turns if i0 < tr.index < i1]
            if before and before[-1] not in ruptures:
                ruptures.append(before[-1])
    ruptures.sort()
    repairs = [tr.index for tr in turns if tr.has("repair") and any(r < tr.index for r in ruptures)]

    # talk share
    pw = [len(tokens(x.text)) for x in tt if x.speaker == "practitioner"]
    cw = [len(tokens(x.text)) for x in tt if x.speaker == "citizen"]
    share = sum(pw) / (sum(pw) + sum(cw)) if (sum(pw) + sum(cw)) else 0.0

    signals = ConversationSignals(
        practitioner_word_share=round(share, 3),
        mean_practitioner_words=round(sum(pw) / len(pw), 1) if pw else 0.0,
        mean_citizen_words=round(sum(cw) / len(cw), 1) if cw else 0.0,
        open_asks=len(judged),
        open_asks_taken_up=len(taken),
        citizen_ideas=len(ideas),
        citizen_ideas_shelved=len(shelved),
        follow_through=round(max(follow.values()), 3) if follow else None,
        ruptures=len(ruptures),
        repairs=len(repairs),
    )
    ownership = Ownership(
        problem=problem_event,
        plan=plan_event,
        adopted_plan=adopted,
        method=t("report.ownership.method", lang),
    )
    analysis = Analysis(
        signals=signals,
        ownership=ownership,
        patterns=[],
        asks=asks,
        gaming_turns=gaming,
        shelved=shelved,
        final_plan=final,
    )
    analysis.patterns = _patterns(analysis, transcript, ruptures, repairs)
    return analysis


def _event(by: str, turn: int, text: str, cue: str) -> OwnershipEvent:
    return OwnershipEvent(by=by, turn=turn, quote=quote(text), cue=cue)  # type: ignore[arg-type]


def _q(transcript: Transcript, i: int) -> str:
    return quote(transcript.turns[i].text)


def _patterns(
    a: Analysis, transcript: Transcript, ruptures: list[int], repairs: list[int]
) -> list[Pattern]:
    lang = transcript.language
    out: list[Pattern] = []

    def add(kind: str, turns: list[int], **kw: object) -> None:
        turns = sorted(dict.fromkeys(turns))
        out.append(
            Pattern(
                kind=kind,  # type: ignore[arg-type]
                turns=turns,
                quotes=[_q(transcript, i) for i in turns],
                text=t(f"report.pattern.{kind}", lang, **kw),
            )
        )

    judged = [x for x in a.asks if x[1] is not None]
    missed = [x for x in judged if not x[2]]
    taken = [x for x in judged if x[2]]
    if missed and len(missed) >= len(taken):
        ask, nxt, _ = missed[0]
        add("asked_not_listened", [ask, ask + 1, nxt], n=len(missed), total=len(judged))
    elif len(taken) >= 2:
        ask, nxt, _ = taken[0]
        add("asked_and_listened", [ask, ask + 1, nxt], n=len(taken), total=len(judged))
    adopted = a.ownership.adopted_plan
    if a.shelved:
        idea, by = a.shelved[0]
        add("shelved_idea", [idea, by])
    elif (
        adopted.by == "practitioner"
        and taken
        and adopted.turn is not None
        and adopted.turn > taken[0][0]
    ):
        add("plan_taken_over", [taken[0][0], adopted.turn])
    if adopted.by == "citizen" and adopted.turn is not None and a.final_plan is not None:
        add("citizen_plan_followed", [adopted.turn, a.final_plan])
    if len(a.gaming_turns) >= 2 or (a.gaming_turns and missed and adopted.by == "practitioner"):
        add("gaming", a.gaming_turns[:3])
    if repairs:
        rupture = max(r for r in ruptures if r < repairs[0])
        add("rupture_and_repair", [rupture, repairs[0]])
    elif ruptures and any(x.trust is not None for x in transcript.turns):
        add("rupture_unrepaired", ruptures[:1])
    return out


def vector(a: Analysis, n_prac: int) -> np.ndarray:
    """The conversation signals as numbers for the overall model (see coach.overall)."""
    s = a.signals
    asked = s.open_asks
    return np.array(
        [
            s.practitioner_word_share,
            min(s.mean_practitioner_words, 120) / 120,
            (s.open_asks_taken_up / asked) if asked else 0.5,
            ((asked - s.open_asks_taken_up) / max(n_prac, 1)),
            min(s.citizen_ideas, 4) / 4,
            min(s.citizen_ideas_shelved, 3) / 3,
            s.follow_through if s.follow_through is not None else 0.0,
            len(a.gaming_turns) / max(n_prac, 1),
            min(s.ruptures, 4) / 4,
            float(s.repairs > 0),
            {"citizen": 1.0, "practitioner": 0.0}.get(a.ownership.problem.by or "", 0.5),
            {"citizen": 1.0, "practitioner": 0.0}.get(a.ownership.adopted_plan.by or "", 0.5),
            {"citizen": 1.0, "practitioner": 0.0}.get(a.ownership.plan.by or "", 0.5),
        ]
    )


SIGNAL_FEATURES = (
    "practitioner_word_share",
    "mean_practitioner_words",
    "asks_taken_up_share",
    "asks_missed_per_turn",
    "citizen_ideas",
    "citizen_ideas_shelved",
    "follow_through",
    "gaming_turn_share",
    "ruptures",
    "repaired",
    "problem_by_citizen",
    "adopted_by_citizen",
    "plan_by_citizen",
)
