"""Settings: the language model endpoint (optional). Keys stay in this browser session."""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from app_pages.llm_choice import OVERRIDES_KEY, llm_settings
from base.i18n import t

lang = shell.lang()
st.title(t("settings.title", lang))
st.subheader(t("settings.llm", lang))
st.caption(t("settings.llm_help", lang))
try:
    current = llm_settings()
except Exception as exc:
    st.error(str(exc))
    current = None
with st.form("settings.llm_form"):
    backend = st.selectbox(
        t("settings.backend", lang),
        ["offline", "openai", "llamacpp"],
        index=["offline", "openai", "llamacpp"].index(current.backend) if current else 0,
        key="settings.backend",
    )
    base_url = st.text_input(
        "OPENAI_BASE_URL",
        value=(current.base_url or "") if current else "",
        key="settings.base_url",
    )
    model = st.text_input(
        t("settings.model", lang),
        value=(current.model or "") if current else "",
        key="settings.model",
    )
    api_key = st.text_input(
        "OPENAI_API_KEY",
        type="password",
        value="",
        key="settings.api_key",
        help=t("settings.key_help", lang),
    )
    gguf = st.text_input(
        t("settings.gguf", lang),
        value=(current.gguf_path or "") if current else "",
        key="settings.gguf",
    )
    saved = st.form_submit_button(t("common.save", lang))
if saved:
    overrides = {
        "backend": backend,
        "base_url": base_url or None,
        "model": model or None,
        "gguf_path": gguf or None,
    }
    if api_key:
        overrides["api_key"] = api_key
    elif st.session_state.get(OVERRIDES_KEY, {}).get("api_key"):
        overrides["api_key"] = st.session_state[OVERRIDES_KEY]["api_key"]
    st.session_state[OVERRIDES_KEY] = overrides
    st.success(t("settings.saved", lang))
if st.button(t("settings.test", lang), key="settings.test"):
    from base.llm import check_connection

    try:
        with st.spinner(t("settings.testing", lang)):
            st.success(check_connection(llm_settings()))
    except Exception as exc:
        st.error(str(exc))

# -- privacy (issue 7): export and delete my data; retention --------------------------
from practice import privacy as _privacy  # noqa: E402

_user = shell.current_user()
if _user is not None:
    _svc = shell.services()
    st.divider()
    st.subheader(t("privacy.title", lang))
    st.caption(t("privacy.intro", lang))
    _days = _svc.settings.retention_days
    st.caption(
        t("privacy.retention", lang, days=_days) if _days > 0 else t("privacy.retention_off", lang)
    )
    st.download_button(
        t("privacy.export", lang),
        data=lambda: _privacy.export_json(_svc.db, _user),  # built only when clicked
        file_name=f"relpractice-{_user.username}.json",
        mime="application/json",
        key="settings.privacy_export",
        on_click="ignore",
    )
    with st.expander(t("privacy.delete", lang)):
        st.warning(t("privacy.delete_warning", lang))
        _typed = st.text_input(t("privacy.confirm_label", lang), key="settings.privacy_confirm")
        if st.button(
            t("privacy.delete_button", lang), key="settings.privacy_delete", type="primary"
        ):
            if _typed.strip().upper() != t("privacy.confirm_word", lang):
                st.error(t("privacy.not_confirmed", lang))
            else:
                try:
                    _counts = _privacy.delete_user_data(_svc.db, _user, settings=_svc.settings)
                except Exception as _exc:
                    st.error(t("privacy.error", lang, error=type(_exc).__name__))
                else:
                    st.success(t("privacy.deleted", lang, **_counts))
    if (
        _user.role == "admin"
        and _days > 0
        and st.button(t("privacy.purge_now", lang), key="settings.privacy_purge")
    ):
        _n = _privacy.purge_expired(_svc.db, _days, settings=_svc.settings)
        st.success(t("privacy.purged", lang, n=_n))
