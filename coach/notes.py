"""Supervision notes from a coach report, written for this conversation, in its language.

    make_notes(report, transcript, *, citizen_voice=None, rubric=None) -> SupervisionNotes
    coach_session(transcript, *, citizen_voice=None, rubric=None, reader=None) -> CoachReport
        (score + notes in one call; the report's ``notes`` field is filled)
    boilerplate_share(a, b) -> float   share of a's non-quote sentences that also occur in b

What the notes hold, and the rules they keep:

- **Patterns** (``report.patterns``: asked but did not listen, plan taken over, shelved
  idea, rupture and repair, gaming, ...) are named in the summary with a quote each. The
  problem patterns become the first growth points, the good ones the first things that
  went well.
- **What went well** quotes practitioner turns only. When the citizen named the problem or
  the plan, the note credits the practitioner turn that invited it (and only when it
  invited it), and never credits the citizen's plan when the plan that was agreed was not
  the citizen's.
- **A turn is a strength or a growth point, not both.** A turn with evidence both ways is a
  growth point whose text says it was mixed, and why.
- **Every alternative builds on the turn it replaces**: the citizen's own words from the
  citizen turn just before (or the answer the worker did not take up), reflected back, and
  then a line from the bank of exemplary moves (:mod:`coach.exemplars`) for the situation
  closest in meaning to the replaced turn; the growth point's text gives the reason.
- **The reflective questions and the goal follow from the main pattern** (by the priority
  :data:`PATTERN_PRIORITY`), else from the first growth point, else from the weakest
  principle's indicator that did not occur; never a goal asking for a move the worker
  already made.

Texts come from ``report.notes.*`` in ``base/locales/report.yaml``, the rubric (principle
titles, indicator texts, reflective questions) and the bank.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from base.i18n import fmt_number, t
from base.models import Transcript
from coach.exemplars import Choice, ExemplarBank, Situation, choose, load_bank
from coach.rubric import load_rubric
from coach.schema import (
    CoachReport,
    Evidence,
    GrowthPoint,
    NoteItem,
    Pattern,
    PrincipleScore,
    Rubric,
    SupervisionNotes,
    TurningPoint,
)
from coach.scoring import quote, score_transcript
from reading import SYSTEM_MOVES

TURNING_POINT_DELTA = 0.1
MAX_WENT_WELL = 3
MAX_GROWTH = 3
MAX_PATTERN_GROWTH = 2
MAX_CITIZEN_WORDS = 18

# The main pattern of a conversation, most important first: gaming frames everything else
# (relational words over system decisions); then the citizen's own solution lost (a shelved
# idea, then a plan taken over); then an answer not listened to; then an unrepaired rupture.
PATTERN_PRIORITY = (
    "gaming",
    "shelved_idea",
    "plan_taken_over",
    "asked_not_listened",
    "rupture_unrepaired",
)
GOOD_PATTERNS = ("rupture_and_repair", "citizen_plan_followed", "asked_and_listened")
PATTERN_PRINCIPLE = {
    "gaming": "stand_beside",
    "shelved_idea": "citizen_shapes_solution",
    "plan_taken_over": "citizen_shapes_solution",
    "citizen_plan_followed": "citizen_shapes_solution",
    "asked_not_listened": "meet_where_they_are",
    "asked_and_listened": "meet_where_they_are",
    "rupture_unrepaired": "trust_not_suspicion",
    "rupture_and_repair": "trust_not_suspicion",
}
# practitioner moves that invite the citizen to name the problem or the plan
INVITING_MOVES = frozenset(
    {
        "asks_what_matters",
        "invites_solution",
        "asks_strengths",
        "reflects_feeling",
        "uses_own_words",
    }
)
INVITING_LABELS = frozenset({"open_question", "simple_reflection", "complex_reflection"})
_SYSTEM = frozenset(SYSTEM_MOVES)


# --------------------------------------------------------------------------- citizen words

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_WORD = re.compile(r"[\wæøåÆØÅ'’-]+")
_FILLERS = {
    "da": ("ja", "jo", "okay", "ok", "altså", "nå", "øh", "mm", "tja", "jamen", "men"),
    "en": ("yes", "yeah", "okay", "ok", "well", "um", "so", "mm", "right", "but"),
}
_SWAP = {
    "da": {
        "jeg": "du",
        "mig": "dig",
        "min": "din",
        "mit": "dit",
        "mine": "dine",
        "du": "jeg",
        "dig": "mig",
        "din": "min",
        "dit": "mit",
        "dine": "mine",
        "vi": "I",
        "os": "jer",
        "vores": "jeres",
    },
    "en": {
        "i": "you",
        "me": "you",
        "my": "your",
        "mine": "yours",
        "myself": "yourself",
        "i'm": "you're",
        "i've": "you've",
        "i'd": "you'd",
        "i'll": "you'll",
        "am": "are",
        "we": "you",
        "us": "you",
        "our": "your",
        "we're": "you're",
    },
}
_FIRST_PERSON = {
    "da": {"jeg", "mig", "min", "mit", "mine", "vi", "os", "vores"},
    "en": {"i", "me", "my", "i'm", "i've", "i'd", "i'll", "we", "our", "us"},
}
_LOWER_START = {
    "da": {"det", "der", "du", "jeg", "han", "hun", "den", "de", "så", "og", "min", "din", "I"},
    "en": {"it", "it's", "that", "that's", "there", "you", "your", "the", "he", "she", "they"},
}


def _tokens(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def citizen_words(text: str | None, lang: str) -> str | None:
    """The citizen's most telling sentence in `text` (verbatim, without leading fillers):
    a statement of at least three words, first-person sentences first, then the longest."""
    if not text:
        return None
    best: tuple[tuple[int, int], str] | None = None
    for m in _SENTENCE.finditer(text):
        s = m.group(0).strip()
        if not s or s.endswith("?"):
            continue
        words = s.split()
        while words and words[0].strip(",.!").lower() in _FILLERS[lang]:
            words = words[1:]
        if len(_tokens(" ".join(words))) < 3:
            continue
        if len(words) > MAX_CITIZEN_WORDS:
            cut = " ".join(words[:MAX_CITIZEN_WORDS])
            comma = cut.rfind(",")
            words = (cut[:comma] if comma > 20 else cut).split()
        s = " ".join(words).rstrip(",;:")
        if s and s[0].islower():
            s = s[0].upper() + s[1:]
        first = int(bool(set(_tokens(s)) & _FIRST_PERSON[lang]))
        key = (first, len(s))
        if best is None or key > best[0]:
            best = (key, s)
    return best[1] if best else None


def _swap_person(sentence: str, lang: str) -> str:
    """The citizen's sentence as the practitioner says it back (jeg -> du, I -> you)."""
    table = _SWAP[lang]
    out: list[str] = []
    prev = ""
    for m in re.finditer(r"[\wæøåÆØÅ'’]+|[^\wæøåÆØÅ'’]+", sentence):
        w = m.group(0)
        low = w.lower().replace("’", "'")
        was = lang == "en" and low == "was" and prev in ("i", "you")
        rep = "were" if was else table.get(low)
        if rep is None:
            out.append(w)
        else:
            out.append(rep)  # lower case ("I", Danish plural you, stays); the frame leads
        if low.strip():
            prev = low if low.isalpha() or "'" in low else prev
    s = "".join(out).strip().rstrip(".!")
    first = s.split(" ", 1)[0]
    if first in ("You", "Du") or first.lower() in _LOWER_START[lang]:
        s = (first if first == "I" else first.lower()) + s[len(first) :]
    return s


