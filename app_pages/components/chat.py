"""The conversation as every page shows and drives it: the turns, a new practitioner
turn, and the citizen's reply streaming in. Used by the Practise page and by students
in a class (the Join page), so both keep the same durability and error handling."""

from __future__ import annotations

from typing import Any

import streamlit as st

from base.i18n import t
from practice.sessions import SessionError

AVATAR = {"user": "🧑‍💼", "assistant": "🙂"}


def session_error_text(exc: SessionError, lang: str) -> str:
    code, _, arg = str(exc).partition(":")
    if code == "too_long":
        return t("practise.error.too_long", lang, n=arg)
    key = f"practise.error.{code}"
    text = t(key, lang)
    return text if text != key else str(exc)


def render_turns(turns: list[Any], lang: str) -> None:
    for turn in turns:
        role = "user" if turn.speaker == "practitioner" else "assistant"
        with st.chat_message(role, avatar=AVATAR[role]):
            st.markdown(turn.text)
            outcome = str(turn.meta.get("outcome", ""))
            if outcome.startswith(("fell_back", "regenerated")):
                st.caption(t(f"llm.outcome.{outcome.split(':')[0]}", lang))


def submit_turn(practice: Any, user: Any, session_id: str, prompt: str, lang: str) -> bool:
    """Store the practitioner's words and show them. On failure, say why; if the database
    could not save them, give the text back so nothing typed is lost."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        stored = practice.add_practitioner_turn(user, session_id, prompt)
    except SessionError as exc:
        st.error(session_error_text(exc, lang))
        return False
    except SQLAlchemyError as exc:
        st.error(t("ops.db_unavailable", lang, error=type(exc).__name__))
        st.code(prompt, language=None)
        return False
    with st.chat_message("user", avatar=AVATAR["user"]):
        st.markdown(stored)
    return True


def stream_reply(practice: Any, user: Any, session_id: str, renderer: Any, lang: str) -> None:
    """The citizen's reply to the pending turn. Offline: the authored line. With a model:
    tokens as they arrive, replaced if a guard rejects them. Failures keep the turn pending."""
    with st.chat_message("assistant", avatar=AVATAR["assistant"]):
        try:
            if renderer is None:
                st.write_stream(practice.reply_stream(user, session_id))
                return
            placeholder, shown = st.empty(), ""
            for item in practice.reply_stream(user, session_id, renderer, live=True):
                shown = shown + item if isinstance(item, str) else item.text
                placeholder.markdown(shown + " ▌")
            placeholder.markdown(shown)
            key = renderer.last_outcome.message_key() if renderer.last_outcome else None
            if key:
                st.caption(t(key, lang))
        except SessionError as exc:
            st.error(session_error_text(exc, lang))
        except Exception as exc:  # a dead LLM endpoint etc.: the practitioner's text is kept
            reason = exc.localized(lang) if hasattr(exc, "localized") else str(exc)
            st.error(t("practise.error.reply_failed", lang, reason=reason))
