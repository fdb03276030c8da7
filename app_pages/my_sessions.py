"""My sessions: every session I held, to resume or to read again."""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t

lang = shell.lang()
svc = shell.services()
user = shell.current_user()

st.title(t("sessions.title", lang))
sessions = svc.practice.list_sessions(user, own_only=True)
if not sessions:
    st.info(t("sessions.empty", lang))
for info in sessions:
    with st.container(border=True):
        col1, col2 = st.columns([4, 1])
        with col1:
            st.markdown(f"**{info.title or info.scenario_id}** · {info.language.upper()}")
            bits = [
                t(f"sessions.status.{info.status}", lang),
                t("practise.turn_count", lang, n=info.turn_count),
                info.updated_at.strftime("%Y-%m-%d %H:%M"),
            ]
            if info.branch_turn:
                bits.append(t("sessions.branch_of", lang, n=info.branch_turn))
            st.caption(" · ".join(bits))
        with col2:
            label = t("sessions.resume" if info.status == "active" else "sessions.open", lang)
            if st.button(label, key=f"sessions.open.{info.id}"):
                st.query_params["session"] = info.id
                st.switch_page("app_pages/practise.py", query_params={"session": info.id})
