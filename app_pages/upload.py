"""Upload for review: import a transcript of a role-play held in person (the CLI's JSON,
plain text ``Name: line``, or Word .docx), store it as one of my sessions
(``source="upload"``), have the coach score it, and open it for review."""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t
from practice.importers import MAX_UPLOAD_BYTES, ImportProblem, import_transcript, parse_upload

lang = shell.lang()
svc = shell.services()
user = shell.current_user()


def problem_text(exc: ImportProblem) -> str:
    key = f"upload.error.{exc.code}"
    reason = t(key, lang) if t(key, lang) != key else exc.reason
    return t("upload.failed", lang, file=exc.file, reason=reason)


st.title(t("upload.title", lang))
st.markdown(t("upload.intro", lang))
with st.expander(t("upload.formats", lang)):
    st.markdown(t("upload.formats_help", lang))
    st.code(
        '{"language": "da", "turns": [\n  {"speaker": "citizen", "text": "Hej."},\n  {"speaker": "practitioner", "text": "Hej, hvad vil du gerne tale om?"}\n]}',
        language="json",
    )
    st.code(
        "Mia: Jeg ved ikke, hvorfor jeg er her.\nAnna: Hvad tænker du selv, vi skal bruge tiden på?",
        language=None,
    )

uploaded = st.file_uploader(
    t("upload.file", lang),
    type=["json", "txt", "docx"],
    key="upload.file",
    max_upload_size=max(1, MAX_UPLOAD_BYTES // 1_000_000),
)
if uploaded is None:
    st.stop()

try:
    parsed = parse_upload(uploaded.name, uploaded.getvalue(), uploaded.type)
except ImportProblem as exc:
    st.error(problem_text(exc))
    st.caption(str(exc))
    st.stop()

practitioner = None
if parsed.speakers:
    practitioner = st.selectbox(
        t("upload.who_is_practitioner", lang), parsed.speakers, key="upload.practitioner"
    )
languages = ["da", "en"]
language = st.selectbox(
    t("upload.language", lang),
    languages,
    index=languages.index(parsed.guess_language()),
    format_func=lambda c: t(f"common.language.{c}", lang),
    key="upload.language",
)
library = svc.library()
scenario_ids = ["", *sorted(s.id for s in library.scenarios.values() if s.language == language)]
scenario_id = st.selectbox(
    t("upload.scenario", lang),
    scenario_ids,
    format_func=lambda i: library.get(i).title if i else t("upload.no_scenario", lang),
    key="upload.scenario",
)
title = st.text_input(
    t("upload.session_title", lang), value=uploaded.name.rsplit(".", 1)[0], key="upload.title"
)

try:
    transcript = parsed.transcript(practitioner=practitioner, language=language)
except ImportProblem as exc:
    st.error(problem_text(exc))
    st.stop()

st.subheader(t("upload.preview", lang))
for turn in transcript.turns[:6]:
    role = "user" if turn.speaker == "practitioner" else "assistant"
    with st.chat_message(role, avatar="🧑‍💼" if role == "user" else "🙂"):
        st.markdown(turn.text)
if len(transcript.turns) > 6:
    st.caption(t("upload.more_turns", lang, n=len(transcript.turns) - 6))

if st.button(t("upload.import", lang), type="primary", key="upload.import"):
    with st.status(t("practise.scoring", lang)) as status:
        session_id = import_transcript(
            svc.practice,
            user,
            transcript,
            title=title,
            scenario_id=scenario_id or None,
            score=False,
        )
        try:
            svc.practice.score(user, session_id)
        except Exception as exc:  # the session is stored; scoring can be retried on the review page
            status.update(label=t("upload.score_failed", lang, reason=str(exc)), state="error")
        else:
            status.update(label=t("practise.scored", lang), state="complete")
    st.session_state["upload.done"] = (uploaded.file_id, session_id)

done = st.session_state.get("upload.done")
if done and done[0] == uploaded.file_id:
    st.success(t("upload.done", lang))
    if st.button(t("upload.open_review", lang), key="upload.open_review"):
        st.switch_page("app_pages/review.py", query_params={"session": done[1]})
