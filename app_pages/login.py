"""Sign-in. On a fresh install (no admin yet) this is the setup screen that creates the
first admin, who can also practise. With ``[auth]`` in Streamlit's secrets there is also
a button for the organisation's sign-in (OIDC through ``st.login``)."""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t
from practice.accounts import AccountError, AccountService

lang = shell.lang()
accounts = AccountService(shell.services().db)


def error_text(exc: AccountError) -> str:
    key = f"accounts.error.{exc.code}"
    text = t(key, lang)
    return text if text != key else str(exc)


def setup() -> None:
    st.title(t("login.setup_title", lang))
    st.markdown(t("login.setup_intro", lang))
    with st.form("login.setup_form"):
        username = st.text_input(t("accounts.username", lang), key="login.setup_username")
        display = st.text_input(t("accounts.display_name", lang), key="login.setup_display")
        pw1 = st.text_input(
            t("accounts.password", lang), type="password", key="login.setup_password"
        )
        pw2 = st.text_input(
            t("accounts.password_again", lang), type="password", key="login.setup_password2"
        )
        submitted = st.form_submit_button(
            t("login.setup_submit", lang), type="primary", key="login.setup_submit"
        )
    if submitted:
        if pw1 != pw2:
            st.error(t("accounts.error.password_mismatch", lang))
            return
        try:
            user = accounts.create_first_admin(username, pw1, display_name=display)
        except AccountError as exc:
            st.error(error_text(exc))
            return
        shell.sign_in(user)
        st.rerun()


def sign_in() -> None:
    st.title(t("login.title", lang))
    st.caption(t("app.tagline", lang))
    if shell.oidc_configured():
        if st.button(t("login.oidc", lang), type="primary", key="login.oidc"):
            st.login()
        st.caption(t("login.or_local", lang))
    with st.form("login.form"):
        username = st.text_input(t("accounts.username", lang), key="login.username")
        password = st.text_input(
            t("accounts.password", lang), type="password", key="login.password"
        )
        submitted = st.form_submit_button(
            t("login.submit", lang), type="primary", key="login.submit"
        )
    if submitted:
        try:
            user = accounts.authenticate(username, password)
        except AccountError as exc:
            st.error(error_text(exc))
            return
        if user is None:
            st.error(t("login.failed", lang))
            return
        shell.sign_in(user)
        st.rerun()
    st.caption(t("login.forgot", lang))


if accounts.needs_setup():
    setup()
else:
    sign_in()
