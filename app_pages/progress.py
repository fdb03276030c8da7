"""Progress: my principle scores over my sessions (a chart), the goals from my
supervision notes, and "try again from turn N" with the two branches side by side."""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t
from practice.access import AccessDenied
from practice.progress import ProgressService
from practice.sessions import SessionError

lang = shell.lang()
svc = shell.services()
user = shell.current_user()
progress = ProgressService(svc.db)

st.title(t("progress.title", lang))

# -- scores over time ---------------------------------------------------------------------
points = progress.history(user)
st.subheader(t("progress.scores", lang))
if not points:
    st.info(t("progress.empty", lang))
else:
    import altair as alt
    import pandas as pd

    order = {sid: n for n, sid in enumerate(dict.fromkeys(p.session_id for p in points), start=1)}
    df = pd.DataFrame(
        [
            {
                "session": f"{order[p.session_id]}. {p.when:%d/%m}",
                "n": order[p.session_id],
                "title": p.title,
                "date": f"{p.when:%Y-%m-%d %H:%M}",
                "principle": p.principle_title,
                "score": p.score,
                "raw": round(p.raw, 2),
            }
            for p in points
        ]
    )
    chart = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("session:O", title=t("progress.when", lang), sort=alt.SortField("n")),
            y=alt.Y("raw:Q", title=t("progress.score", lang), scale=alt.Scale(domain=[1, 5])),
            color=alt.Color("principle:N", title=t("review.principle", lang)),
            tooltip=["title", "date", "principle", "score", "raw"],
        )
    )
    st.altair_chart(chart, width="stretch")
    overall = {p.session_id: (p.when, p.title, p.overall) for p in points}
    st.caption(t("progress.sessions_scored", lang, n=len(overall)))

# -- goals ------------------------------------------------------------------------------
st.subheader(t("progress.goals", lang))
goals = progress.goals(user)
if not goals:
    st.caption(t("progress.no_goals", lang))
for g in goals[:10]:
    with st.container(border=True):
        st.markdown(f"🎯 {g.next_goal}")
        st.caption(f"{g.title} · {g.when:%Y-%m-%d}")
        for q in g.reflective_questions[:3]:
            st.caption(f"– {q}")

# -- try again from turn N ------------------------------------------------------------------
st.subheader(t("progress.branch", lang))
st.caption(t("progress.branch_help", lang))
sessions = [
    s
    for s in svc.practice.list_sessions(user, own_only=True)
    if s.turn_count > 1 and s.scenario_id in svc.library().scenarios
]
if not sessions:
    st.caption(t("progress.no_sessions", lang))
    st.stop()
labels = {
    s.id: f"{s.title or s.scenario_id} · {s.created_at:%Y-%m-%d %H:%M}"
    + (f" · {t('sessions.branch_of', lang, n=s.branch_turn)}" if s.branch_turn else "")
    for s in sessions
}
chosen = st.selectbox(
    t("progress.pick_session", lang), list(labels), format_func=labels.get, key="progress.session"
)
try:
    view = svc.practice.view(user, chosen)
except AccessDenied:
    st.error(t("review.not_found", lang))
    st.stop()
practitioner_turns = [tr.text for tr in view.turns if tr.speaker == "practitioner"]
if practitioner_turns:
    n = st.selectbox(
        t("progress.turn_n", lang),
        list(range(1, len(practitioner_turns) + 1)),
        format_func=lambda i: f"{i}: {practitioner_turns[i - 1][:70]}",
        key="progress.turn_n",
    )
    if st.button(t("progress.try_again", lang), type="primary", key="progress.try_again"):
        try:
            branch = svc.practice.branch(user, chosen, int(n))
        except (SessionError, AccessDenied) as exc:
            st.error(str(exc))
        else:
            st.switch_page("app_pages/practise.py", query_params={"session": branch.info.id})

# -- compare branches -------------------------------------------------------------------------
family = progress.family(user, chosen)
if len(family) > 1:
    st.subheader(t("progress.compare", lang))
    ids = [f.session_id for f in family]
    names = {
        f.session_id: (
            t("progress.original", lang)
            if f.parent_id is None
            else t("sessions.branch_of", lang, n=f.branch_turn)
        )
        + f" · {f.when:%Y-%m-%d %H:%M}"
        for f in family
    }
    c1, c2 = st.columns(2)
    left_id = c1.selectbox(
        t("progress.left", lang), ids, index=0, format_func=names.get, key="progress.left"
    )
    right_id = c2.selectbox(
        t("progress.right", lang),
        ids,
        index=len(ids) - 1,
        format_func=names.get,
        key="progress.right",
    )
    left, right = progress.compare(user, left_id, right_id)
    for col, side in ((c1, left), (c2, right)):
        with col:
            score = "–" if side.overall is None else f"{side.overall:.0f}"
            st.metric(t("progress.overall", lang), score)
            for i, (speaker, text) in enumerate(side.turns):
                role = "user" if speaker == "practitioner" else "assistant"
                with st.chat_message(role, avatar="🧑‍💼" if role == "user" else "🙂"):
                    st.markdown(f"`#{i + 1}` {text}")
