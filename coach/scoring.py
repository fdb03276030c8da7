"""Scoring a transcript against the relational rubric, offline and fast.

    score_transcript(transcript, *, rubric=None, reader=None) -> CoachReport

The coach understands a practitioner turn only through its *reading*
(:func:`reading.get_reader`): a behaviour code (AnnoMI) and the relational moves present,
each with a calibrated probability and the sentence that carries it. No keyword list or
regular expression decides anything about a practitioner turn. How it works (all evidence
rules are data in ``rubric/relational-<lang>.yaml``):

1. The reader reads every practitioner turn, with the citizen turn before it, in one
   batch (``read_many``).
2. For each principle, every practitioner turn is matched against the principle's
   indicators and counter-indicators (behaviour codes and moves of the reading). A move
   match adds the indicator's weight scaled by the move's probability, quoting the
   sentence that carries the move (``Reading.quote_for``); a behaviour-code match adds the
   weight scaled by 0.5 + 0.5 * the code's probability, quoting the turn.
3. Structural signals named by the principle add evidence: ``opening`` (how the first
   practitioner turn begins), ``ownership_problem`` / ``ownership_plan`` (who first named
   the problem / the plan, see :func:`ownership`), ``trust`` (the citizen's trust
   trajectory, when the turns carry it).
4. score = 3 + 2 * (for - against) / (for + against + 2), rounded to 1..5. Few evidence
   items or few practitioner turns mark the score ``insufficient_evidence`` and lower
   its confidence.
5. MITI summary from the behaviour codes and the rubric's ``miti`` move lists (affirm,
   autonomy, collaboration, confront, persuade; permission is the move ``asks_permission``),
   with MITI 4.2.1 thresholds (%OQ: MITI 3.1.1).
6. overall (0-100) = (1 - miti_weight) * confidence-weighted principle mean
   + miti_weight * MITI attainment.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from base.i18n import t
from base.models import Transcript
from coach.overall import features, get_model
from coach.rubric import load_rubric
from coach.schema import (
    CoachReport,
    Evidence,
    Hook,
    MitiMetric,
    MitiSummary,
    Ownership,
    Principle,
    PrincipleScore,
    Rubric,
    TrustPoint,
)
from coach.signals import analyse
from coach.turns import CoachTurn, quote
from reading import BEHAVIOURS, get_reader

MAX_EVIDENCE_PER_POLARITY = 5
MIN_PRACTITIONER_TURNS = 3
TRUST_GAIN = 5.0  # evidence weight per unit of trust change
SIGNAL_WEIGHT = {"opening": 1.0, "ownership_problem": 2.0, "ownership_plan": 2.0}
OPENING_AGENDA_LABELS = ("information", "advice")  # a first turn that starts with input

# MITI thresholds. R:Q and %CR from MITI 4.2.1; MITI 4.2.1 dropped %OQ, so MITI 3.1.1's.
MITI_THRESHOLDS = {
    "reflection_to_question": (1.0, 2.0, "MITI 4.2.1"),
    "pct_complex_reflections": (40.0, 50.0, "MITI 4.2.1"),
    "pct_open_questions": (50.0, 70.0, "MITI 3.1.1"),
}


@dataclass(frozen=True)
class _Match:
    quote: str
    strength: float  # 0..1: scales the indicator weight
    what: str  # the behaviour code or move that matched


def _match(hook: Hook, turn: CoachTurn) -> _Match | None:
    """How strongly the hook matches the turn's reading, and what to quote; None: no match."""
    if any(turn.has(m) for m in hook.unless_moves):
        return None
    best: _Match | None = None
    if turn.label in hook.labels:
        best = _Match(quote(turn.text), 0.5 + 0.5 * turn.reading.confidence, turn.label)
    for move in hook.moves:
        if turn.has(move) and (best is None or turn.p(move) > best.strength):
            best = _Match(turn.quote_for(move), turn.p(move), move)
    return best


