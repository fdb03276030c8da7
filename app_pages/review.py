"""Review: a transcript with the coach's behaviour code and evidence on every practitioner
turn; reviewers comment on turns and assess principle scores (an override needs a
reason); the agreement view shows per principle how often coach and reviewers agree.

``?session=<id>`` opens one session. What a viewer may see and do is decided in the data
layer (``practice.access`` through ``practice.review``); a session that is not visible
shows the same not-found message as one that does not exist.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages import shell
from app_pages.components.review_notes import render_share_control
from base.i18n import t
from coach.export import behaviour_text, move_text, turn_label
from practice.access import AccessDenied, anonymise
from practice.review import (
    AGREE_TOLERANCE,
    ReviewError,
    ReviewService,
    principle_titles,
)

lang = shell.lang()
svc = shell.services()
user = shell.current_user()
reviews = ReviewService(svc.db)


def review_error(exc: ReviewError) -> str:
    key = f"review.error.{exc.code}"
    text = t(key, lang)
    return text if text != key else str(exc)


def owner_label(item_owner: str, class_id: str | None, reveal: bool) -> str:
    if class_id and user.role == "educator" and not reveal:
        return anonymise(item_owner, class_id, label=t("review.student", lang))
    return item_owner


def open_session(session_id: str) -> None:
    st.query_params["session"] = session_id
    st.rerun()


# --------------------------------------------------------------------------- list view


def session_list() -> None:
    st.title(t("review.title", lang))
    st.caption(t("review.intro", lang))
    reveal = False
    if user.role in ("supervisor", "educator"):
        st.subheader(t("review.queue", lang))
        queue = reviews.queue(user)
        if user.role == "educator":
            reveal = st.toggle(t("review.show_names", lang), value=False, key="review.reveal")
        if not queue:
            st.info(t("review.queue_empty", lang))
        for item in queue:
            with st.container(border=True):
                c1, c2 = st.columns([4, 1])
                c1.markdown(
                    f"**{item.title}** · {owner_label(item.owner_name, item.class_id, reveal)}"
                )
                c1.caption(
                    " · ".join(
                        [
                            item.updated_at.strftime("%Y-%m-%d %H:%M"),
                            t(f"review.source.{item.source}", lang),
                            t("review.n_comments", lang, n=item.comments),
                            t("review.n_assessments", lang, n=item.assessments),
                        ]
                    )
                )
                if c2.button(t("review.open", lang), key=f"review.open.{item.session_id}"):
                    open_session(item.session_id)
    if user.role != "admin" or reviews.own(user):
        st.subheader(t("review.mine", lang))
        own = reviews.own(user)
        if not own:
            st.info(t("review.mine_empty", lang))
        for item in own:
            with st.container(border=True):
                c1, c2 = st.columns([4, 1])
                c1.markdown(f"**{item.title}**")
                c1.caption(
                    " · ".join(
                        [
                            item.updated_at.strftime("%Y-%m-%d %H:%M"),
                            t(f"review.source.{item.source}", lang),
                            t("review.n_comments", lang, n=item.comments),
                        ]
                    )
                )
                if c2.button(t("review.open", lang), key=f"review.open.{item.session_id}"):
                    open_session(item.session_id)
    if user.role in ("supervisor", "educator", "admin"):
        agreement_view()


def agreement_view() -> None:
    import pandas as pd

    st.subheader(t("review.agreement", lang))
    st.caption(t("review.agreement_help", lang, tol=AGREE_TOLERANCE))
    period = st.segmented_control(
        t("review.period", lang),
        ["month", "week"],
        format_func=lambda p: t(f"review.period.{p}", lang),
        default="month",
        key="review.period",
    )
    rows = reviews.agreement(user, period=period or "month")
    if not rows:
        st.info(t("review.agreement_empty", lang))
        return
    totals = [r for r in rows if r.period == "all"]
    titles = principle_titles(lang)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("review.principle", lang): titles.get(r.principle_id, r.principle_id),
                    t("review.n", lang): r.n,
                    t("review.agree_rate", lang): round(100 * r.agree_rate),
                    t("review.mad", lang): r.mean_abs_diff,
                }
                for r in sorted(totals, key=lambda r: r.agree_rate)
            ]
        ),
        hide_index=True,
        key="review.agreement_table",
    )
    over_time = pd.DataFrame(
        [
            {
                "period": r.period,
                "principle": titles.get(r.principle_id, r.principle_id),
                "agree": round(100 * r.agree_rate),
            }
            for r in rows
            if r.period != "all"
        ]
    )
    if len(over_time):
        import altair as alt

        chart = (
            alt.Chart(over_time)
            .mark_line(point=True)
            .encode(
                x=alt.X("period:N", title=t("review.period", lang), sort="ascending"),
                y=alt.Y(
                    "agree:Q", title=t("review.agree_rate", lang), scale=alt.Scale(domain=[0, 100])
                ),
                color=alt.Color("principle:N", title=t("review.principle", lang)),
                tooltip=["period", "principle", "agree"],
            )
        )
        st.altair_chart(chart, width="stretch")


# --------------------------------------------------------------------------- one session


def session_review(session_id: str) -> None:
    try:
        view = svc.practice.view(user, session_id)
    except AccessDenied:
        st.error(t("review.not_found", lang))
        if st.button(t("review.back", lang), key="review.back_missing"):
            st.query_params.clear()
            st.rerun()
        return
    can_review = reviews.can_review(user, session_id)
    is_owner = view.info.owner == user.id
    header = reviews.header(user, session_id)
    report, class_id, source = header.report, header.class_id, header.source
    if st.button(t("review.back", lang), key="review.back"):
        st.query_params.clear()
        st.rerun()
    reveal = user.role != "educator" or st.toggle(
        t("review.show_names", lang), value=False, key="review.reveal_one"
    )
    who = header.owner_name
    st.title(view.info.title or view.info.scenario_id)
    st.caption(
        " · ".join(
            [
                owner_label(who, class_id, reveal),
                view.info.created_at.strftime("%Y-%m-%d %H:%M"),
                t(f"review.source.{source}", lang),
                t("practise.turn_count", lang, n=len(view.turns)),
            ]
        )
    )
    if report is None:
        st.info(t("review.no_report", lang))
        if view.info.status == "ended" and st.button(
            t("review.score_now", lang), key="review.score_now"
        ):
            svc.practice.score(user, session_id)
            st.rerun()

    for msg in st.session_state.pop("review.flash", []):
        st.success(msg)

    comments = reviews.comments(user, session_id)
    by_turn: dict[int | None, list] = {}
    for c in comments:
        by_turn.setdefault(c.turn_idx, []).append(c)
    transcript(view.turns, report, by_turn)

    general = by_turn.get(None, [])
    if general:
        st.subheader(t("review.general_comments", lang))
        for c in general:
            comment_box(c)

    scores_section(session_id, report, can_review)
    if can_review:
        comment_form(session_id, view.turns)
    if is_owner:
        render_share_control(session_id, user, lang)


def transcript(turns, report: dict | None, by_turn: dict) -> None:
    st.subheader(t("review.transcript", lang))
    behaviours = (report or {}).get("behaviours") or []
    flags = (report or {}).get("turn_flags") or []
    evidence: dict[int, list[tuple[str, dict]]] = {}
    ui_titles = principle_titles(lang)
    for p in (report or {}).get("principles") or []:
        title = ui_titles.get(p.get("id")) or p.get("title") or p.get("id")
        for ev in p.get("evidence") or []:
            if isinstance(ev, dict) and isinstance(ev.get("turn"), int):
                evidence.setdefault(ev["turn"], []).append((title, ev))
    for idx, turn in enumerate(turns):
        role = "user" if turn.speaker == "practitioner" else "assistant"
        with st.chat_message(role, avatar="🧑‍💼" if role == "user" else "🙂"):
            st.markdown(turn.text)
            if turn.speaker == "practitioner":
                bits = [turn_label(idx, lang)]  # 1-based, as on the report and in exports
                label = behaviours[idx] if idx < len(behaviours) else None
                if label:
                    bits.append(f"**{behaviour_text(label, lang)}**")
                if idx < len(flags) and flags[idx]:
                    bits.append(", ".join(move_text(f, lang) for f in flags[idx]))
                st.caption(" · ".join(bits))
                for title, ev in evidence.get(idx, []):
                    mark = "✅" if ev.get("polarity") == "for" else "⚠️"
                    st.caption(f"{mark} {title}: “{ev.get('quote', '')}”")
            for c in by_turn.get(idx, []):
                comment_box(c)


def comment_box(c) -> None:
    when = c.created_at.strftime("%Y-%m-%d") if isinstance(c.created_at, dt.datetime) else ""
    st.info(f"**{c.author_name}** ({when}): {c.text}", icon="💬")


def scores_section(session_id: str, report: dict | None, can_review: bool) -> None:
    if report is None:
        return
    st.subheader(t("review.scores", lang))
    latest = reviews.assessments(user, session_id)
    rows = []
    principles = [p for p in report.get("principles") or [] if isinstance(p, dict)]
    ui_titles = principle_titles(lang)  # in the reader's language, not the session's
    for p in principles:
        mine = [a for a in latest if a.principle_id == p.get("id")]
        rows.append(
            {
                t("review.principle", lang): ui_titles.get(p.get("id"))
                or p.get("title")
                or p.get("id"),
                t("review.coach_score", lang): p.get("score"),
                t("review.reviewer_score", lang): ", ".join(
                    f"{a.score} ({a.author_name})" for a in mine
                ),
                t("review.reason", lang): " / ".join(a.reason for a in mine if a.reason),
            }
        )
    st.dataframe(rows, hide_index=True, key="review.scores_table")
    if not can_review or not principles:
        return
    ids = [p["id"] for p in principles]
    titles = {p["id"]: ui_titles.get(p["id"]) or p.get("title") or p["id"] for p in principles}
    coach = {p["id"]: p.get("score") for p in principles}
    with st.form("review.assess_form"):
        st.markdown(f"**{t('review.assess', lang)}**")
        pid = st.selectbox(
            t("review.principle", lang), ids, format_func=titles.get, key="review.assess_principle"
        )
        score = st.number_input(
            t("review.your_score", lang),
            min_value=1,
            max_value=5,
            step=1,
            value=3,
            key="review.assess_score",
        )
        reason = st.text_area(
            t("review.reason", lang), key="review.assess_reason", help=t("review.reason_help", lang)
        )
        submitted = st.form_submit_button(
            t("review.assess_submit", lang), key="review.assess_submit"
        )
    if submitted:
        try:
            reviews.assess(user, session_id, pid, int(score), reason)
        except ReviewError as exc:
            st.error(review_error(exc))
        else:
            st.session_state["review.flash"] = [
                t(
                    "review.assessed",
                    lang,
                    principle=titles[pid],
                    score=int(score),
                    coach=coach[pid],
                )
            ]
            st.rerun()
    if st.button(
        t("review.confirm_coach", lang),
        key="review.confirm_coach",
        help=t("review.confirm_help", lang),
    ):
        n = reviews.confirm_coach(user, session_id)
        st.session_state["review.flash"] = [t("review.confirmed", lang, n=n)]
        st.rerun()


def comment_form(session_id: str, turns) -> None:
    st.subheader(t("review.add_comment", lang))
    options = [-1, *[i for i, tr in enumerate(turns) if tr.speaker == "practitioner"]]

    def label(i: int) -> str:
        if i < 0:
            return t("review.whole_session", lang)
        text = turns[i].text
        return f"{turn_label(i, lang)}: {text[:60]}{'…' if len(text) > 60 else ''}"

    with st.form("review.comment_form", clear_on_submit=True):
        turn = st.selectbox(
            t("review.comment_on", lang), options, format_func=label, key="review.comment_turn"
        )
        text = st.text_area(t("review.comment", lang), key="review.comment_text")
        submitted = st.form_submit_button(
            t("review.comment_submit", lang), type="primary", key="review.comment_submit"
        )
    if submitted:
        try:
            reviews.add_comment(user, session_id, text, None if turn < 0 else int(turn))
        except ReviewError as exc:
            st.error(review_error(exc))
        else:
            st.session_state["review.flash"] = [t("review.commented", lang)]
            st.rerun()


session_id = st.query_params.get("session")
if session_id:
    session_review(session_id)
else:
    session_list()
