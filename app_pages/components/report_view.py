"""The coach report in Streamlit.

    render_report(report, lang, *, key_prefix, transcript=None, judge_model=None)

``lang`` is the interface language (headings, labels); the report's own texts
(rationales, notes) are in the session's language. Every widget key starts with
``key_prefix`` so the view can appear more than once on a page. The page says what the
exports say (``coach.export``): codes of the reading in words, 1-based turn numbers,
numbers with the reader's decimal separator, uncertain scores marked, trust on 0-100;
the downloads carry the whole transcript when ``transcript`` is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

from base.i18n import fmt_number, t
from base.models import Transcript
from coach import export
from coach.export import (
    count_items,
    is_uncertain,
    judge_flag_text,
    pattern_text,
    reading_text,
    trust_100,
    turn_label,
    turn_word,
)
from coach.judge import judge_transcript
from coach.schema import CoachReport, JudgeResult, OwnershipEvent

_MIME = {
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _digest(report: CoachReport) -> str:
    return hashlib.sha1(report.model_dump_json().encode("utf-8")).hexdigest()[:16]


def _export_callable(
    report: CoachReport, lang: str, fmt: str, transcript: Transcript | None = None
) -> Callable[[], bytes]:
    """Deferred export: Streamlit runs it on its own thread when the button is clicked."""

    def make() -> bytes:

        fn = {"md": export.to_markdown, "docx": export.to_docx, "pdf": export.to_pdf}[fmt]
        try:
            return fn(report, lang, transcript=transcript)
        except Exception as exc:  # a broken format must not break the page
            return t("report.download.failed", lang, error=str(exc)).encode("utf-8")

    return make


def _principles_chart(report: CoachReport) -> alt.Chart:
    df = pd.DataFrame(
        {
            "principle": [p.title for p in report.principles],
            "score": [p.score for p in report.principles],
            "confidence": [p.confidence for p in report.principles],
        }
    )
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 5]), title=None),
            y=alt.Y("principle:N", sort=None, title=None),
            color=alt.Color(
                "score:Q", scale=alt.Scale(domain=[1, 5], scheme="redyellowgreen"), legend=None
            ),
            opacity=alt.Opacity(
                "confidence:Q", scale=alt.Scale(domain=[0, 1], range=[0.35, 1]), legend=None
            ),
            tooltip=["principle", "score", "confidence"],
        )
        .properties(height=36 * max(1, len(report.principles)))
    )


def _miti_table(report: CoachReport, lang: str) -> pd.DataFrame:
    rows = []
    for m in report.summary.metrics:
        pct = m.id != "reflection_to_question"

        def fmt(v: float | None, pct: bool = pct) -> str:
            return fmt_number(v, lang, 0, pct=True) if pct else fmt_number(v, lang, 2)

        rows.append(
            {
                t("report.miti.metric", lang): t(f"report.miti.{m.id}", lang),
                t("report.miti.value", lang): fmt(m.value),
                t("report.miti.fair", lang): fmt(m.fair),
                t("report.miti.good", lang): fmt(m.good),
                t("report.miti.level", lang): t(f"report.miti.level.{m.level or 'none'}", lang),
                t("report.miti.source", lang): m.source,
            }
        )
    return pd.DataFrame(rows)


def _ownership_events(report: CoachReport) -> list[tuple[str, OwnershipEvent]]:
    """Problem and plan ownership, and whose plan was adopted when the report says so."""
    own = report.ownership
    events = [("report.ownership.problem", own.problem), ("report.ownership.plan", own.plan)]
    if own.adopted_plan.by is not None:
        events.append(("report.export.adopted_plan", own.adopted_plan))
    return events


def render_report(
    report: CoachReport,
    lang: str,
    *,
    key_prefix: str,
    transcript: Transcript | None = None,
    judge_model: object | None = None,
) -> None:
    """Show `report`. With `transcript` and `judge_model` (a ``base.llm.ChatModel``), a
    button asks the optional LLM judge for a second opinion, shown beside the offline scores."""
    judged_key = f"{key_prefix}.judged.{_digest(report)}"
    judged = st.session_state.get(judged_key)
    if judged is not None and report.judge is None:
        report = report.model_copy(update={"judge": JudgeResult.model_validate_json(judged)})
    st.subheader(t("report.title", lang))
    st.caption(
        t(
            "report.meta",
            lang,
            rubric=report.rubric_id,
            version=report.rubric_version,
            coder=report.coder,
            language=report.language,
        )
    )
    if report.status != "ok":
        st.info(report.message or t("report.no_practitioner_turns", lang))
    else:
        col1, col2 = st.columns([1, 2])
        with col1:
            overall = f"{fmt_number(report.overall, lang)}/100"
            helptext = t("report.overall_help", lang)
            if report.overall_band is not None:
                low, high = (fmt_number(v, lang) for v in report.overall_band)
                overall += f" ({low}–{high})"
                helptext += " " + t("report.export.band", lang, low=low, high=high)
            st.metric(t("report.overall", lang), overall, help=helptext)
        with col2:
            lines = []
            for key, ev in _ownership_events(report):
                who = t(f"report.who.{ev.by or 'none'}", lang)
                lines.append(f"**{t(key, lang)}:** {who}")
            st.markdown("  \n".join(lines))

        st.markdown(f"#### {t('report.principles', lang)}")
        st.altair_chart(_principles_chart(report), width="stretch")
        for ps in report.principles:
            label = f"{ps.title} – {ps.score}/5"
            marks = [t("report.export.uncertain", lang)] if is_uncertain(ps) else []
            if ps.insufficient_evidence:
                marks.append(t("report.insufficient", lang))
            if marks:
                label += f" ({': '.join(marks)})"
            with st.expander(label):
                st.markdown(f"**{t('report.rationale', lang)}:** {ps.rationale}")
                st.caption(f"{t('report.confidence', lang)}: {fmt_number(ps.confidence, lang, 2)}")
                if not ps.evidence:
                    st.caption(t("report.evidence.none", lang))
                shown = set()
                for ev in ps.evidence:
                    sign = "➕" if ev.polarity == "for" else "➖"
                    line = f"{sign} *{turn_label(ev.turn, lang)}*: “{ev.quote}”"
                    if line not in shown:  # the same quote of the same turn once
                        shown.add(line)
                        st.markdown(line)

    st.markdown(f"#### {t('report.miti', lang)}")
    st.dataframe(_miti_table(report, lang), hide_index=True, width="stretch")
    s = report.summary
    c1, c2 = st.columns(2)
    c1.metric(t("report.miti.adherent", lang), s.mi_adherent)
    c1.caption(count_items(s.adherent_detail, lang))
    c2.metric(t("report.miti.non_adherent", lang), s.mi_non_adherent)
    c2.caption(count_items(s.non_adherent_detail, lang))
    st.caption(s.note)

    st.markdown(f"#### {t('report.ownership', lang)}")
    for key, ev in _ownership_events(report):
        who = t(f"report.who.{ev.by or 'none'}", lang)
        line = f"**{t(key, lang)}:** {who}"
        if ev.turn is not None and ev.quote:
            line += f" – *{turn_label(ev.turn, lang)}*: “{ev.quote}”"
        st.markdown(line)
    st.caption(report.ownership.method)

    if report.patterns:
        st.markdown(f"#### {t('report.export.patterns', lang)}")
        for pat in report.patterns:
            st.markdown(f"**{pattern_text(pat.kind, lang)}:** {pat.text}")
            if len(pat.turns) == len(pat.quotes):
                for turn, q in zip(pat.turns, pat.quotes, strict=True):
                    st.markdown(f"- *{turn_label(turn, lang)}*: “{q}”")
            else:
                for q in pat.quotes:
                    st.markdown(f"- “{q}”")

    st.markdown(f"#### {t('report.trust', lang)}")
    if report.trust:
        axis = t("report.export.trust_axis", lang)
        df = pd.DataFrame(
            {axis: [trust_100(p.trust) for p in report.trust]},
            index=pd.Index([p.turn + 1 for p in report.trust], name=turn_word(lang)),
        )
        st.line_chart(df, y=axis)
        st.caption(t("report.export.trust_caption", lang))
    else:
        st.caption(t("report.trust.none", lang))

    if report.notes is not None:
        _render_notes(report, lang)

    can_judge = report.judge is None and transcript is not None and judge_model is not None
    if (
        can_judge
        and report.status == "ok"
        and st.button(t("report.judge.run", lang), key=f"{key_prefix}.judge")
    ):
        with st.status(t("report.judge.running", lang)) as status:
            try:
                result = judge_transcript(transcript, report, judge_model)
            except Exception as exc:  # the judge is optional: say why and carry on
                status.update(label=t("report.judge.failed", lang, error=str(exc)), state="error")
            else:
                st.session_state[judged_key] = result.model_dump_json()
                report = report.model_copy(update={"judge": result})
                status.update(label=t("report.working.done", lang), state="complete")

    if report.judge is not None:
        st.markdown(f"#### {t('report.judge', lang)}")
        titles = {p.id: p.title for p in report.principles}
        rows = []
        for jp in report.judge.principles:
            marks = [t("report.judge.disagree", lang)] if jp.disagreement else []
            marks += [judge_flag_text(f, lang) for f in jp.flags]
            rows.append(
                {
                    t("report.principle", lang): titles.get(jp.id, jp.id),
                    t("report.judge.offline", lang): jp.offline_score,
                    t("report.judge.score", lang): jp.score if jp.score is not None else "–",
                    "": "; ".join(marks),
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        if report.judge.injection_suspected:
            turns = ", ".join(str(i + 1) for i in report.judge.injection_suspected)
            st.warning(t("report.judge.injection", lang, turns=turns))

    with st.expander(t("report.behaviours", lang)):
        lines = [
            f"{turn_label(i, lang)}: {reading_text(report, i, lang)}"
            for i, b in enumerate(report.behaviours)
            if b is not None
        ]
        st.markdown("\n".join(f"- {line}" for line in lines) or t("report.notes.none", lang))

    st.markdown(f"#### {t('report.download', lang)}")
    cols = st.columns(3)
    stem = f"relational-report-{report.scenario_id or 'session'}"
    for col, fmt in zip(cols, ("md", "docx", "pdf"), strict=True):
        with col:
            st.download_button(
                t(f"report.download.{fmt}", lang),
                data=_export_callable(report, lang, fmt, transcript),
                file_name=f"{stem}.{fmt}",
                mime=_MIME[fmt],
                key=f"{key_prefix}.download.{fmt}",
                on_click="ignore",
            )


def _render_notes(report: CoachReport, lang: str) -> None:
    n = report.notes
    assert n is not None
    st.markdown(f"#### {t('report.notes', lang)}")
    st.markdown(n.summary)
    st.markdown(f"**{t('report.notes.went_well', lang)}**")
    if n.went_well:
        lines = [
            f"- {w.text}"
            + (
                f" – *{turn_label(w.turn, lang)}*: “{w.quote}”"
                if w.quote and w.turn is not None
                else ""
            )
            + (f" – “{w.quote}”" if w.quote and w.turn is None else "")
            for w in n.went_well
        ]
        for line in dict.fromkeys(lines):  # no bullet twice
            st.markdown(line)
    else:
        st.caption(t("report.notes.none", lang))
    st.markdown(f"**{t('report.notes.growth', lang)}**")
    if n.growth_points:
        for g in n.growth_points:
            st.markdown(f"- {g.text} – *{turn_label(g.turn, lang)}*: “{g.quote}”")
            st.info(f"{t('report.notes.alternative', lang)}: {g.alternative}")
    else:
        st.caption(t("report.notes.none", lang))
    if n.turning_points:
        st.markdown(f"**{t('report.notes.turning_points', lang)}**")
        for tp in n.turning_points:
            st.markdown(f"- {tp.text}" + (f" “{tp.quote}”" if tp.quote else ""))
    if n.citizen_voice:
        st.markdown(f"**{t('report.notes.citizen_voice', lang)}**")
        st.markdown("> " + n.citizen_voice.replace("\n", "\n> "))
    st.markdown(f"**{t('report.notes.questions', lang)}**")
    st.markdown("\n".join(f"1. {q}" for q in n.reflective_questions))
    st.markdown(f"**{t('report.notes.goal', lang)}**")
    st.success(n.next_goal)