def reflection(sentence: str, lang: str, k: int = 0) -> str:
    """A reflection of the citizen's sentence in the practitioner's mouth."""
    return t(f"report.notes.reflect_{k % 2 + 1}", lang, words=_swap_person(sentence, lang))


# --------------------------------------------------------------------------- helpers


def _q(text: str, lang: str) -> str:
    """A quotation inside a note's own sentence."""
    text = text.strip().rstrip(".")
    return f"«{text}»" if lang == "da" else f"“{text}”"


def _indicator_texts(rubric: Rubric) -> dict[tuple[str, str], str]:
    out = {}
    for p in rubric.principles:
        for ind in [*p.indicators, *p.counter_indicators]:
            out[(p.id, ind.id)] = ind.text
    return out


_RANK = {"signal": 0, "cue": 1, "model": 1}  # 'cue': reports made before rubric schema 2


def _strongest_first(ps: PrincipleScore) -> list[Evidence]:
    """Evidence with the clearest quotes first: signals, then the reading's matches."""
    return sorted(ps.evidence, key=lambda e: (_RANK[e.by], e.turn))


def _ranked(report: CoachReport) -> list[PrincipleScore]:
    """Principles from weakest to strongest (ties: rubric order)."""
    order = {p.id: i for i, p in enumerate(report.principles)}
    return sorted(report.principles, key=lambda p: (p.raw, order[p.id]))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


