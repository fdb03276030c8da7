"""Choosing the citizen's voice: the built-in offline renderer, or a configured LLM.

The LLM settings come from the environment, Streamlit secrets, or the Settings page
(kept in this browser session only; never written to the database)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from base.i18n import t
from base.llm import make_model, resolve_settings
from citizen.llm_renderer import LLMRenderer

OVERRIDES_KEY = "settings.llm_overrides"


def _secrets() -> Mapping[str, Any]:
    try:
        return dict(st.secrets)
    except Exception:  # no secrets.toml: that is the normal case
        return {}


def llm_settings():

    return resolve_settings(overrides=st.session_state.get(OVERRIDES_KEY), secrets=_secrets())


def llm_configured() -> bool:
    try:
        settings = llm_settings()
    except Exception:
        return False
    return settings.backend != "offline"


def backend_picker(lang: str, *, key: str) -> str:
    if not llm_configured():
        return "offline"
    settings = llm_settings()
    options = {
        "offline": t("practise.backend.offline", lang),
        settings.backend: t("practise.backend.llm", lang, model=settings.model or "?"),
    }
    return st.radio(
        t("practise.backend", lang),
        list(options),
        format_func=options.get,
        key=key,
        horizontal=True,
    )


def renderer_for_session():
    """An LLM renderer built from the current settings (errors surface to the caller)."""

    return LLMRenderer(make_model(llm_settings()))


def judge_model():
    """The model for the optional LLM judge, or None when no endpoint is configured."""
    if not llm_configured():
        return None

    try:
        return make_model(llm_settings())
    except Exception:
        return None
