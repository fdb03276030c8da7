"""What every page shares: cached services, the interface language, the current user,
and the list of pages. Session-state keys are prefixed by page ("practise.", "shell.")."""

from __future__ import annotations

import os

import streamlit as st

from practice.i18n import LANGUAGE_NAMES, UI_LANGUAGES, t
from practice.services import Services, build_services
from practice.settings import load_settings


@st.cache_resource(show_spinner=False)
def _services(data_dir: str, database_url: str) -> Services:
    # keyed by where the data lives, so tests with separate data folders get separate services
    return build_services(load_settings())


def services() -> Services:
    s = load_settings()
    return _services(str(s.data_dir), s.database_url)


def lang() -> str:
    return st.session_state.get("shell.lang") or os.environ.get("RELPRACTICE_UI_LANGUAGE", "da")


def sidebar() -> str:
    with st.sidebar:
        current = lang()
        choice = st.selectbox(
            t("common.ui_language", current),
            UI_LANGUAGES,
            index=UI_LANGUAGES.index(current) if current in UI_LANGUAGES else 0,
            format_func=lambda code: LANGUAGE_NAMES[code],
            key="shell.lang_select",
        )
        st.session_state["shell.lang"] = choice
    return choice


def current_user():
    """The signed-in user. Before accounts exist: the one local practitioner."""
    user_id = st.session_state.get("shell.user_id")
    svc = services()
    if user_id:
        return svc.practice.get_user(user_id)
    user = svc.practice.local_user()
    st.session_state["shell.user_id"] = user.id
    return user


def pages(lang: str) -> list:
    return [
        st.Page("app_pages/practise.py", title=t("nav.practise", lang), icon="💬", url_path="practise", default=True),
        st.Page("app_pages/my_sessions.py", title=t("nav.my_sessions", lang), icon="🗂️", url_path="sessions"),
        st.Page("app_pages/studio.py", title=t("nav.studio", lang), icon="✍️", url_path="studio"),
        st.Page("app_pages/settings.py", title=t("nav.settings", lang), icon="⚙️", url_path="settings"),
    ]