@dataclass
class _Ctx:
    report: CoachReport
    transcript: Transcript
    rubric: Rubric
    bank: ExemplarBank
    lang: str
    texts: dict[tuple[str, str], str]
    used_lines: set[str] = field(default_factory=set)
    situations: dict[int, Situation] = field(default_factory=dict)  # growth turn -> situation
    growth_words: dict[int, str] = field(default_factory=dict)  # growth turn -> citizen words

    def speaker(self, i: int) -> str | None:
        turns = self.transcript.turns
        return turns[i].speaker if 0 <= i < len(turns) else None

    def flags(self, i: int) -> set[str]:
        tf = self.report.turn_flags
        return set(tf[i]) if 0 <= i < len(tf) else set()

    def behaviour(self, i: int) -> str | None:
        b = self.report.behaviours
        return b[i] if 0 <= i < len(b) else None

    def prev(self, i: int, speaker: str) -> int | None:
        for j in range(i - 1, -1, -1):
            if self.transcript.turns[j].speaker == speaker:
                return j
        return None

    def next(self, i: int, speaker: str) -> int | None:
        for j in range(i + 1, len(self.transcript.turns)):
            if self.transcript.turns[j].speaker == speaker:
                return j
        return None

    def words_before(self, i: int) -> str | None:
        """The citizen's words in the citizen turn just before turn i."""
        j = self.prev(i, "citizen")
        if j is None or (self.prev(i, "practitioner") or -1) > j:
            return None
        return citizen_words(self.transcript.turns[j].text, self.lang)

    def reply_after(self, i: int) -> str | None:
        j = self.next(i, "citizen")
        if j is None or j != i + 1:
            return None
        return citizen_words(self.transcript.turns[j].text, self.lang)

    def quote_of(self, i: int, candidates: list[str], turns: list[int] | None = None) -> str:
        """A verbatim quote of turn i: the candidate aligned with i in `turns` (a pattern's
        turns and quotes), else a candidate that is a whole stretch of the turn, else the
        turn."""
        text = self.transcript.turns[i].text
        if turns is not None and len(turns) == len(candidates) and i in turns:
            c = candidates[turns.index(i)].strip()
            if c and c in text:
                return c
        for c in candidates:
            c = c.strip()
            if len(c) >= min(12, len(text.strip())) and c in text:
                return c
        return quote(text)

    def done_moves(self) -> set[str]:
        return {
            m
            for i, tr in enumerate(self.transcript.turns)
            if tr.speaker == "practitioner"
            for m in self.flags(i)
        }

    def alternative(
        self, turn: int, triggers: set[str], words: str | None, k: int
    ) -> tuple[str, Choice | None]:
        """The citizen's words reflected back, then the bank's closest exemplary line."""
        text = self.transcript.turns[turn].text
        choice = choose(self.bank, text, triggers, context=words or "", avoid=self.used_lines)
        parts = []
        if words:
            parts.append(reflection(words, self.lang, k))
        if choice is not None:
            self.used_lines.add(choice.line)
            self.situations[turn] = choice.situation
            parts.append(choice.line)
        if words:
            self.growth_words[turn] = words
        return " ".join(parts), choice

    def reason(self, choice: Choice | None, words: str | None) -> str:
        if choice is None:
            return ""
        key = "report.notes.alt_reason_words" if words else "report.notes.alt_reason"
        return t(
            key,
            self.lang,
            situation=choice.situation.name,
            reason=choice.situation.reason,
            words=_q(words or "", self.lang),
        )


# --------------------------------------------------------------------------- patterns


def _pattern_turns(ctx: _Ctx, p: Pattern, speaker: str) -> list[int]:
    return [i for i in p.turns if ctx.speaker(i) == speaker]


def _pattern_citizen(ctx: _Ctx, p: Pattern) -> str | None:
    """The citizen's words the pattern is about: its first citizen turn (the answer, the
    idea, the protest); else the citizen turn before its first practitioner turn."""
    cit = _pattern_turns(ctx, p, "citizen")
    if cit:
        words = citizen_words(ctx.transcript.turns[cit[0]].text, ctx.lang)
        if words:
            return words
        return quote(ctx.transcript.turns[cit[0]].text)
    prac = _pattern_turns(ctx, p, "practitioner")
    if not prac:
        return None
    if p.kind.startswith("rupture"):  # the citizen's reaction comes after the rupture
        j = ctx.next(prac[0], "citizen")
        return citizen_words(ctx.transcript.turns[j].text, ctx.lang) if j is not None else None
    return ctx.words_before(prac[0])


