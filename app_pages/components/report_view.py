"""The coach report in Streamlit.

    render_report(report, lang, *, key_prefix)

``lang`` is the interface language (headings, labels); the report's own texts
(rationales, notes) are in the session's language. Every widget key starts with
``key_prefix`` so the view can appear more than once on a page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

from base.i18n import t
from base.models import Transcript
from coach import export
from coach.export import judge_flag_text
from coach.judge import judge_transcript
from coach.schema import CoachReport, JudgeResult

_MIME = {
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _digest(report: CoachReport) -> str:
    return hashlib.sha1(report.model_dump_json().encode("utf-8")).hexdigest()[:16]


def _export_callable(report: CoachReport, lang: str, fmt: str) -> Callable[[], bytes]:
    """Deferred export: Streamlit runs it on its own thread when the button is clicked."""

    def make() -> bytes:

        fn = {"md": export.to_markdown, "docx": export.to_docx, "pdf": export.to_pdf}[fmt]
        try:
            return fn(report, lang)
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
        fmt = (
            (lambda v: "–" if v is None else f"{v:.0f} %")
            if pct
            else (lambda v: "–" if v is None else f"{v:.2f}")
        )
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
            st.metric(
                t("report.overall", lang),
                f"{report.overall:.0f}/100",
                help=t("report.overall_help", lang),
            )
        with col2:
            own = report.ownership
            problem = t(f"report.who.{own.problem.by or 'none'}", lang)
            plan = t(f"report.who.{own.plan.by or 'none'}", lang)
            st.markdown(
                f"**{t('report.ownership.problem', lang)}:** {problem}  \n"
                f"**{t('report.ownership.plan', lang)}:** {plan}"
            )

        st.markdown(f"#### {t('report.principles', lang)}")
        st.altair_chart(_principles_chart(report), width="stretch")
        for ps in report.principles:
            label = f"{ps.title} – {ps.score}/5"
            if ps.insufficient_evidence:
                label += f" ({t('report.insufficient', lang)})"
            with st.expander(label):
                st.markdown(f"**{t('report.rationale', lang)}:** {ps.rationale}")
                st.caption(f"{t('report.confidence', lang)}: {ps.confidence:.2f}")
                if not ps.evidence:
                    st.caption(t("report.evidence.none", lang))
                for ev in ps.evidence:
                    sign = "➕" if ev.polarity == "for" else "➖"
                    st.markdown(f"{sign} *{t('report.turn', lang, n=ev.turn + 1)}*: “{ev.quote}”")

    st.markdown(f"#### {t('report.miti', lang)}")
    st.dataframe(_miti_table(report, lang), hide_index=True, width="stretch")
    s = report.summary
    c1, c2 = st.columns(2)
    c1.metric(t("report.miti.adherent", lang), s.mi_adherent)
    c2.metric(t("report.miti.non_adherent", lang), s.mi_non_adherent)
    st.caption(s.note)

    st.markdown(f"#### {t('report.ownership', lang)}")
    for key, ev in (
        ("report.ownership.problem", report.ownership.problem),
        ("report.ownership.plan", report.ownership.plan),
    ):
        who = t(f"report.who.{ev.by or 'none'}", lang)
        line = f"**{t(key, lang)}:** {who}"
        if ev.turn is not None and ev.quote:
            line += f" – *{t('report.turn', lang, n=ev.turn + 1)}*: “{ev.quote}”"
        st.markdown(line)
    st.caption(report.ownership.method)

    st.markdown(f"#### {t('report.trust', lang)}")
    if report.trust:
        df = pd.DataFrame(
            {"trust": [p.trust for p in report.trust]}, index=[p.turn + 1 for p in report.trust]
        )
        st.line_chart(df, y="trust")
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
        rows = []
        for jp in report.judge.principles:
            marks = [t("report.judge.disagree", lang)] if jp.disagreement else []
            marks += [judge_flag_text(f, lang) for f in jp.flags]
            rows.append(
                {
                    t("report.principle", lang): jp.id,
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
            f"{t('report.turn', lang, n=i + 1)}: {t(f'report.behaviour.{b}', lang)}"
            + (
                f" · {', '.join(report.turn_flags[i])}"
                if i < len(report.turn_flags) and report.turn_flags[i]
                else ""
            )
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
                data=_export_callable(report, lang, fmt),
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
        for w in n.went_well:
            st.markdown(f"- {w.text}" + (f" – “{w.quote}”" if w.quote else ""))
    else:
        st.caption(t("report.notes.none", lang))
    st.markdown(f"**{t('report.notes.growth', lang)}**")
    if n.growth_points:
        for g in n.growth_points:
            st.markdown(f"- {g.text} – *{t('report.turn', lang, n=g.turn + 1)}*: “{g.quote}”")
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
