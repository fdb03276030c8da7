"""Supervision notes from a coach report, in the session's language.

    make_notes(report, transcript, *, citizen_voice=None, rubric=None) -> SupervisionNotes
    coach_session(transcript, *, citizen_voice=None, rubric=None, reader=None) -> CoachReport
        (score + notes in one call; the report's ``notes`` field is filled)

Texts come from the rubric (indicator wording, authored alternative phrasings per
counter-indicator, a reflective question and a goal per principle) and from the
``report.notes.*`` strings in ``base/locales/report.yaml``.
"""

from __future__ import annotations

import itertools

from base.i18n import t
from base.models import Transcript
from coach.rubric import load_rubric
from coach.schema import (
    CoachReport,
    Evidence,
    GrowthPoint,
    NoteItem,
    PrincipleScore,
    Rubric,
    SupervisionNotes,
    TurningPoint,
)
from coach.scoring import quote, score_transcript

TURNING_POINT_DELTA = 0.1
MAX_WENT_WELL = 3
MAX_GROWTH = 3


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
                text=t(key, lang, before=f"{prev.trust:.2f}", after=f"{cur.trust:.2f}"),
            )
        )
    return out


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
    if report.status != "ok":
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

    texts = _indicator_texts(rubric)
    ranked = _ranked(report)

    # What went well: the strongest principles, each with its first piece of turn evidence.
    went_well: list[NoteItem] = []
    used_turns: set[int] = set()
    for ps in reversed(ranked):
        if len(went_well) >= MAX_WENT_WELL or ps.score < 3:
            break
        for ev in _strongest_first(ps):
            if ev.polarity != "for" or ev.turn in used_turns:
                continue
            what = texts.get((ps.id, ev.indicator)) or t(
                f"report.notes.signal.{ev.indicator}", lang
            )
            went_well.append(
                NoteItem(
                    text=t("report.notes.went_well_item", lang, principle=ps.title, what=what),
                    turn=ev.turn,
                    quote=ev.quote,
                )
            )
            used_turns.add(ev.turn)
            break

    # Growth points: observed counter-indicators with authored alternatives; weakest
    # principles first, one per principle before a second from the same principle.
    growth: list[GrowthPoint] = []
    seen: set[str] = set()
    for per_principle in (1, MAX_GROWTH):
        for ps in ranked:
            principle = rubric.principle(ps.id)
            counters = {c.id: c for c in principle.counter_indicators}
            taken = sum(g.principle == ps.id for g in growth)
            for ev in _strongest_first(ps):
                if len(growth) >= MAX_GROWTH or taken >= per_principle:
                    break
                counter = counters.get(ev.indicator)
                if ev.polarity != "against" or counter is None or counter.id in seen:
                    continue
                seen.add(counter.id)
                taken += 1
                growth.append(
                    GrowthPoint(
                        principle=ps.id,
                        indicator=counter.id,
                        text=t(
                            "report.notes.growth_item", lang, principle=ps.title, what=counter.text
                        ),
                        turn=ev.turn,
                        quote=ev.quote,
                        alternative=counter.alternatives[ev.turn % len(counter.alternatives)],
                    )
                )

    weakest = ranked[0]
    goal_principle = rubric.principle(growth[0].principle if growth else weakest.id)
    questions = [rubric.principle(ps.id).reflective_question for ps in ranked[:3]]

    strongest = ranked[-1]
    own = report.ownership
    own_text = t(
        "report.notes.summary_ownership",
        lang,
        problem=t(f"report.who.{own.problem.by or 'none'}", lang),
        plan=t(f"report.who.{own.plan.by or 'none'}", lang),
    )
    summary = " ".join(
        [
            t(
                "report.notes.summary",
                lang,
                overall=f"{report.overall:.0f}" if report.overall is not None else "-",
                n=report.practitioner_turns,
                best=strongest.title,
                best_score=strongest.score,
                weakest=weakest.title,
                weakest_score=weakest.score,
            ),
            own_text,
        ]
    )
    if any(p.insufficient_evidence for p in report.principles):
        summary += " " + t("report.notes.summary_uncertain", lang)

    return SupervisionNotes(
        language=lang,
        summary=summary,
        went_well=went_well,
        growth_points=growth,
        turning_points=turning_points(report, transcript),
        citizen_voice=voice,
        reflective_questions=questions,
        next_goal=goal_principle.next_goal,
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