def _strongest_move(turn: CoachTurn, moves: Sequence[str]) -> str | None:
    present = [m for m in moves if turn.has(m)]
    return max(present, key=turn.p) if present else None


# --------------------------------------------------------------------------- MITI


def _level(metric: str, value: float | None) -> str | None:
    if value is None:
        return None
    fair, good, _ = MITI_THRESHOLDS[metric]
    return "good" if value >= good else "fair" if value >= fair else "below_fair"


def miti_summary(prac: list[CoachTurn], rubric: Rubric) -> MitiSummary:
    """MITI figures from the readings: behaviour codes for the counts, the rubric's ``miti``
    move lists for the adherent / non-adherent behaviours."""
    miti = rubric.miti
    counts = Counter({label: 0 for label in BEHAVIOURS})
    adherent = Counter(
        {"asks_permission": 0, "seek_collaboration": 0, "affirm": 0, "emphasize_autonomy": 0}
    )
    non = Counter({"confront": 0, "directive": 0, "advice_without_permission": 0})
    permission_before = False
    for turn in prac:
        counts[turn.label] += 1
        permission = turn.has("asks_permission")
        if permission:
            adherent["asks_permission"] += 1
        for cat in ("seek_collaboration", "affirm", "emphasize_autonomy"):
            if any(turn.has(m) for m in getattr(miti, cat)):
                adherent[cat] += 1
        if any(turn.has(m) for m in miti.confront):
            non["confront"] += 1
        elif any(turn.has(m) for m in miti.persuade):
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
    evidence: list[tuple[Evidence, float]] = field(default_factory=list)  # with its weight
    signals: list[str] = field(default_factory=list)

    def add(self, polarity: str, weight: float, ev: Evidence | None, label: str) -> None:
        if polarity == "for":
            self.pos += weight
        else:
            self.neg += weight
        self.hits[(polarity, label)] += 1
        if ev is not None:
            self.evidence.append((ev, weight))


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
    prac: list[CoachTurn],
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
                m = _match(ind.detect, turn)
                if m is None:
                    continue
                tally.add(
                    polarity,
                    ind.weight * m.strength,
                    Evidence(
                        turn=turn.index,
                        quote=m.quote,
                        polarity=polarity,
                        indicator=ind.id,
                        by="model",
                    ),
                    ind.text,
                )

    if "opening" in p.signals and prac:
        first = prac[0]
        good = [
            m for ind in p.indicators if ind.detect is not None and (m := _match(ind.detect, first))
        ]
        bad = [
            m
            for ind in p.counter_indicators
            if ind.detect is not None and (m := _match(ind.detect, first))
        ]
        if first.label in OPENING_AGENDA_LABELS and not bad:
            # beginning with information or advice is beginning with one's own agenda
            bad = [_Match(quote(first.text), 1.0, first.label)]
        if good and not bad:
            ev = Evidence(
                turn=first.index,
                quote=good[0].quote,
                polarity="for",
                indicator="opening",
                by="signal",
            )
            tally.add("for", SIGNAL_WEIGHT["opening"], ev, t("report.signal.opening_good", lang))
        elif bad:
            ev = Evidence(
                turn=first.index,
                quote=bad[0].quote,
                polarity="against",
                indicator="opening",
                by="signal",
            )
            tally.add("against", SIGNAL_WEIGHT["opening"], ev, t("report.signal.opening_bad", lang))

    plan = own.adopted_plan if own.adopted_plan.by is not None else own.plan
    for signal, event in (("ownership_problem", own.problem), ("ownership_plan", plan)):
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


_RANK = {"signal": 0, "model": 1, "cue": 1}


def _pick_evidence(evidence: list[tuple[Evidence, float]]) -> list[Evidence]:
    """At most MAX_EVIDENCE_PER_POLARITY per polarity, in turn order; signals first, then
    the strongest matches of the reading; a turn at most once as a signal and once as an
    indicator match."""
    out: list[Evidence] = []
    for polarity in ("for", "against"):
        seen: set[tuple[int, bool]] = set()  # a turn once as a signal, once as a match
        ordered = sorted(
            ((e, w) for e, w in evidence if e.polarity == polarity),
            key=lambda ew: (_RANK[ew[0].by], -ew[1]),
        )
        chosen: list[Evidence] = []
        for e, _w in ordered:
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


