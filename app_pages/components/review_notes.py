"""What reviewers said about a session, for the practitioner's own session view.

    render_review_notes(session_id, viewer, lang)   # comments + score overrides
    render_share_control(session_id, viewer, lang)  # share with my supervisor

Both read through ``practice.review`` (access checked there); a viewer who may not see
the session gets nothing rendered.
"""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t
from practice.access import AccessDenied
from practice.accounts import AccountService
from practice.review import ReviewError, ReviewService, principle_titles


def _reviews() -> ReviewService:

    return ReviewService(shell.services().db)


def render_review_notes(session_id: str, viewer, lang: str) -> None:
    """Supervisor comments (with the turn they are about) and score overrides with reasons.
    Shows nothing when there are none or the viewer may not see the session."""
    reviews = _reviews()
    try:
        comments = reviews.comments(viewer, session_id)
        assessments = reviews.assessments(viewer, session_id)
    except AccessDenied:
        return
    overrides = [a for a in assessments if a.is_override]
    agreed = [a for a in assessments if not a.is_override]
    if not comments and not assessments:
        return
    st.subheader(t("notes.title", lang))
    turns: dict[int, str] = {}
    if any(c.turn_idx is not None for c in comments):
        try:
            view = shell.services().practice.view(viewer, session_id)
            turns = {i: tr.text for i, tr in enumerate(view.turns)}
        except AccessDenied:
            turns = {}
    for c in comments:
        where = ""
        if c.turn_idx is not None:
            quote = turns.get(c.turn_idx, "")
            short = f"{quote[:80]}…" if len(quote) > 80 else quote
            where = t("notes.on_turn", lang, n=c.turn_idx, quote=short)
        with st.container(border=True):
            st.markdown(f"💬 **{c.author_name}** · {c.created_at:%Y-%m-%d}")
            if where:
                st.caption(where)
            st.markdown(c.text)
    titles = principle_titles(lang)
    for a in overrides:
        coach = a.coach_rounded if a.coach_rounded is not None else "?"
        with st.container(border=True):
            st.markdown(
                t(
                    "notes.override",
                    lang,
                    who=a.author_name,
                    principle=titles.get(a.principle_id, a.principle_id),
                    coach=coach,
                    score=a.score,
                )
            )
            st.caption(t("notes.reason", lang, reason=a.reason))
    if agreed:
        st.caption(t("notes.agreed", lang, n=len(agreed)))


def render_share_control(session_id: str, viewer, lang: str) -> None:
    """For the session's owner: share it with their supervisor, or see who it is shared with."""
    reviews = _reviews()
    try:
        shared = reviews.shared_with(viewer, session_id)
    except AccessDenied:
        return

    st.subheader(t("notes.share_title", lang))
    if shared:
        st.caption(t("notes.shared_with", lang, names=", ".join(u.display_name for u in shared)))
    supervisors = AccountService(shell.services().db).supervisors()
    choices = [s for s in supervisors if s.id not in {u.id for u in shared}]
    if not choices:
        if not shared:
            st.caption(t("notes.no_supervisors", lang))
        return
    ids = [s.id for s in choices]
    default = ids.index(viewer.supervisor_id) if viewer.supervisor_id in ids else 0
    names = {s.id: s.display_name for s in choices}
    c1, c2 = st.columns([3, 1])
    target = c1.selectbox(
        t("notes.share_with", lang),
        ids,
        index=default,
        format_func=names.get,
        key=f"notes.share_target.{session_id}",
    )
    if c2.button(t("notes.share", lang), key=f"notes.share.{session_id}"):
        try:
            sup = reviews.share(viewer, session_id, target)
        except ReviewError as exc:
            st.error(t(f"review.error.{exc.code}", lang))
        except AccessDenied:
            st.error(t("review.not_found", lang))
        else:
            st.success(t("notes.shared", lang, name=sup.display_name))
            st.rerun()