def _pattern_focus(ctx: _Ctx, p: Pattern) -> int | None:
    """The practitioner turn a note about the pattern points at: for problem patterns the
    turn that went wrong (after the citizen spoke), for good ones the turn that did it."""
    prac = _pattern_turns(ctx, p, "practitioner")
    if not prac:
        return None
    cit = _pattern_turns(ctx, p, "citizen")
    after = [i for i in prac if cit and i > cit[0]]
    return (after or prac)[-1 if p.kind != "asked_and_listened" else 0]


def _pattern_text(ctx: _Ctx, p: Pattern) -> str:
    words = _pattern_citizen(ctx, p)
    focus = _pattern_focus(ctx, p)
    worker = ctx.quote_of(focus, p.quotes, p.turns) if focus is not None else ""
    key = f"report.notes.pattern_item.{p.kind}"
    return t(
        key,
        ctx.lang,
        citizen=_q(words, ctx.lang) if words else "",
        worker=_q(worker, ctx.lang) if worker else "",
    )


def _pattern_line(ctx: _Ctx, p: Pattern) -> str:
    name = t(f"report.notes.pattern.{p.kind}", ctx.lang)
    turns = ", ".join(str(i + 1) for i in p.turns)
    quotes = [q for q in p.quotes if q][:2]
    return t(
        "report.notes.pattern_line",
        ctx.lang,
        name=name,
        turns=turns,
        quotes=" … ".join(_q(q, ctx.lang) for q in quotes) or "-",
    )


def main_pattern(report: CoachReport) -> Pattern | None:
    """The conversation's main problem pattern, by :data:`PATTERN_PRIORITY`."""
    for kind in PATTERN_PRIORITY:
        for p in report.patterns:
            if p.kind == kind:
                return p
    return None


# --------------------------------------------------------------------------- growth


def _growth_from_patterns(ctx: _Ctx) -> list[GrowthPoint]:
    out: list[GrowthPoint] = []
    ordered = [p for kind in PATTERN_PRIORITY for p in ctx.report.patterns if p.kind == kind]
    for p in ordered:
        if len(out) >= MAX_PATTERN_GROWTH:
            break
        focus = _pattern_focus(ctx, p)
        if focus is None or any(g.turn == focus for g in out):
            continue
        words = _pattern_citizen(ctx, p)
        alt, choice = ctx.alternative(focus, {p.kind}, words, len(out))
        principle = ctx.report.principle(PATTERN_PRINCIPLE[p.kind]).title
        text = " ".join(
            s
            for s in (
                t(
                    "report.notes.growth_item",
                    ctx.lang,
                    principle=principle,
                    what=t(f"report.notes.pattern.{p.kind}", ctx.lang),
                )
                + ".",
                _pattern_text(ctx, p),
                ctx.reason(choice, words),
            )
            if s
        )
        out.append(
            GrowthPoint(
                principle=PATTERN_PRINCIPLE[p.kind],
                indicator=p.kind,
                text=text,
                turn=focus,
                quote=ctx.quote_of(focus, p.quotes, p.turns),
                alternative=alt,
            )
        )
    return out


def _for_evidence_by_turn(ctx: _Ctx) -> dict[int, list[tuple[PrincipleScore, Evidence]]]:
    out: dict[int, list[tuple[PrincipleScore, Evidence]]] = {}
    for ps in ctx.report.principles:
        for ev in ps.evidence:
            if ev.polarity == "for" and ctx.speaker(ev.turn) == "practitioner":
                out.setdefault(ev.turn, []).append((ps, ev))
    return out