def reader_name(reader: object) -> str:
    """The reading model's name (and training date) as the report records it."""
    manifest = getattr(reader, "manifest", None)
    if isinstance(manifest, dict) and manifest.get("name"):
        trained = manifest.get("trained")
        return f"{manifest['name']} ({trained})" if trained else str(manifest["name"])
    return str(getattr(reader, "name", None) or type(reader).__name__)


def read_turns(transcript: Transcript, reader: object) -> list[CoachTurn]:
    """Every practitioner turn with its reading; one batched ``read_many`` call."""
    idx = [i for i, tr in enumerate(transcript.turns) if tr.speaker == "practitioner"]
    if not idx:
        return []
    items = [(transcript.turns[i].text, transcript.previous_citizen(i)) for i in idx]
    readings = list(reader.read_many(items, transcript.language))  # type: ignore[attr-defined]
    return [CoachTurn(i, transcript.turns[i].text, r) for i, r in zip(idx, readings, strict=True)]


def score_transcript(
    transcript: Transcript,
    *,
    rubric: Rubric | None = None,
    reader: object | None = None,
    calibrated: bool = True,
) -> CoachReport:
    """Score one transcript. Offline; the reader is called once for all practitioner turns.

    ``reader`` is anything with ``read_many(items, language) -> list[Reading]`` (default:
    :func:`reading.get_reader`). With ``calibrated`` (default) and a trained
    ``coach/models/overall.json``, the overall and the principle scores come from the learned
    mapping (:mod:`coach.overall`); otherwise from the rubric formula below."""
    lang = transcript.language
    rubric = rubric or load_rubric(lang)
    reader = reader or get_reader()

    prac = read_turns(transcript, reader)
    behaviours: list[str | None] = [None] * len(transcript.turns)
    turn_flags: list[list[str]] = [[] for _ in transcript.turns]
    for tr in prac:
        behaviours[tr.index] = tr.label
        turn_flags[tr.index] = sorted(tr.moves)

    analysis = analyse(transcript, prac, rubric)
    own = analysis.ownership
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
        "coder": reader_name(reader),
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
        _score_principle(p, prac, own, trust, transcript, lang) for p in rubric.principles
    ]
    overall = overall_score(principles, summary, rubric)
    band = None
    model = get_model() if calibrated else None
    if model is not None:
        x = features(prac, analysis, {p.id: p.raw for p in principles}, miti_attainment(summary))
        pred = model.predict(x, len(prac))
        overall, band = pred.overall, pred.band
        principles = [
            p.model_copy(update={"score": pred.principles[p.id], "raw": pred.principle_raw[p.id]})
            for p in principles
        ]
    return CoachReport(
        status="ok",
        overall=overall,
        overall_band=band,
        principles=principles,
        signals=analysis.signals,
        patterns=analysis.patterns,
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


def conversation_features(
    transcript: Transcript, *, rubric: Rubric | None = None, reader: object | None = None
) -> np.ndarray | None:
    """The row of :data:`coach.overall.FEATURES` for one conversation (None: no
    practitioner turns). What ``python -m coach.train`` fits the calibrated overall on."""
    rubric = rubric or load_rubric(transcript.language)
    prac = read_turns(transcript, reader or get_reader())
    if not prac:
        return None
    analysis = analyse(transcript, prac, rubric)
    trust = [
        TrustPoint(turn=i, trust=round(tr.trust, 3))
        for i, tr in enumerate(transcript.turns)
        if tr.speaker == "citizen" and tr.trust is not None
    ]
    raws = {
        p.id: _score_principle(
            p, prac, analysis.ownership, trust, transcript, transcript.language
        ).raw
        for p in rubric.principles
    }
    return features(prac, analysis, raws, miti_attainment(miti_summary(prac, rubric)))
