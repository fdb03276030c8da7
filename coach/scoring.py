"""Scoring a transcript against the relational rubric, offline and fast.

    score_transcript(transcript, *, rubric=None, coder=None) -> CoachReport

How it works (all evidence rules are data in ``rubric/relational-<lang>.yaml``):

1. The behaviour coder labels every practitioner turn in one batch (``code_many``).
2. For each principle, every practitioner turn is matched against the principle's
   indicators and counter-indicators (coder labels, coder flags, regex cues). A match
   adds the indicator's weight (label/flag matches scaled by the coder's confidence) to
   the evidence *for* or *against*, and the matching sentence is kept as a quote.
3. Structural signals named by the principle add evidence: ``opening`` (how the first
   practitioner turn begins), ``ownership_problem`` / ``ownership_plan`` (who first named
   the problem / the plan, see :func:`ownership`), ``trust`` (the citizen's trust
   trajectory, when the turns carry it).
4. score = 3 + 2 * (for - against) / (for + against + 2), rounded to 1..5. Few evidence
   items or few practitioner turns mark the score ``insufficient_evidence`` and lower
   its confidence.
5. MITI summary from the coder labels and flags (+ rubric cues for affirm / autonomy /
   confront / persuade), with MITI 4.2.1 thresholds (%OQ: MITI 3.1.1).
6. overall (0-100) = (1 - miti_weight) * confidence-weighted principle mean
   + miti_weight * MITI attainment.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from coach.coder import LABELS, Coded, get_coder
from coach.rubric import load_rubric
from coach.schema import (
    CoachReport,
    Evidence,
    Hook,
    MitiMetric,
    MitiSummary,
    Ownership,
    OwnershipEvent,
    Principle,
    PrincipleScore,
    Rubric,
    TrustPoint,
)
from practice.i18n import t
from practice.models import Transcript

MAX_QUOTE = 220
MAX_EVIDENCE_PER_POLARITY = 5
MIN_PRACTITIONER_TURNS = 3
TRUST_GAIN = 5.0  # evidence weight per unit of trust change
SIGNAL_WEIGHT = {"opening": 1.0, "ownership_problem": 2.0, "ownership_plan": 2.0}

# MITI thresholds. R:Q and %CR from MITI 4.2.1; MITI 4.2.1 dropped %OQ, so MITI 3.1.1's.
MITI_THRESHOLDS = {
    "reflection_to_question": (1.0, 2.0, "MITI 4.2.1"),
    "pct_complex_reflections": (40.0, 50.0, "MITI 4.2.1"),
    "pct_open_questions": (50.0, 70.0, "MITI 3.1.1"),
}

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class _Hook:
    hook: Hook
    cues: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]


def _compile(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


_HOOKS: dict[int, tuple[Rubric, dict[int, _Hook], dict[str, tuple[re.Pattern[str], ...]]]] = {}


def _compiled(rubric: Rubric) -> tuple[dict[int, _Hook], dict[str, tuple[re.Pattern[str], ...]]]:
    """Compiled hooks (by id of the Hook object) and named cue lists, cached per rubric."""
    entry = _HOOKS.get(id(rubric))
    if entry is not None and entry[0] is rubric:
        return entry[1], entry[2]
    hooks: dict[int, _Hook] = {}
    for p in rubric.principles:
        for ind in [*p.indicators, *p.counter_indicators]:
            if ind.detect is not None:
                hooks[id(ind.detect)] = _Hook(
                    ind.detect, _compile(ind.detect.cues), _compile(ind.detect.unless_cues)
                )
    named: dict[str, tuple[re.Pattern[str], ...]] = {}
    own = rubric.ownership
    for name in ("citizen_problem", "practitioner_problem", "citizen_plan", "practitioner_plan"):
        named[f"ownership.{name}"] = _compile(getattr(own, name))
    for name in ("seek_collaboration", "affirm", "emphasize_autonomy", "confront", "persuade"):
        named[f"miti.{name}"] = _compile(getattr(rubric.miti, name))
    _HOOKS[id(rubric)] = (rubric, hooks, named)
    return hooks, named


@dataclass
class _Turn:
    index: int
    text: str
    sentences: list[tuple[int, int]]
    coded: Coded | None = None
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str | None:
        return self.coded.label if self.coded else None

    def statements(self) -> list[tuple[int, int]]:
        return [(a, b) for a, b in self.sentences if not self.text[a:b].rstrip().endswith("?")]


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SENTENCE.finditer(text):
        a, b = m.span()
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans or [(0, len(text))]


def quote(text: str, start: int = 0, end: int | None = None) -> str:
    """A verbatim substring of `text` around [start, end): the sentence(s), at most MAX_QUOTE."""
    end = len(text) if end is None else end
    q = text[start:end].strip()
    if len(q) <= MAX_QUOTE:
        return q
    cut = q[:MAX_QUOTE]
    space = cut.rfind(" ")
    return cut[: space if space > MAX_QUOTE // 2 else MAX_QUOTE].rstrip()


def _sentence_quote(turn: _Turn, pos: int) -> str:
    for a, b in turn.sentences:
        if a <= pos < b:
            return quote(turn.text, a, b)
    return quote(turn.text)


def _search(
    patterns: tuple[re.Pattern[str], ...], turn: _Turn, statements_only: bool = False
) -> tuple[re.Pattern[str], re.Match[str]] | None:
    spans = turn.statements() if statements_only else [(0, len(turn.text))]
    for a, b in spans:
        for pat in patterns:
            m = pat.search(turn.text, a, b)
            if m:
                return pat, m
    return None


def _match(h: _Hook, turn: _Turn) -> tuple[str, bool] | None:
    """(quote, by_model) when the hook matches the turn; by_model = label/flag match."""
    hook = h.hook
    if hook.unless_flags and turn.flags & set(hook.unless_flags):
        return None
    if h.unless and _search(h.unless, turn):
        return None
    found = _search(h.cues, turn, hook.statements_only) if h.cues else None
    if found is not None:
        return _sentence_quote(turn, found[1].start()), False
    if (turn.label in hook.labels) or (turn.flags & set(hook.flags)):
        return quote(turn.text), True
    return None


# --------------------------------------------------------------------------- ownership


def ownership(transcript: Transcript, turns: dict[int, _Turn], rubric: Rubric) -> Ownership:
    """Who first named the problem, and who first named the plan.

    Walks the turns in order. A citizen turn names the problem when it contains one of the
    rubric's ``ownership.citizen_problem`` cues (first-person problem statements), and the
    plan with ``citizen_plan`` cues ("jeg vil gerne", "what would help is"). A practitioner
    turn names the problem with ``practitioner_problem`` cues in a sentence that is not a
    question, or a coder flag in ``practitioner_problem_flags``; the plan with
    ``practitioner_plan`` cues in a statement, or a coder label in
    ``practitioner_plan_labels`` (advice / options) with at least
    ``practitioner_plan_min_confidence`` on a turn that is not only questions. (AnnoMI's
    *negotiation* also covers goal-setting questions such as "what could be a first step?",
    so it is not counted as the worker proposing a plan.) The first turn wins.
    """
    _, named = _compiled(rubric)
    own = rubric.ownership
    problem = OwnershipEvent()
    plan = OwnershipEvent()
    all_turns = {
        i: turns.get(i) or _Turn(i, tr.text, _sentences(tr.text))
        for i, tr in enumerate(transcript.turns)
    }
    for i, tr in enumerate(transcript.turns):
        turn = all_turns[i]
        citizen = tr.speaker == "citizen"
        if problem.by is None:
            if citizen:
                found = _search(named["ownership.citizen_problem"], turn)
            else:
                found = _search(named["ownership.practitioner_problem"], turn, statements_only=True)
            if found:
                problem = OwnershipEvent(
                    by=tr.speaker,
                    turn=i,
                    quote=_sentence_quote(turn, found[1].start()),
                    cue=found[1].group(0),
                )
            elif not citizen and turn.flags & set(own.practitioner_problem_flags):
                flag = sorted(turn.flags & set(own.practitioner_problem_flags))[0]
                problem = OwnershipEvent(
                    by="practitioner", turn=i, quote=quote(turn.text), cue=flag
                )
        if plan.by is None:
            if citizen:
                found = _search(named["ownership.citizen_plan"], turn)
            else:
                found = _search(named["ownership.practitioner_plan"], turn, statements_only=True)
            if found:
                plan = OwnershipEvent(
                    by=tr.speaker,
                    turn=i,
                    quote=_sentence_quote(turn, found[1].start()),
                    cue=found[1].group(0),
                )
            elif (
                not citizen
                and turn.label in own.practitioner_plan_labels
                and turn.coded is not None
                and turn.coded.confidence >= own.practitioner_plan_min_confidence
                and turn.statements()  # a proposal, not only questions
            ):
                plan = OwnershipEvent(
                    by="practitioner", turn=i, quote=quote(turn.text), cue=turn.label
                )
        if problem.by and plan.by:
            break
    return Ownership(
        problem=problem, plan=plan, method=t("report.ownership.method", rubric.language)
    )


# --------------------------------------------------------------------------- MITI


def _level(metric: str, value: float | None) -> str | None:
    if value is None:
        return None
    fair, good, _ = MITI_THRESHOLDS[metric]
    return "good" if value >= good else "fair" if value >= fair else "below_fair"


def miti_summary(prac: list[_Turn], rubric: Rubric) -> MitiSummary:
    _, named = _compiled(rubric)
    counts = Counter({label: 0 for label in LABELS})
    adherent = Counter(
        {"asks_permission": 0, "seek_collaboration": 0, "affirm": 0, "emphasize_autonomy": 0}
    )
    non = Counter({"confront": 0, "directive": 0, "advice_without_permission": 0})
    permission_before = False
    for turn in prac:
        if turn.label:
            counts[turn.label] += 1
        permission = "asks_permission" in turn.flags
        if permission:
            adherent["asks_permission"] += 1
        for cat in ("seek_collaboration", "affirm", "emphasize_autonomy"):
            if _search(named[f"miti.{cat}"], turn):
                adherent[cat] += 1
        if turn.flags & {"suspicion", "labelling"} or _search(named["miti.confront"], turn):
            non["confront"] += 1
        elif "directive" in turn.flags or _search(
            named["miti.persuade"], turn, statements_only=True
        ):
            non["directive"] += 1
        elif turn.label == "advice" and not (permission or permission_before):
            non["advice_without_permission"] += 1
        permission_before = permission
    q = counts["open_question"] + counts["closed_question"]
    r = counts["simple_reflection"] + counts["complex_reflection"]
    rq = round(r / q, 2) if q else None
    oq = round(100 * counts["open_question"] / q, 1) if q else None
    cr = round(100 * counts["complex_reflection"] / r, 1) if r else None
    metrics = []
    for mid, value in (
        ("reflection_to_question", rq),
        ("pct_open_questions", oq),
        ("pct_complex_reflections", cr),
    ):
        fair, good, source = MITI_THRESHOLDS[mid]
        level = _level(mid, value)
        if mid == "reflection_to_question" and q == 0 and r > 0:
            level = "good"  # reflections and no questions: the ratio is unbounded
        metrics.append(
            MitiMetric(id=mid, value=value, fair=fair, good=good, level=level, source=source)
        )
    return MitiSummary(
        counts=dict(counts),
        questions=q,
        reflections=r,
        reflection_to_question=rq,
        pct_open_questions=oq,
        pct_complex_reflections=cr,
        mi_adherent=sum(adherent.values()),
        mi_non_adherent=sum(non.values()),
        adherent_detail=dict(adherent),
        non_adherent_detail=dict(non),
        metrics=metrics,
        note=t("report.miti.note", rubric.language),
    )


def miti_attainment(summary: MitiSummary) -> float | None:
    """0..1: how far the MITI figures reach their 'good' thresholds (None: nothing to go on)."""
    parts: list[float] = []
    for m in summary.metrics:
        if m.value is not None:
            parts.append(min(m.value / m.good, 1.0))
        elif m.level == "good":
            parts.append(1.0)
    total = summary.mi_adherent + summary.mi_non_adherent
    if total:
        parts.append(summary.mi_adherent / total)
    return sum(parts) / len(parts) if parts else None


# --------------------------------------------------------------------------- principles


@dataclass
class _Tally:
    pos: float = 0.0
    neg: float = 0.0
    hits: Counter[tuple[str, str]] = field(default_factory=Counter)  # (polarity, text) -> n
    evidence: list[Evidence] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)

    def add(self, polarity: str, weight: float, ev: Evidence | None, label: str) -> None:
        if polarity == "for":
            self.pos += weight
        else:
            self.neg += weight
        self.hits[(polarity, label)] += 1
        if ev is not None:
            self.evidence.append(ev)


def _trust_extreme(
    transcript: Transcript, trust: list[TrustPoint], sign: float
) -> tuple[int, float] | None:
    """The practitioner turn before the largest single trust change in the direction of
    `sign` (+1 rise, -1 fall), and that change."""
    best: tuple[int, float] | None = None
    for prev, cur in itertools.pairwise(trust):
        delta = cur.trust - prev.trust
        if delta * sign <= 0 or (best is not None and abs(delta) <= abs(best[1])):
            continue
        before = [
            i
            for i in range(prev.turn + 1, cur.turn)
            if transcript.turns[i].speaker == "practitioner"
        ]
        if before:
            best = (before[-1], delta)
    return best


def _score_principle(
    p: Principle,
    prac: list[_Turn],
    hooks: dict[int, _Hook],
    own: Ownership,
    trust: list[TrustPoint],
    transcript: Transcript,
    lang: str,
) -> PrincipleScore:
    tally = _Tally()
    for turn in prac:
        for polarity, inds in (("for", p.indicators), ("against", p.counter_indicators)):
            for ind in inds:
                if ind.detect is None:
                    continue
                m = _match(hooks[id(ind.detect)], turn)
                if m is None:
                    continue
                q, by_model = m
                conf = turn.coded.confidence if (by_model and turn.coded) else 1.0
                weight = ind.weight * (0.5 + 0.5 * conf) if by_model else ind.weight
                tally.add(
                    polarity,
                    weight,
                    Evidence(
                        turn=turn.index,
                        quote=q,
                        polarity=polarity,
                        indicator=ind.id,
                        by="model" if by_model else "cue",
                    ),
                    ind.text,
                )

    if "opening" in p.signals and prac:
        first = prac[0]
        good = [
            m
            for ind in p.indicators
            if ind.detect is not None and (m := _match(hooks[id(ind.detect)], first))
        ]
        bad = [
            m
            for ind in p.counter_indicators
            if ind.detect is not None and (m := _match(hooks[id(ind.detect)], first))
        ]
        if first.label in ("information", "advice") and not bad:
            bad = [(quote(first.text), True)]
        if good and not bad:
            ev = Evidence(
                turn=first.index, quote=good[0][0], polarity="for", indicator="opening", by="signal"
            )
            tally.add("for", SIGNAL_WEIGHT["opening"], ev, t("report.signal.opening_good", lang))
        elif bad:
            ev = Evidence(
                turn=first.index,
                quote=bad[0][0],
                polarity="against",
                indicator="opening",
                by="signal",
            )
            tally.add("against", SIGNAL_WEIGHT["opening"], ev, t("report.signal.opening_bad", lang))

    for signal, event in (("ownership_problem", own.problem), ("ownership_plan", own.plan)):
        if signal in p.signals and event.by is not None and event.turn is not None:
            polarity = "for" if event.by == "citizen" else "against"
            key = f"report.signal.{signal}.{event.by}"
            tally.add(
                polarity,
                SIGNAL_WEIGHT[signal],
                Evidence(
                    turn=event.turn,
                    quote=event.quote or "",
                    polarity=polarity,
                    indicator=signal,
                    by="signal",
                ),
                t(key, lang),
            )

    if "trust" in p.signals and len(trust) >= 2:
        delta = trust[-1].trust - trust[0].trust
        if abs(delta) >= 0.05:
            polarity = "for" if delta > 0 else "against"
            extreme = _trust_extreme(transcript, trust, 1.0 if delta > 0 else -1.0)
            ev = None
            if extreme is not None:
                txt = transcript.turns[extreme[0]].text
                ev = Evidence(
                    turn=extreme[0],
                    quote=quote(txt),
                    polarity=polarity,
                    indicator="trust",
                    by="signal",
                )
            tally.add(
                polarity,
                min(abs(delta) * TRUST_GAIN, 3.0),
                ev,
                t(
                    "report.signal.trust_up" if delta > 0 else "report.signal.trust_down",
                    lang,
                    first=f"{trust[0].trust:.2f}",
                    last=f"{trust[-1].trust:.2f}",
                ),
            )

    if tally.pos == 0 and len(prac) >= 5:
        # A long conversation without a single indicator of the principle says something too.
        tally.add("against", 1.0, None, t("report.signal.absent", lang))

    n_items = sum(tally.hits.values())
    raw = 3.0 + 2.0 * (tally.pos - tally.neg) / (tally.pos + tally.neg + 2.0)
    raw = min(5.0, max(1.0, raw))
    score = math.floor(raw + 0.5)
    coverage = min(1.0, len(prac) / 6)
    confidence = round((1.0 - math.exp(-n_items / 3.0)) * coverage, 2)
    insufficient = n_items < 2 or len(prac) < MIN_PRACTITIONER_TURNS
    return PrincipleScore(
        id=p.id,
        title=p.title,
        score=score,
        raw=round(raw, 2),
        confidence=confidence,
        insufficient_evidence=insufficient,
        rationale=_rationale(tally, insufficient, lang),
        evidence=_pick_evidence(tally.evidence),
    )


def _pick_evidence(evidence: list[Evidence]) -> list[Evidence]:
    """At most MAX_EVIDENCE_PER_POLARITY per polarity, in turn order; signals first, then
    rubric-cue matches, then coder label/flag matches; a turn at most once as a signal and
    once as an indicator match."""
    out: list[Evidence] = []
    for polarity in ("for", "against"):
        seen: set[tuple[int, bool]] = set()  # a turn once as a signal, once as a match
        rank = {"signal": 0, "cue": 1, "model": 2}
        ordered = sorted((e for e in evidence if e.polarity == polarity), key=lambda e: rank[e.by])
        chosen: list[Evidence] = []
        for e in ordered:
            key = (e.turn, e.by == "signal")
            if key in seen or len(chosen) >= MAX_EVIDENCE_PER_POLARITY:
                continue
            seen.add(key)
            chosen.append(e)
        out.extend(sorted(chosen, key=lambda e: e.turn))
    return out


def _rationale(tally: _Tally, insufficient: bool, lang: str) -> str:
    def listing(polarity: str) -> str:
        items = sorted(
            ((label, n) for (pol, label), n in tally.hits.items() if pol == polarity),
            key=lambda x: -x[1],
        )
        return "; ".join(f"{label} ×{n}" if n > 1 else label for label, n in items[:4])

    parts = []
    pro, con = listing("for"), listing("against")
    parts.append(
        t("report.rationale.for", lang, items=pro) if pro else t("report.rationale.no_for", lang)
    )
    if con:
        parts.append(t("report.rationale.against", lang, items=con))
    if insufficient:
        parts.append(t("report.rationale.insufficient", lang))
    return " ".join(parts)


# --------------------------------------------------------------------------- entry point


def coder_name(coder: object) -> str:
    name = getattr(coder, "name", None) or type(coder).__name__
    version = getattr(coder, "version", None)
    return f"{name} {version}" if version else str(name)


def score_transcript(
    transcript: Transcript, *, rubric: Rubric | None = None, coder: object | None = None
) -> CoachReport:
    """Score one transcript. Offline; the coder is called once for all practitioner turns."""
    lang = transcript.language
    rubric = rubric or load_rubric(lang)
    coder = coder or get_coder()
    hooks, _ = _compiled(rubric)

    prac_idx = [i for i, tr in enumerate(transcript.turns) if tr.speaker == "practitioner"]
    items = [(transcript.turns[i].text, transcript.previous_citizen(i)) for i in prac_idx]
    coded: list[Coded] = list(coder.code_many(items, lang)) if items else []  # type: ignore[attr-defined]
    prac = [
        _Turn(
            i, transcript.turns[i].text, _sentences(transcript.turns[i].text), c, frozenset(c.flags)
        )
        for i, c in zip(prac_idx, coded, strict=True)
    ]
    by_index = {tr.index: tr for tr in prac}
    behaviours: list[str | None] = [None] * len(transcript.turns)
    turn_flags: list[list[str]] = [[] for _ in transcript.turns]
    for tr in prac:
        behaviours[tr.index] = tr.label
        turn_flags[tr.index] = sorted(tr.flags)

    own = ownership(transcript, by_index, rubric)
    trust = [
        TrustPoint(turn=i, trust=round(tr.trust, 3))
        for i, tr in enumerate(transcript.turns)
        if tr.speaker == "citizen" and tr.trust is not None
    ]
    summary = miti_summary(prac, rubric)
    common = {
        "language": lang,
        "scenario_id": transcript.scenario_id,
        "rubric_id": rubric.id,
        "rubric_version": rubric.version,
        "coder": coder_name(coder),
        "practitioner_turns": len(prac),
        "summary": summary,
        "ownership": own,
        "trust": trust,
        "behaviours": behaviours,
        "turn_flags": turn_flags,
    }
    if not prac:
        return CoachReport(
            status="no_practitioner_turns",
            message=t("report.no_practitioner_turns", lang),
            overall=None,
            principles=[],
            **common,
        )

    principles = [
        _score_principle(p, prac, hooks, own, trust, transcript, lang) for p in rubric.principles
    ]
    return CoachReport(
        status="ok",
        overall=overall_score(principles, summary, rubric),
        principles=principles,
        **common,
    )


def overall_score(principles: list[PrincipleScore], summary: MitiSummary, rubric: Rubric) -> float:
    num = den = 0.0
    for ps in principles:
        w = rubric.principle(ps.id).weight * (0.5 + 0.5 * ps.confidence)
        num += w * (ps.raw - 1.0) / 4.0
        den += w
    part = num / den if den else 0.5
    miti = miti_attainment(summary)
    if miti is None:
        return round(100 * part, 1)
    return round(100 * ((1 - rubric.miti_weight) * part + rubric.miti_weight * miti), 1)