def _growth_from_evidence(
    ctx: _Ctx, ranked: list[PrincipleScore], growth: list[GrowthPoint]
) -> list[GrowthPoint]:
    """Observed counter-indicators, weakest principles first, one per principle before a
    second from the same principle, one per turn."""
    rubric = ctx.rubric
    strengths = _for_evidence_by_turn(ctx)
    seen = {g.indicator for g in growth}
    turns = {g.turn for g in growth}
    for per_principle in (1, MAX_GROWTH):
        for ps in ranked:
            principle = rubric.principle(ps.id)
            counters = {c.id: c for c in principle.counter_indicators}
            taken = sum(g.principle == ps.id for g in growth)
            for ev in _strongest_first(ps):
                if len(growth) >= MAX_GROWTH or taken >= per_principle:
                    break
                counter = counters.get(ev.indicator)
                if (
                    ev.polarity != "against"
                    or counter is None
                    or counter.id in seen
                    or ev.turn in turns
                    or ctx.speaker(ev.turn) != "practitioner"
                ):
                    continue
                if counter.id == "advice_without_permission" and _permission_given(ctx, ev.turn):
                    continue
                seen.add(counter.id)
                turns.add(ev.turn)
                taken += 1
                moves = set(counter.detect.moves) if counter.detect else set()
                triggers = {counter.id} | (ctx.flags(ev.turn) & _SYSTEM & moves)
                words = ctx.words_before(ev.turn)
                alt, choice = ctx.alternative(ev.turn, triggers, words, len(growth))
                parts = [
                    t("report.notes.growth_item", ctx.lang, principle=ps.title, what=counter.text)
                    + "."
                ]
                good = strengths.get(ev.turn) or []
                good_moves = ctx.flags(ev.turn) - _SYSTEM
                if good or good_moves:
                    what = (
                        ctx.texts.get((good[0][0].id, good[0][1].indicator))
                        if good
                        else t(f"report.notes.move.{sorted(good_moves)[0]}", ctx.lang)
                    ) or good[0][1].indicator
                    parts.append(t("report.notes.mixed", ctx.lang, good=_lower_first(what)))
                reply = ctx.reply_after(ev.turn)
                if reply:
                    parts.append(t("report.notes.reply", ctx.lang, reply=_q(reply, ctx.lang)))
                parts.append(ctx.reason(choice, words))
                growth.append(
                    GrowthPoint(
                        principle=ps.id,
                        indicator=counter.id,
                        text=" ".join(p for p in parts if p),
                        turn=ev.turn,
                        quote=ctx.quote_of(ev.turn, [ev.quote]),
                        alternative=alt,
                    )
                )
    return growth


def _permission_given(ctx: _Ctx, turn: int) -> bool:
    """Advice right after the practitioner asked permission (and the citizen answered)."""
    j = ctx.prev(turn, "practitioner")
    return j is not None and "asks_permission" in ctx.flags(j)


# --------------------------------------------------------------------------- went well


def _went_well(
    ctx: _Ctx, ranked: list[PrincipleScore], growth: list[GrowthPoint]
) -> list[NoteItem]:
    lang = ctx.lang
    blocked = {g.turn for g in growth}
    out: list[NoteItem] = []

    def add(item: NoteItem) -> None:
        assert item.turn is not None
        assert ctx.speaker(item.turn) == "practitioner"
        out.append(item)
        blocked.add(item.turn)

    for kind in GOOD_PATTERNS:
        for p in ctx.report.patterns:
            if p.kind != kind or len(out) >= MAX_WENT_WELL:
                continue
            focus = _pattern_focus(ctx, p)
            if focus is None or focus in blocked:
                continue
            principle = ctx.report.principle(PATTERN_PRINCIPLE[kind]).title
            add(
                NoteItem(
                    text=t(
                        "report.notes.went_well_item",
                        lang,
                        principle=principle,
                        what=_pattern_text(ctx, p),
                    ),
                    turn=focus,
                    quote=ctx.quote_of(focus, p.quotes, p.turns),
                )
            )

    own = ctx.report.ownership
    plan_not_theirs = own.adopted_plan.by == "practitioner" or any(
        p.kind in ("plan_taken_over", "shelved_idea", "gaming") for p in ctx.report.patterns
    )
    done_principles = {
        PATTERN_PRINCIPLE[item_kind]
        for item_kind in GOOD_PATTERNS
        if any(p.kind == item_kind for p in ctx.report.patterns)
    }
    for ps in reversed(ranked):
        if len(out) >= MAX_WENT_WELL or ps.score < 3:
            break
        if ps.id in done_principles:
            continue
        for ev in _strongest_first(ps):
            if ev.polarity != "for":
                continue
            item = _strength(ctx, ps, ev, plan_not_theirs)
            if item is None or item.turn in blocked or ctx.flags(item.turn) & _SYSTEM:
                continue
            add(item)
            break
    return out


