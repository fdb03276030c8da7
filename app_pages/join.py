"""Join a class (students): ``?join=CODE`` from the link on the board, or type the code.

A signed-in user joins as themselves. Anyone else types a display name: that makes a
light student account without a password, kept in this browser through a signed token
in the link (``?as=…``), so a reload on a phone brings the conversation back. The
student chooses whether their conversation may be projected (fishbowl) and can change
their mind at any time. Then they practise the class's scenario here and get the
coach's feedback when they end.
"""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from app_pages.components import chat
from app_pages.components.report_view import render_report
from base.i18n import t
from base.models import Transcript
from coach.schema import CoachReport
from practice.access import AccessDenied
from practice.classroom import ClassroomError, ClassroomService, normalise_code

lang = shell.lang()
svc = shell.services()
rooms = ClassroomService(svc.db, svc.practice, secret_dir=svc.settings.data_dir)


def resolve_user():
    user = shell.current_user()
    if user is None and st.query_params.get("as"):
        user = rooms.user_from_token(st.query_params["as"])
        if user is not None:
            shell.sign_in(user)
    return user


def error_text(exc: Exception) -> str:
    code = str(exc).partition(":")[0]
    key = f"join.{code}"
    text = t(key, lang)
    return text if text != key else t("join.error", lang, reason=str(exc))


def code_form() -> None:
    with st.form("join.code_form"):
        code = st.text_input(t("join.code", lang), key="join.code_input", max_chars=12)
        if st.form_submit_button(t("join.go", lang), type="primary"):
            st.query_params["join"] = normalise_code(code)
            st.rerun()


def join_form(info, user) -> None:
    with st.form("join.form"):
        name = ""
        if user is None:
            name = st.text_input(t("join.name", lang), key="join.name", max_chars=60)
        else:
            st.markdown(t("join.as_user", lang, name=user.display_name))
        consent = st.checkbox(
            t("join.consent", lang), key="join.consent", help=t("join.consent_help", lang)
        )
        if st.form_submit_button(t("join.join", lang), type="primary"):
            try:
                if user is None:
                    user = rooms.guest_join(info.code, name)
                    shell.sign_in(user)
                    st.query_params["as"] = rooms.guest_token(user)
                rooms.join(user, info.code, consent=consent)
            except ClassroomError as exc:
                st.error(error_text(exc))
                return
            st.rerun()


def conversation(info, user, member) -> None:
    try:
        _, session_id = rooms.join(user, info.code)
        view = svc.practice.view(user, session_id)
    except (ClassroomError, AccessDenied) as exc:
        st.error(error_text(exc))
        return
    consent = st.toggle(
        t("join.consent", lang),
        value=bool(member.fishbowl_consent),
        key="join.consent_toggle",
        help=t("join.consent_help", lang),
    )
    if consent != bool(member.fishbowl_consent):
        rooms.set_consent(user, info.id, consent)
    if st.query_params.get("as"):
        st.caption(t("join.keep_link", lang))
    scenario = svc.library().scenarios.get(view.info.scenario_id)
    name = scenario.persona.name if scenario else "?"
    if scenario:
        with st.expander(t("practise.briefing", lang), expanded=len(view.turns) <= 1):
            st.markdown(scenario.briefing)
        with st.expander(t("practise.case_file", lang)):
            st.text(scenario.case_file)
    chat.render_turns(view.turns, lang)
    if view.info.status == "ended":
        st.success(t("join.ended", lang))
        show_report(user, session_id, view.report_json, view.transcript())
        return
    if view.pending is not None:
        st.warning(t("join.pending", lang))
        if st.button(t("join.retry", lang), key="join.retry"):
            chat.stream_reply(svc.practice, user, session_id, None, lang)
            st.rerun()
    prompt = st.chat_input(t("join.input", lang, name=name), key="join.input")
    if prompt and chat.submit_turn(svc.practice, user, session_id, prompt, lang):
        chat.stream_reply(svc.practice, user, session_id, None, lang)
    if st.button(t("join.end", lang), type="primary", key="join.end"):
        with st.status(t("join.scoring", lang), expanded=False):
            svc.practice.end(user, session_id)
        st.rerun()


def show_report(
    user, session_id: str, report_json: str | None, transcript: Transcript | None = None
) -> None:

    if report_json is None:
        with st.status(t("join.scoring", lang)):
            report_json = svc.practice.score(user, session_id)
    render_report(
        CoachReport.model_validate_json(report_json),
        lang,
        key_prefix="join.report",
        transcript=transcript,
    )


def main() -> None:
    user = resolve_user()
    st.title(t("join.title", lang))
    code = normalise_code(st.query_params.get("join", ""))
    if not code:
        code_form()
        return
    info = rooms.find_by_code(code)
    if info is None:
        st.error(t("join.bad_code", lang))
        code_form()
        return
    st.subheader(t("join.class", lang, title=info.title))
    member = rooms.membership(user, info.id) if user is not None else None
    if member is None:
        if info.status != "open":
            st.warning(t("join.closed", lang))
            return
        join_form(info, user)
        return
    conversation(info, user, member)


main()
