"""Classroom (educators): open a class for a scenario, show the join code on the projector,
follow a live dashboard, project one consenting student (fishbowl), debrief, export.

Everything is read through ``practice.classroom.ClassroomService``, which checks that the
class is the educator's own and reads sessions through ``practice.access``. Students are
shown by pseudonym unless the educator turns names on for their own screen.
The selected class lives in the URL (``?class=…``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import shell
from base.i18n import t, tn
from practice.access import AccessDenied
from practice.classroom import ClassroomService, join_link, rubric_labels
from practice.review import principle_titles

REFRESH_SECONDS = 3

lang = shell.lang()
svc = shell.services()
user = shell.current_user()
rooms = ClassroomService(svc.db, svc.practice, secret_dir=svc.settings.data_dir)


def base_url() -> str:
    try:
        parts = urlsplit(st.context.url or "")
    except Exception:  # pragma: no cover - older Streamlit
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def student_name(alias: str, names: bool) -> str:
    return alias if names else t("classroom.student", lang, n=alias)


def open_form() -> None:
    library = svc.library()
    scenarios = sorted(library.scenarios.values(), key=lambda s: (s.language, s.title))
    if not scenarios:
        st.info(t("classroom.no_scenarios", lang))
        return
    with st.form("classroom.open_form"):
        chosen = st.selectbox(
            t("classroom.scenario", lang),
            [s.id for s in scenarios],
            format_func=lambda i: f"{library.get(i).title} · {library.get(i).language.upper()}",
            key="classroom.scenario",
        )
        title = st.text_input(
            t("classroom.class_title", lang), key="classroom.new_title", max_chars=200
        )
        if st.form_submit_button(t("classroom.open", lang), type="primary"):
            info = rooms.open_class(user, chosen, title)
            st.query_params["class"] = info.id
            st.rerun()


def header(info) -> None:
    link = join_link(base_url(), info.code) if base_url() else f"/join?join={info.code}"
    col1, col2 = st.columns([2, 3])
    with col1:
        st.markdown(
            f"<div style='font-size:0.9rem'>{t('classroom.code', lang)}</div>"
            f"<div data-testid='class-code' style='font-size:4rem;font-weight:700;letter-spacing:0.3rem;"
            f"font-family:monospace'>{info.code}</div>",
            unsafe_allow_html=True,
        )
    with col2:
        st.subheader(info.title)
        st.markdown(t("classroom.join_at", lang, link=f"[{link}]({link})"))
        st.caption(t(f"classroom.status.{info.status}", lang))
        if info.status == "open":
            if st.button(t("classroom.close", lang), key="classroom.close"):
                rooms.set_status(user, info.id, "closed")
                st.rerun()
        elif st.button(t("classroom.reopen", lang), key="classroom.reopen"):
            rooms.set_status(user, info.id, "open")
            st.rerun()


def distribution_chart(board) -> alt.Chart:
    titles = principle_titles(lang)  # cached; in the viewer's language
    rows = [
        {
            "principle": titles.get(pid) or board.principle_titles.get(pid, pid),
            "score": str(score),
            "count": n,
        }
        for pid, dist in board.distribution.items()
        for score, n in dist.items()
        if n
    ]
    df = pd.DataFrame(rows)
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(
                "principle:N",
                title=None,  # the labels say it; a rotated title would overlap them
                sort=None,
                axis=alt.Axis(labelLimit=320),
            ),
            x=alt.X(
                "count:Q",
                title=t("classroom.col.count", lang),
                stack="zero",
                axis=alt.Axis(tickMinStep=1, format="d"),
            ),
            color=alt.Color(
                "score:O",
                title=t("classroom.col.score", lang),
                scale=alt.Scale(domain=["1", "2", "3", "4", "5"], scheme="redyellowgreen"),
            ),
            order=alt.Order("score:O"),
            tooltip=["principle", "score", "count"],
        )
        .properties(height=40 * max(1, len(board.distribution)) + 40)
    )


@st.fragment(run_every=REFRESH_SECONDS)
def live_dashboard(class_id: str, names: bool) -> None:
    board = rooms.dashboard(user, class_id, names=names)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("classroom.metric.joined", lang), board.joined)
    c2.metric(t("classroom.metric.started", lang), board.started)
    c3.metric(t("classroom.metric.ended", lang), board.ended)
    c4.metric(t("classroom.metric.turns", lang), board.total_turns)
    if not board.students:
        st.info(t("classroom.waiting", lang))
    else:
        df = pd.DataFrame(
            [
                {
                    t("classroom.col.student", lang): student_name(s.alias, names),
                    t("classroom.col.status", lang): t(
                        f"classroom.student_status.{s.status}", lang
                    ),
                    t("classroom.col.turns", lang): s.turns,
                    t("classroom.col.trust", lang): "–" if s.trust is None else f"{s.trust:.2f}",
                    t("classroom.col.overall", lang): "–"
                    if s.overall is None
                    else str(round(s.overall)),
                }
                for s in board.students
            ]
        )
        st.dataframe(df, hide_index=True, width="stretch")
    st.subheader(t("classroom.distribution", lang))
    if board.distribution:
        st.altair_chart(distribution_chart(board), width="stretch")
        if board.tentative:
            st.caption(t("classroom.tentative", lang, n=max(board.tentative.values())))
    else:
        st.caption(t("classroom.no_scores", lang))
    st.caption(t("classroom.refreshing", lang, n=REFRESH_SECONDS))


@st.fragment(run_every=REFRESH_SECONDS)
def fishbowl_tab(class_id: str, names: bool) -> None:
    """Live: the list of consenting students and the projected conversation both refresh
    (a student may give or withdraw consent at any moment)."""
    info = rooms.get_class(user, class_id)
    st.caption(t("classroom.fishbowl.intro", lang))
    candidates = rooms.fishbowl_candidates(user, info.id)
    if names:
        real = {s.session_id: s.alias for s in rooms.dashboard(user, info.id, names=True).students}
    if not candidates:
        st.info(t("classroom.fishbowl.none_consented", lang))
    else:
        options = ["", *[c.session_id for c in candidates]]
        labels = {
            c.session_id: student_name(real[c.session_id] if names else c.alias, names)
            for c in candidates
        }
        current = info.fishbowl_session_id if info.fishbowl_session_id in options else ""
        chosen = st.selectbox(
            t("classroom.fishbowl.pick", lang),
            options,
            index=options.index(current),
            format_func=lambda sid: labels.get(sid, t("classroom.fishbowl.nobody", lang)),
            key=f"classroom.fishbowl.{info.id}",
        )
        if (chosen or None) != info.fishbowl_session_id:
            try:
                rooms.set_fishbowl(user, info.id, chosen or None)
            except AccessDenied as exc:
                st.error(str(exc))
        if chosen:
            st.markdown(f"**{t('classroom.fishbowl.showing', lang, name=labels[chosen])}**")
    view = rooms.fishbowl(user, info.id)
    if view is None:
        st.info(t("classroom.fishbowl.off", lang))
        return
    for turn in view.turns:
        role = "user" if turn.speaker == "practitioner" else "assistant"
        with st.chat_message(role, avatar="🧑‍💼" if role == "user" else "🙂"):
            st.markdown(turn.text)


@st.fragment(run_every=REFRESH_SECONDS * 5)
def debrief_tab(info) -> None:
    scenario = svc.library().scenarios.get(info.scenario_id)
    labels = rubric_labels(scenario.language if scenario else lang)
    d = rooms.debrief(user, info.id, labels=labels)
    st.subheader(t("classroom.debrief.best", lang))
    st.caption(t("classroom.debrief.best_intro", lang))
    if not d.best_moments:
        st.info(t("classroom.debrief.empty", lang))
    for m in d.best_moments:
        with st.container(border=True):
            if m.before:
                st.markdown(f"*{t('classroom.debrief.citizen', lang)}:* {m.before}")
            st.markdown(f"**{t('classroom.debrief.practitioner', lang)}:** {m.text}")
            if m.after:
                st.markdown(f"*{t('classroom.debrief.citizen', lang)}:* {m.after}")
            if m.reason == "trust":
                st.caption(t("classroom.debrief.trust_up", lang, d=f"{m.trust_delta:+.2f}"))
            else:
                st.caption(t("classroom.debrief.coach_good", lang, ind=m.indicator or ""))
    st.subheader(t("classroom.debrief.pitfalls", lang))
    if not d.pitfalls:
        st.info(t("classroom.debrief.empty", lang))
    for p in d.pitfalls:
        st.markdown(
            f"- {tn('classroom.debrief.pitfall_line', lang, p.count, label=p.label, k=p.students)} "
            f"· _{t(f'classroom.debrief.kind.{p.kind}', lang)}_"
        )
        if p.example:
            st.caption(f"“{p.example}”")


def report_tab(info) -> None:
    st.caption(t("classroom.report.anon", lang))
    scenario = svc.library().scenarios.get(info.scenario_id)
    labels = rubric_labels(scenario.language if scenario else lang)
    c1, c2 = st.columns(2)
    with c1:
        st.download_button(
            t("classroom.report.csv", lang),
            lambda: rooms.report_csv(user, info.id),  # made when clicked: always current
            file_name=f"class-{info.code}.csv",
            mime="text/csv",
            key="classroom.csv",
        )
    with c2:
        st.download_button(
            t("classroom.report.pdf", lang),
            lambda: rooms.report_pdf(user, info.id, lang, labels=labels),
            file_name=f"class-{info.code}.pdf",
            mime="application/pdf",
            key="classroom.pdf",
        )


def main() -> None:
    st.title(t("classroom.title", lang))
    if user is None or user.role != "educator":
        st.warning(t("classroom.only_educators", lang))
        return
    st.caption(t("classroom.intro", lang))
    classes = rooms.list_classes(user)
    selected = st.query_params.get("class")
    with st.expander(t("classroom.open_new", lang), expanded=not classes):
        open_form()
    if not classes:
        st.info(t("classroom.none", lang))
        return
    ids = [c.id for c in classes]
    if selected not in ids:
        selected = ids[0]
    by_id = {c.id: c for c in classes}
    chosen = st.selectbox(
        t("classroom.pick_class", lang),
        ids,
        index=ids.index(selected),
        format_func=lambda i: (
            f"{by_id[i].title} · {by_id[i].code} · {by_id[i].created_at:%Y-%m-%d %H:%M}"
        ),
        key="classroom.pick",
    )
    if chosen != st.query_params.get("class"):
        st.query_params["class"] = chosen
    try:
        info = rooms.get_class(user, chosen)
    except AccessDenied:
        st.error(t("classroom.not_found", lang))
        return
    header(info)
    names = st.toggle(t("classroom.show_names", lang), value=False, key="classroom.names")
    if names:
        st.warning(t("classroom.names_warning", lang))
    tabs = st.tabs(
        [
            t("classroom.tab.dashboard", lang),
            t("classroom.tab.fishbowl", lang),
            t("classroom.tab.debrief", lang),
            t("classroom.tab.report", lang),
        ]
    )
    with tabs[0]:
        live_dashboard(info.id, names)
    with tabs[1]:
        fishbowl_tab(info.id, names)
    with tabs[2]:
        debrief_tab(info)
    with tabs[3]:
        report_tab(info)


main()