def _strength(
    ctx: _Ctx, ps: PrincipleScore, ev: Evidence, plan_not_theirs: bool
) -> NoteItem | None:
    lang = ctx.lang
    speaker = ctx.speaker(ev.turn)
    if speaker == "practitioner":
        what = ctx.texts.get((ps.id, ev.indicator)) or t(
            f"report.notes.signal.{ev.indicator}", lang
        )
        return NoteItem(
            text=t("report.notes.went_well_item", lang, principle=ps.title, what=what),
            turn=ev.turn,
            quote=ctx.quote_of(ev.turn, [ev.quote]),
        )
    if speaker != "citizen" or ev.indicator not in ("ownership_problem", "ownership_plan"):
        return None
    if ev.indicator == "ownership_plan" and plan_not_theirs:
        return None
    j = ctx.prev(ev.turn, "practitioner")
    if j is None:
        return None
    if not (ctx.flags(j) & INVITING_MOVES or ctx.behaviour(j) in INVITING_LABELS):
        return None
    key = "invited_problem" if ev.indicator == "ownership_problem" else "invited_plan"
    words = ev.quote or citizen_words(ctx.transcript.turns[ev.turn].text, lang) or ""
    return NoteItem(
        text=t(
            "report.notes.went_well_item",
            lang,
            principle=ps.title,
            what=t(f"report.notes.{key}", lang, citizen=_q(words, lang)),
        ),
        turn=j,
        quote=_asking_sentence(ctx.transcript.turns[j].text),
    )


def _asking_sentence(text: str) -> str:
    """The last question of a turn (verbatim), else the turn."""
    questions = [m.group(0).strip() for m in _SENTENCE.finditer(text) if "?" in m.group(0)]
    return quote(questions[-1]) if questions else quote(text)


# --------------------------------------------------------------------------- questions, goal


def _questions_and_goal(
    ctx: _Ctx, ranked: list[PrincipleScore], growth: list[GrowthPoint]
) -> tuple[list[str], str]:
    lang = ctx.lang
    rubric = ctx.rubric
    done = ctx.done_moves()
    questions: list[str] = []
    goal: str | None = None

    main = main_pattern(ctx.report)
    if main is not None:
        words = _pattern_citizen(ctx, main)
        focus = _pattern_focus(ctx, main)
        worker = ctx.quote_of(focus, main.quotes, main.turns) if focus is not None else ""
        fmt = {
            "citizen": _q(words, lang) if words else "",
            "worker": _q(worker, lang) if worker else "",
        }
        questions += [t(f"report.notes.q.{main.kind}.{i}", lang, **fmt) for i in (1, 2)]
        goal = t(f"report.notes.goal.{main.kind}", lang, **fmt)
        others = [p for p in ctx.report.patterns if p.kind in PATTERN_PRIORITY and p is not main]
        for p in others[:1]:
            w = _pattern_citizen(ctx, p)
            f = _pattern_focus(ctx, p)
            questions.append(
                t(
                    f"report.notes.q.{p.kind}.1",
                    lang,
                    citizen=_q(w, lang) if w else "",
                    worker=_q(ctx.quote_of(f, p.quotes, p.turns), lang) if f is not None else "",
                )
            )

    if goal is None:
        for g in growth:
            situation = ctx.situations.get(g.turn)
            if situation is None or set(situation.goal_moves) & done:
                continue
            goal = t(
                "report.notes.goal.from_turn", lang, quote=_q(g.quote, lang), goal=situation.goal
            )
            reply = ctx.reply_after(g.turn)
            questions.append(
                t(
                    "report.notes.q.growth_reply" if reply else "report.notes.q.growth",
                    lang,
                    quote=_q(g.quote, lang),
                    reply=_q(reply or "", lang),
                )
            )
            words = ctx.growth_words.get(g.turn)
            if words:
                questions.append(t("report.notes.q.growth_words", lang, words=_q(words, lang)))
            break

    if goal is None and ranked[0].score >= 4:
        goal = _stretch_goal(ctx, ranked[0])
    if goal is None:
        goal = _goal_from_missing_indicator(ctx, ranked, done)
        best = _best_moment(ctx)
        if best is not None:
            questions.append(best)

    # fill up with the rubric's questions of the weakest principles not yet asked about
    for ps in ranked:
        if len(questions) >= 3:
            break
        q = rubric.principle(ps.id).reflective_question
        if q not in questions:
            questions.append(q)
    return questions[:3], goal


def _last_citizen_words(ctx: _Ctx) -> str | None:
    for i in range(len(ctx.transcript.turns) - 1, -1, -1):
        if ctx.speaker(i) == "citizen":
            words = citizen_words(ctx.transcript.turns[i].text, ctx.lang)
            if words:
                return words
    return None


