"""Relational practice – entry point. A router only: the pages live in app_pages/."""

import streamlit as st

from app_pages import shell

st.set_page_config(page_title="Relational practice", page_icon="🤝", layout="wide")
lang = shell.sidebar()
st.navigation(shell.pages(lang)).run()
