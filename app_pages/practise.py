"""Practise: pick a scenario, read the briefing and case file, talk, end, read the report.

The open session's id lives in the URL (?session=…), so a browser reload or an app
restart resumes it. Every turn is committed by the service before it is shown.
"""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from app_pages.components import chat
from app_pages.components.report_view import render_report
from app_pages.components.review_notes import render_review_notes, render_share_control
from app_pages.components.similar_moments import render_similar_moments
from app_pages.llm_choice import backend_picker, judge_model, renderer_for_session
from base.i18n import t
from coach.schema import CoachReport
from practice.access import AccessDenied

lang = shell.lang()
svc = shell.services()
user = shell.current_user()


def llm_renderer():
    """The renderer for a session that uses a language model, or None for offline."""

    return renderer_for_session()


def picker() -> None:
    st.title(t("practise.title", lang))
    st.caption(t("practise.intro", lang))
    library = svc.library()
    if library.errors:
        with st.expander(
            t("practise.skipped", lang, n=len({p.file for p in library.errors})), icon="⚠️"
        ):
            for p in library.errors:
                st.code(p.line(), language=None)
    options = {
        "all": t("practise.filter_all", lang),
        "da": t("common.language.da", lang),
        "en": t("common.language.en", lang),
    }
    filt = st.segmented_control(
        t("practise.filter_language", lang),
        list(options),
        format_func=options.get,
        default=lang,
        key="practise.filter",
    )
    scenarios = library.by_language(None if filt in (None, "all") else filt)
    if not scenarios:
        st.info(t("practise.none", lang))
        return
    ids = [s.id for s in scenarios]
    chosen = st.selectbox(
        t("practise.pick", lang),
        ids,
        format_func=lambda i: (
            f"{library.get(i).title} · {library.get(i).language.upper()} · "
            f"{t('common.difficulty', lang)} {library.get(i).difficulty}"
        ),
        key="practise.scenario",
    )
    sc = library.get(chosen)
    view = sc.public_view()
    st.markdown(f"**{sc.persona.name}, {sc.persona.age}** — {sc.summary}")
    st.caption(f"{t('practise.fictional', lang)}: {sc.fictional_notice}")
    col1, col2 = st.columns(2)
    with col1:
        st.subheader(t("practise.briefing", lang))
        st.markdown(view["briefing"])
        if sc.learning_goals:
            st.subheader(t("practise.goals", lang))
            for g in sc.learning_goals:
                st.markdown(f"- {g.goal}")
    with col2:
        st.subheader(t("practise.case_file", lang))
        st.text(view["case_file"])

    backend = backend_picker(lang, key="practise.backend")
    if st.button(t("practise.start", lang), type="primary", key="practise.start"):
        session = svc.practice.start(user, sc.id, backend=backend)
        st.query_params["session"] = session.info.id
        st.rerun()


def conversation(session_id: str) -> None:
    try:
        view = svc.practice.view(user, session_id)
    except AccessDenied:
        st.error(t("practise.not_found", lang))
        if st.button(t("practise.new", lang), key="practise.new_after_missing"):
            st.query_params.clear()
            st.rerun()
        return
    library = svc.library()
    scenario = library.scenarios.get(view.info.scenario_id)
    name = scenario.persona.name if scenario else "?"
    st.title(t("practise.session_title", lang, name=name))
    if scenario:
        with st.expander(t("practise.briefing", lang)):
            st.markdown(scenario.briefing)
        with st.expander(t("practise.case_file", lang)):
            st.text(scenario.case_file)

    chat.render_turns(view.turns, lang)

    is_owner = view.info.owner == user.id
    if view.info.status == "ended":
        st.success(t("practise.ended", lang))
        show_report(view)

        render_review_notes(view.info.id, user, lang)
        if is_owner:
            render_share_control(view.info.id, user, lang)
        if st.button(t("practise.new", lang), key="practise.new"):
            st.query_params.clear()
            st.rerun()
        return

    if not is_owner:  # a supervisor or educator looking at an active session: read only
        st.info(t("practise.read_only", lang))
        return
    renderer = None
    if view.info.backend != "offline":
        try:
            renderer = llm_renderer()
        except Exception as exc:  # misconfigured endpoint: say so, never switch silently
            st.error(t("practise.error.llm_config", lang, reason=str(exc)))
            return
    if view.pending is not None:
        st.warning(t("practise.pending", lang))
        if st.button(t("practise.retry", lang), key="practise.retry"):
            chat.stream_reply(svc.practice, user, session_id, renderer, lang)
            st.rerun()

    prompt = st.chat_input(t("practise.input", lang, name=name), key="practise.input")
    if prompt and chat.submit_turn(svc.practice, user, session_id, prompt, lang):
        chat.stream_reply(svc.practice, user, session_id, renderer, lang)

    col1, col2 = st.columns([1, 1])
    with col1:
        if st.button(t("practise.end", lang), type="primary", key="practise.end"):
            with st.status(t("practise.scoring", lang), expanded=False) as status:
                svc.practice.end(user, session_id)
                status.update(label=t("practise.scored", lang), state="complete")
            st.rerun()
    with col2:
        if st.button(t("practise.new", lang), key="practise.new_active"):
            st.query_params.clear()
            st.rerun()


def show_report(view) -> None:

    st.header(t("practise.report", lang))
    report_json = view.report_json
    if report_json is None:
        with st.status(t("practise.scoring", lang)) as status:
            report_json = svc.practice.score(user, view.info.id)
            status.update(label=t("practise.scored", lang), state="complete")
    report = CoachReport.model_validate_json(report_json)
    render_report(
        report,
        lang,
        key_prefix="practise.report",
        transcript=view.transcript(),
        judge_model=judge_model(),
    )
    render_similar_moments(report, user, lang, session_id=view.info.id)


session_id = st.query_params.get("session")
if session_id:
    conversation(session_id)
else:
    picker()
