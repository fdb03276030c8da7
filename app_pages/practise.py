"""Practise: pick a scenario, read the briefing and case file, talk, end, read the report.

The open session's id lives in the URL (?session=…), so a browser reload or an app
restart resumes it. Every turn is committed by the service before it is shown.
"""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from practice.access import AccessDenied
from practice.i18n import t
from practice.sessions import SessionError

lang = shell.lang()
svc = shell.services()
user = shell.current_user()


def error_text(exc: SessionError) -> str:
    code, _, arg = str(exc).partition(":")
    if code == "too_long":
        return t("practise.error.too_long", lang, n=arg)
    key = f"practise.error.{code}"
    text = t(key, lang)
    return text if text != key else str(exc)


def llm_renderer():
    """The renderer for a session that uses a language model, or None for offline."""
    from app_pages.llm_choice import renderer_for_session

    return renderer_for_session()


def picker() -> None:
    st.title(t("practise.title", lang))
    st.caption(t("practise.intro", lang))
    library = svc.library()
    if library.errors:
        with st.expander(t("practise.skipped", lang, n=len({p.file for p in library.errors})), icon="⚠️"):
            for p in library.errors:
                st.code(p.line(), language=None)
    options = {"all": t("practise.filter_all", lang), "da": t("common.language.da", lang), "en": t("common.language.en", lang)}
    filt = st.segmented_control(
        t("practise.filter_language", lang), list(options), format_func=options.get, default=lang, key="practise.filter"
    )
    scenarios = library.by_language(None if filt in (None, "all") else filt)
    if not scenarios:
        st.info(t("practise.none", lang))
        return
    ids = [s.id for s in scenarios]
    chosen = st.selectbox(
        t("practise.pick", lang),
        ids,
        format_func=lambda i: f"{library.get(i).title} · {library.get(i).language.upper()} · "
        f"{t('common.difficulty', lang)} {library.get(i).difficulty}",
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
    from app_pages.llm_choice import backend_picker

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

    for turn in view.turns:
        role = "user" if turn.speaker == "practitioner" else "assistant"
        with st.chat_message(role, avatar="🧑‍💼" if role == "user" else "🙂"):
            st.markdown(turn.text)
            outcome = str(turn.meta.get("outcome", ""))
            if outcome.startswith(("fell_back", "regenerated")):
                st.caption(t(f"llm.outcome.{outcome.split(':')[0]}", lang))

    is_owner = view.info.owner == user.id
    if view.info.status == "ended":
        st.success(t("practise.ended", lang))
        show_report(view.info.id, view.report_json)
        from app_pages.components.review_notes import render_review_notes, render_share_control

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
            stream_reply(session_id, renderer)
            st.rerun()

    prompt = st.chat_input(t("practise.input", lang, name=name), key="practise.input")
    if prompt:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            stored = svc.practice.add_practitioner_turn(user, session_id, prompt)
        except SessionError as exc:
            st.error(error_text(exc))
        except SQLAlchemyError as exc:  # database unavailable: say so, give the text back
            st.error(t("ops.db_unavailable", lang, error=type(exc).__name__))
            st.code(prompt, language=None)
        else:
            with st.chat_message("user", avatar="🧑‍💼"):
                st.markdown(stored)
            stream_reply(session_id, renderer)

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


def stream_reply(session_id: str, renderer) -> None:
    with st.chat_message("assistant", avatar="🙂"):
        try:
            if renderer is None:
                st.write_stream(svc.practice.reply_stream(user, session_id))
            else:  # tokens as the model writes them; replaced if a guard rejects them
                placeholder, shown = st.empty(), ""
                for item in svc.practice.reply_stream(user, session_id, renderer, live=True):
                    shown = shown + item if isinstance(item, str) else item.text
                    placeholder.markdown(shown + " ▌")
                placeholder.markdown(shown)
                key = renderer.last_outcome.message_key() if renderer.last_outcome else None
                if key:
                    st.caption(t(key, lang))
        except SessionError as exc:
            st.error(error_text(exc))
        except Exception as exc:  # a dead LLM endpoint etc.: the practitioner's text is kept
            reason = exc.localized(lang) if hasattr(exc, "localized") else str(exc)
            st.error(t("practise.error.reply_failed", lang, reason=reason))


def show_report(session_id: str, report_json: str | None) -> None:
    from app_pages.components.report_view import render_report
    from coach.schema import CoachReport

    st.header(t("practise.report", lang))
    if report_json is None:
        with st.status(t("practise.scoring", lang)) as status:
            report_json = svc.practice.score(user, session_id)
            status.update(label=t("practise.scored", lang), state="complete")
    from app_pages.llm_choice import judge_model

    view = svc.practice.view(user, session_id)
    report = CoachReport.model_validate_json(report_json)
    render_report(
        report,
        lang,
        key_prefix="practise.report",
        transcript=view.transcript(),
        judge_model=judge_model(),
    )
    from app_pages.components.similar_moments import render_similar_moments

    render_similar_moments(report, user, lang, session_id=session_id)


session_id = st.query_params.get("session")
if session_id:
    conversation(session_id)
else:
    picker()
