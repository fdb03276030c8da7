"""What every page shares: cached services, the interface language, the current user,
and the list of pages. Session-state keys are prefixed by page ("practise.", "shell.")."""

from __future__ import annotations

import os

import streamlit as st

from base.i18n import LANGUAGE_NAMES, UI_LANGUAGES, t
from practice.accounts import AccountService, single_user_mode
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
        account_box(choice)
    return choice


# -- accounts (practice.accounts) -------------------------------------------------------
USER_KEY = "shell.user_id"


def oidc_configured() -> bool:
    """True when an ``[auth]`` section is in Streamlit's secrets (``st.login`` works)."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except Exception:
        return False


def _oidc_claims() -> dict:
    """The identity from ``st.login`` (empty when OIDC is off or nobody signed in)."""
    if not oidc_configured():
        return {}
    try:
        claims = dict(st.user.to_dict())
    except Exception:
        return {}
    return claims if claims.get("is_logged_in") else {}


def current_user():
    """The signed-in user (a ``practice.db.User``), or None before sign-in.

    In order: the account signed in in this browser session; with
    ``RELPRACTICE_SINGLE_USER=1`` the one local practitioner (no sign-in); with OIDC
    configured and the browser signed in through ``st.login``, the local row mapped to
    that identity. Otherwise None, and ``pages()`` shows only the sign-in page."""

    svc = services()
    user_id = st.session_state.get(USER_KEY)
    if user_id:
        user = AccountService(svc.db).get(user_id)
        if user is not None:
            return user
        st.session_state.pop(USER_KEY, None)  # the account was removed
    if single_user_mode():
        user = svc.practice.local_user()
        st.session_state[USER_KEY] = user.id
        return user
    claims = _oidc_claims()
    if claims:
        user = AccountService(svc.db).oidc_user(
            subject=str(claims.get("sub") or ""),
            email=claims.get("email") if claims.get("email_verified", True) else None,
            name=claims.get("name"),
        )
        st.session_state[USER_KEY] = user.id
        return user
    return None


def sign_in(user) -> None:
    st.session_state[USER_KEY] = user.id


def sign_out() -> None:
    keep = {k: st.session_state[k] for k in ("shell.lang",) if k in st.session_state}
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state.update(keep)
    if _oidc_claims():
        st.logout()


def account_box(lang: str) -> None:
    """Sidebar: who is signed in, and a sign-out button."""

    user = current_user()
    if user is None:
        return
    st.caption(
        t(
            "accounts.signed_in_as",
            lang,
            name=user.display_name,
            role=t(f"accounts.role.{user.role}", lang),
        )
    )
    if not single_user_mode() and st.button(t("accounts.sign_out", lang), key="shell.sign_out"):
        sign_out()
        st.rerun()


def _requested_page() -> str:
    """The page slug of the URL this browser session was opened with ('' if unknown)."""
    import re
    from urllib.parse import urlparse

    try:
        url = st.context.url or ""
    except Exception:
        return ""
    slug = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]
    return slug if re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", slug) else ""


def sign_in_pages(lang: str) -> list:
    """The sign-in page; also (hidden) at the path the browser asked for, so a reload of
    e.g. /review?session=… shows the sign-in form instead of 'page not found', and after
    signing in the same URL opens the page it named, with its query parameters."""
    login = [
        st.Page(
            "app_pages/login.py",
            title=t("nav.login", lang),
            icon="🔑",
            url_path="login",
            default=True,
        )
    ]
    wanted = _requested_page()
    if wanted and wanted not in ("login", "join"):
        login.append(
            st.Page(
                "app_pages/login.py",
                title=t("nav.login", lang),
                url_path=wanted,
                visibility="hidden",
            )
        )
    return login


def pages(lang: str) -> list:
    """The navigation for the signed-in user's role (only the sign-in page before)."""
    user = current_user()

    def join(default: bool = False):  # students join a class with a code, signed in or not
        return st.Page(
            "app_pages/join.py",
            title=t("nav.join", lang),
            icon="🎓",
            url_path="join",
            default=default,
        )

    if user is None:
        return [*sign_in_pages(lang), join()]
    if user.password_hash is None and user.username.startswith("guest-"):
        return [join(default=True)]  # a name-only class guest (practice.classroom.guest_join)
    admin = [st.Page("app_pages/admin.py", title=t("nav.admin", lang), icon="🛡️", url_path="admin")]
    educator = [
        st.Page(
            "app_pages/classroom.py",
            title=t("nav.classroom", lang),
            icon="🏫",
            url_path="classroom",
        )
    ]
    return [
        st.Page(
            "app_pages/practise.py",
            title=t("nav.practise", lang),
            icon="💬",
            url_path="practise",
            default=True,
        ),
        st.Page(
            "app_pages/my_sessions.py",
            title=t("nav.my_sessions", lang),
            icon="🗂️",
            url_path="sessions",
        ),
        st.Page(
            "app_pages/progress.py", title=t("nav.progress", lang), icon="📈", url_path="progress"
        ),
        st.Page("app_pages/review.py", title=t("nav.review", lang), icon="📝", url_path="review"),
        st.Page("app_pages/upload.py", title=t("nav.upload", lang), icon="📤", url_path="upload"),
        st.Page("app_pages/studio.py", title=t("nav.studio", lang), icon="✍️", url_path="studio"),
        st.Page(
            "app_pages/settings.py", title=t("nav.settings", lang), icon="⚙️", url_path="settings"
        ),
        *(educator if user.role == "educator" else []),
        join(),
        st.Page("app_pages/search.py", title=t("nav.search", lang), icon="🔎", url_path="search"),
        *(admin if user.role == "admin" else []),
    ]