def _stretch_goal(ctx: _Ctx, weakest: PrincipleScore) -> str:
    """For a strong conversation: the next anchor up on the weakest principle (something
    the worker has not reached yet, so never 'do what you already did')."""
    principle = ctx.rubric.principle(weakest.id)
    anchor = principle.anchors[min(5, weakest.score + 1)]
    words = _last_citizen_words(ctx)
    return t(
        "report.notes.goal.stretch",
        ctx.lang,
        principle=weakest.title,
        score=weakest.score,
        anchor=_lower_first(anchor),
        words=_q(words or "-", ctx.lang),
    )


def _goal_from_missing_indicator(ctx: _Ctx, ranked: list[PrincipleScore], done: set[str]) -> str:
    """A goal from the weakest principle's most weighty indicator that did not occur."""
    lang = ctx.lang
    shown = {(ps.id, ev.indicator) for ps in ctx.report.principles for ev in ps.evidence}
    words = _last_citizen_words(ctx)
    for ps in ranked:
        principle = ctx.rubric.principle(ps.id)
        for ind in sorted(principle.indicators, key=lambda x: -x.weight):
            moves = set(ind.detect.moves) if ind.detect else set()
            if (ps.id, ind.id) in shown or moves & done:
                continue
            key = "report.notes.goal.indicator_words" if words else "report.notes.goal.indicator"
            return t(
                key,
                lang,
                principle=ps.title,
                what=_lower_first(ind.text),
                words=_q(words or "", lang),
            )
    return t("report.notes.goal.deepen", lang, words=_q(words or "", lang))


def _best_moment(ctx: _Ctx) -> str | None:
    """A question about the practitioner turn after which the citizen said the most."""
    best: tuple[int, int, str] | None = None
    for i, tr in enumerate(ctx.transcript.turns):
        if tr.speaker != "practitioner" or ctx.flags(i) & _SYSTEM:
            continue
        reply = ctx.reply_after(i)
        if reply and (best is None or len(reply) > best[0]):
            best = (len(reply), i, reply)
    if best is None:
        return None
    _, i, reply = best
    return t(
        "report.notes.q.best_moment",
        ctx.lang,
        quote=_q(quote(ctx.transcript.turns[i].text), ctx.lang),
        reply=_q(reply, ctx.lang),
    )


# --------------------------------------------------------------------------- entry points


def turning_points(report: CoachReport, transcript: Transcript) -> list[TurningPoint]:
    lang = report.language
    out = []
    for prev, cur in itertools.pairwise(report.trust):
        delta = cur.trust - prev.trust
        if abs(delta) < TURNING_POINT_DELTA:
            continue
        before = [
            i
            for i in range(prev.turn + 1, cur.turn)
            if transcript.turns[i].speaker == "practitioner"
        ]
        q = quote(transcript.turns[before[-1]].text) if before else None
        key = "report.notes.turning_up" if delta > 0 else "report.notes.turning_down"
        out.append(
            TurningPoint(
                turn=cur.turn,
                before=prev.trust,
                after=cur.trust,
                quote=q,
                text=t(
                    key,
                    lang,
                    before=fmt_number(prev.trust, lang, 2),
                    after=fmt_number(cur.trust, lang, 2),
                ),
            )
        )
    return out


def _summary(ctx: _Ctx, ranked: list[PrincipleScore]) -> str:
    report, lang = ctx.report, ctx.lang
    weakest, strongest = ranked[0], ranked[-1]
    own = report.ownership
    parts = [
        t(
            "report.notes.summary",
            lang,
            overall=f"{report.overall:.0f}" if report.overall is not None else "-",
            n=report.practitioner_turns,
            best=strongest.title,
            best_score=strongest.score,
            weakest=weakest.title,
            weakest_score=weakest.score,
        )
    ]
    if report.overall_band is not None:
        lo, hi = report.overall_band
        parts.append(t("report.notes.summary_band", lang, low=f"{lo:.0f}", high=f"{hi:.0f}"))
    parts.append(
        t(
            "report.notes.summary_ownership",
            lang,
            problem=t(f"report.who.{own.problem.by or 'none'}", lang),
            plan=t(f"report.who.{own.plan.by or 'none'}", lang),
        )
    )
    if own.adopted_plan.by is not None:
        parts.append(
            t(
                "report.notes.summary_adopted",
                lang,
                who=t(f"report.who.{own.adopted_plan.by}", lang),
            )
        )
    if report.patterns:
        parts.append(t("report.notes.patterns_intro", lang))
        parts += [_pattern_line(ctx, p) for p in report.patterns]
    if any(p.insufficient_evidence for p in report.principles):
        parts.append(t("report.notes.summary_uncertain", lang))
    return " ".join(parts)


