"""Admin: create accounts, set roles, assign a practitioner's supervisor, reset passwords.
Every action is checked again in ``practice.accounts`` (only an admin may do it)."""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t
from practice.access import ROLES, AccessDenied
from practice.accounts import AccountError, AccountService

lang = shell.lang()
user = shell.current_user()
accounts = AccountService(shell.services().db)


def error_text(exc: Exception) -> str:
    if isinstance(exc, AccountError):
        key = f"accounts.error.{exc.code}"
        text = t(key, lang)
        return text if text != key else str(exc)
    return t("admin.denied", lang)


def role_name(role: str) -> str:
    return t(f"accounts.role.{role}", lang)


st.title(t("admin.title", lang))
try:
    users = accounts.list_users(user)
except AccessDenied:
    st.error(t("admin.denied", lang))
    st.stop()

for msg in st.session_state.pop("admin.flash", []):
    st.success(msg)

st.subheader(t("admin.users", lang))
names = {u.id: f"{u.display_name} ({u.username})" for u in users}
st.dataframe(
    [
        {
            t("accounts.username", lang): u.username,
            t("accounts.display_name", lang): u.display_name,
            t("accounts.role", lang): role_name(u.role),
            t("accounts.supervisor", lang): names.get(u.supervisor_id or "", ""),
            t("admin.sign_in", lang): t(
                "admin.password" if u.has_password else "admin.oidc_only", lang
            ),
        }
        for u in users
    ],
    hide_index=True,
    key="admin.table",
)

st.subheader(t("admin.create", lang))
with st.form("admin.create_form", clear_on_submit=True):
    c1, c2 = st.columns(2)
    new_username = c1.text_input(t("accounts.username", lang), key="admin.new_username")
    new_display = c2.text_input(t("accounts.display_name", lang), key="admin.new_display")
    new_role = c1.selectbox(
        t("accounts.role", lang), ROLES, format_func=role_name, key="admin.new_role"
    )
    new_password = c2.text_input(
        t("accounts.password", lang),
        type="password",
        key="admin.new_password",
        help=t("admin.password_help", lang),
    )
    created = st.form_submit_button(
        t("admin.create_submit", lang), type="primary", key="admin.create_submit"
    )
if created:
    try:
        new = accounts.create_user(
            user, new_username, new_password or None, role=new_role, display_name=new_display
        )
    except (AccountError, AccessDenied) as exc:
        st.error(error_text(exc))
    else:
        st.session_state["admin.flash"] = [t("admin.created", lang, name=new.username)]
        st.rerun()

st.subheader(t("admin.edit", lang))
chosen = st.selectbox(
    t("admin.pick_user", lang),
    [u.id for u in users],
    format_func=lambda i: names[i],
    key="admin.pick",
)
target = next(u for u in users if u.id == chosen)
supervisors = [u for u in users if u.role == "supervisor" and u.id != target.id]
col1, col2, col3 = st.columns(3)
with col1, st.form("admin.role_form"):
    role = st.selectbox(
        t("accounts.role", lang),
        ROLES,
        index=ROLES.index(target.role),
        format_func=role_name,
        key="admin.role",
    )
    if st.form_submit_button(t("admin.set_role", lang), key="admin.set_role"):
        try:
            accounts.set_role(user, target.id, role)
        except (AccountError, AccessDenied) as exc:
            st.error(error_text(exc))
        else:
            st.session_state["admin.flash"] = [t("admin.saved", lang)]
            st.rerun()
with col2, st.form("admin.supervisor_form"):
    options = ["", *[s.id for s in supervisors]]
    current = target.supervisor_id if target.supervisor_id in options else ""
    sup = st.selectbox(
        t("accounts.supervisor", lang),
        options,
        index=options.index(current),
        format_func=lambda i: names[i] if i else t("admin.no_supervisor", lang),
        key="admin.supervisor",
    )
    if st.form_submit_button(t("admin.set_supervisor", lang), key="admin.set_supervisor"):
        try:
            accounts.set_supervisor(user, target.id, sup or None)
        except (AccountError, AccessDenied) as exc:
            st.error(error_text(exc))
        else:
            st.session_state["admin.flash"] = [t("admin.saved", lang)]
            st.rerun()
with col3, st.form("admin.password_form", clear_on_submit=True):
    pw = st.text_input(t("admin.new_password", lang), type="password", key="admin.reset_password")
    if st.form_submit_button(t("admin.reset", lang), key="admin.reset"):
        try:
            accounts.reset_password(user, target.id, pw)
        except (AccountError, AccessDenied) as exc:
            st.error(error_text(exc))
        else:
            st.session_state["admin.flash"] = [t("admin.reset_done", lang, name=target.username)]
            st.rerun()