def make_notes(
    report: CoachReport,
    transcript: Transcript,
    *,
    citizen_voice: str | None = None,
    rubric: Rubric | None = None,
) -> SupervisionNotes:
    lang = report.language
    rubric = rubric or load_rubric(lang)
    voice = citizen_voice.strip() if citizen_voice and citizen_voice.strip() else None
    if report.status != "ok" or not report.principles:
        return SupervisionNotes(
            language=lang,
            summary=report.message or t("report.no_practitioner_turns", lang),
            went_well=[],
            growth_points=[],
            turning_points=[],
            citizen_voice=voice,
            reflective_questions=[t(f"report.notes.empty_q{i}", lang) for i in (1, 2, 3)],
            next_goal=t("report.notes.empty_goal", lang),
        )

    ctx = _Ctx(
        report=report,
        transcript=transcript,
        rubric=rubric,
        bank=load_bank(lang),
        lang=lang,
        texts=_indicator_texts(rubric),
    )
    ranked = _ranked(report)
    growth = _growth_from_patterns(ctx)
    growth = _growth_from_evidence(ctx, ranked, growth)
    went_well = _went_well(ctx, ranked, growth)
    questions, goal = _questions_and_goal(ctx, ranked, growth)
    return SupervisionNotes(
        language=lang,
        summary=_summary(ctx, ranked),
        went_well=went_well,
        growth_points=growth,
        turning_points=turning_points(report, transcript),
        citizen_voice=voice,
        reflective_questions=questions,
        next_goal=goal,
    )


def coach_session(
    transcript: Transcript,
    *,
    citizen_voice: str | None = None,
    rubric: Rubric | None = None,
    reader: object | None = None,
) -> CoachReport:
    """Score a transcript and attach supervision notes (``reader``: see score_transcript)."""
    report = score_transcript(transcript, rubric=rubric, reader=reader)
    notes = make_notes(report, transcript, citizen_voice=citizen_voice, rubric=rubric)
    return report.model_copy(update={"notes": notes})


# --------------------------------------------------------------------------- boilerplate

_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")
_SPLIT = re.compile(r"(?<=[.!?])\s+")


def _quote_fields(n: SupervisionNotes) -> set[str]:
    qs = [w.quote for w in n.went_well] + [g.quote for g in n.growth_points]
    qs += [tp.quote for tp in n.turning_points]
    return {_norm(q) for q in qs if q}


def _norm(s: str) -> str:
    return " ".join(s.lower().split()).strip(" .!?:;,–-")


def note_sentences(n: SupervisionNotes) -> list[str]:
    """The notes' own sentences (normalised), without the sentences that are only a quote.

    A quotation inside a sentence stays part of it: «Du siger, du har ondt i ryggen.» is
    this conversation's sentence, not boilerplate."""
    texts = [n.summary, *(w.text for w in n.went_well)]
    texts += [s for g in n.growth_points for s in (g.text, g.alternative)]
    texts += [tp.text for tp in n.turning_points]
    texts += [*n.reflective_questions, n.next_goal]
    quotes = _quote_fields(n)
    out: list[str] = []
    for text in texts:
        spans: list[str] = []

        def keep(m: re.Match[str], spans: list[str] = spans) -> str:
            spans.append(m.group(0))
            return f"\x00{len(spans) - 1}\x00"

        masked = _QUOTED.sub(keep, text)
        for part in _SPLIT.split(masked):
            restored = re.sub(r"\x00(\d+)\x00", lambda m, spans=spans: spans[int(m.group(1))], part)
            s = _norm(restored)
            bare = _norm(_QUOTED.sub("", restored))
            if not s or not bare or s in quotes:
                continue
            out.append(s)
    return out


def boilerplate_share(a: SupervisionNotes, b: SupervisionNotes) -> float:
    """The share of a's non-quote sentences that also occur in b (0..1)."""
    sa = note_sentences(a)
    if not sa:
        return 0.0
    sb = set(note_sentences(b))
    return sum(s in sb for s in sa) / len(sa)
