"""Scenario studio: write a scenario with a form or in YAML, see problems as you type,
talk to it, save drafts, duplicate, start a translation, publish to the shared library."""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t
from citizen import studio
from citizen.schema import Context

lang = shell.lang()
svc = shell.services()
user = shell.current_user()
drafts_dir = svc.settings.data_dir / "studio" / "drafts" / user.id
publish_dir = svc.settings.user_scenario_dir

TEXT = "studio.yaml"
PREVIEW = "studio.preview_state"
PREVIEW_TURNS = "studio.preview_turns"

if TEXT not in st.session_state:
    st.session_state[TEXT] = studio.template(lang)


def _set_text(text: str) -> None:
    st.session_state[TEXT] = text
    st.session_state.pop(PREVIEW, None)
    st.session_state.pop(PREVIEW_TURNS, None)
    st.session_state.pop("studio.message", None)


def _message(kind: str, text: str) -> None:
    st.session_state["studio.message"] = (kind, text)


# -- actions (callbacks run before the widgets are drawn) --------------------------------
def on_load() -> None:
    choice = st.session_state.get("studio.source")
    if choice == "new-da" or choice == "new-en":
        _set_text(studio.template(choice[-2:]))
    elif choice and choice.startswith("draft:"):
        _set_text((drafts_dir / choice[6:]).read_text(encoding="utf-8"))
    elif choice and choice.startswith("lib:"):
        lib = svc.library()
        _set_text(lib.files[choice[4:]].read_text(encoding="utf-8"))


def on_apply_form() -> None:
    fields = {
        "id": st.session_state["studio.f.id"],
        "title": st.session_state["studio.f.title"],
        "language": st.session_state["studio.f.language"],
        "context": st.session_state["studio.f.context"],
        "difficulty": st.session_state["studio.f.difficulty"],
        "summary": st.session_state["studio.f.summary"],
        "briefing": st.session_state["studio.f.briefing"],
        "case_file": st.session_state["studio.f.case_file"],
        "persona.name": st.session_state["studio.f.name"],
        "persona.age": st.session_state["studio.f.age"],
        "opening_line": st.session_state["studio.f.opening"],
    }
    try:
        _set_text(studio.set_fields(st.session_state[TEXT], **fields))
    except studio.StudioError as exc:
        _message("error", str(exc))


def on_save_draft() -> None:
    try:
        path = studio.save_draft(st.session_state[TEXT], drafts_dir, author=user.display_name)
        _message("success", t("studio.saved_draft", lang, name=path.name))
    except studio.StudioError as exc:
        _message("error", str(exc))


def on_publish() -> None:
    try:
        path = studio.publish(
            st.session_state[TEXT],
            publish_dir,
            author=user.display_name,
            role=user.role,
            allow_publish_setting=svc.settings.allow_publish,
            shipped_ids=_shipped_ids(),
        )
        _set_text(path.read_text(encoding="utf-8"))
        _message("success", t("studio.published", lang, name=path.stem))
    except studio.StudioError as exc:
        _message("error", str(exc))


def on_duplicate() -> None:
    try:
        _set_text(studio.duplicate(st.session_state[TEXT], author=user.display_name))
        _message("info", t("studio.duplicated", lang))
    except studio.StudioError as exc:
        _message("error", str(exc))


def on_translate() -> None:
    check = studio.check_text(st.session_state[TEXT])
    current = check.scenario.language if check.scenario else "da"
    target = "en" if current == "da" else "da"
    try:
        _set_text(
            studio.start_translation(st.session_state[TEXT], target, author=user.display_name)
        )
        _message("info", t("studio.translation_started", lang, code=target.upper()))
    except studio.StudioError as exc:
        _message("error", str(exc))


def _shipped_ids() -> set[str]:
    lib = svc.library()
    return {sid for sid, path in lib.files.items() if path.parent == svc.settings.library_dir}


# -- page ----------------------------------------------------------------------------
st.title(t("studio.title", lang))
st.caption(t("studio.intro", lang))

lib = svc.library()
sources = {"new-da": t("studio.new_da", lang), "new-en": t("studio.new_en", lang)}
for p in studio.list_drafts(drafts_dir):
    sources[f"draft:{p.name}"] = t("studio.draft", lang, name=p.stem)
for s in lib.by_language(None):
    sources[f"lib:{s.id}"] = t("studio.library_item", lang, title=s.title, code=s.language.upper())
col_a, col_b = st.columns([3, 1])
with col_a:
    st.selectbox(
        t("studio.source", lang), list(sources), format_func=sources.get, key="studio.source"
    )
with col_b:
    st.write("")
    st.button(t("studio.load", lang), on_click=on_load, key="studio.load")

if msg := st.session_state.get("studio.message"):
    getattr(st, msg[0])(msg[1])

check = studio.check_text(st.session_state[TEXT])
sc = check.scenario

tab_form, tab_yaml, tab_preview = st.tabs(
    [t("studio.tab_form", lang), t("studio.tab_yaml", lang), t("studio.tab_preview", lang)]
)

with tab_form:
    if sc is None:
        st.info(t("studio.form_needs_valid", lang))
    else:
        with st.form("studio.form"):
            c1, c2, c3 = st.columns([2, 1, 1])
            c1.text_input(t("studio.f.title", lang), sc.title, key="studio.f.title")
            c2.text_input("id", sc.id, key="studio.f.id", help=t("studio.f.id_help", lang))
            c3.selectbox(
                t("studio.f.language", lang),
                ["da", "en"],
                index=["da", "en"].index(sc.language),
                key="studio.f.language",
            )
            c1, c2, c3 = st.columns([2, 1, 1])
            contexts = [c.value for c in Context]
            c1.selectbox(
                t("studio.f.context", lang),
                contexts,
                index=contexts.index(sc.context.value),
                key="studio.f.context",
            )
            c2.number_input(
                t("common.difficulty", lang), 1, 3, sc.difficulty, key="studio.f.difficulty"
            )
            c3.number_input(t("studio.f.age", lang), 0, 120, sc.persona.age, key="studio.f.age")
            st.text_input(t("studio.f.name", lang), sc.persona.name, key="studio.f.name")
            st.text_area(t("studio.f.summary", lang), sc.summary, key="studio.f.summary", height=80)
            st.text_area(
                t("practise.briefing", lang), sc.briefing, key="studio.f.briefing", height=120
            )
            st.text_area(
                t("practise.case_file", lang), sc.case_file, key="studio.f.case_file", height=160
            )
            st.text_input(t("studio.f.opening", lang), sc.opening_line, key="studio.f.opening")
            st.form_submit_button(t("studio.apply", lang), on_click=on_apply_form)
        st.caption(t("studio.form_rest", lang))

with tab_yaml:
    st.text_area(t("studio.yaml_label", lang), key=TEXT, height=520)

with tab_preview:
    if not check.ok or sc is None:
        st.info(t("studio.preview_needs_valid", lang))
    else:
        from citizen.engine import Citizen, start

        if PREVIEW not in st.session_state:
            citizen = start(sc)
            st.session_state[PREVIEW] = citizen.state.model_dump_json()
            st.session_state[PREVIEW_TURNS] = [("citizen", citizen.opening)]
        citizen = Citizen.restore(sc, st.session_state[PREVIEW])
        m1, m2 = st.columns(2)
        m1.metric(t("studio.trust", lang), f"{citizen.state.trust:.2f}")
        m2.metric(t("studio.depth", lang), citizen.state.depth)
        for speaker, text in st.session_state[PREVIEW_TURNS]:
            role = "user" if speaker == "practitioner" else "assistant"
            with st.chat_message(role, avatar="🧑‍💼" if role == "user" else "🙂"):
                st.markdown(text)
        said = st.chat_input(t("studio.preview_input", lang), key="studio.preview_input")
        if said:
            result = citizen.respond(said[:4000])
            st.session_state[PREVIEW] = citizen.state.model_dump_json()
            st.session_state[PREVIEW_TURNS] += [
                ("practitioner", said[:4000]),
                ("citizen", result.reply),
            ]
            st.rerun()
        if st.button(t("studio.preview_reset", lang), key="studio.preview_reset"):
            st.session_state.pop(PREVIEW, None)
            st.rerun()

st.subheader(t("studio.problems", lang))


def explain(p) -> str:
    """The problem in plain words in the UI language, with the exact reason beneath."""
    key = f"problem.{p.code}"
    plain = t(key, lang)
    if plain == key:
        return f"`{p.path or '<file>'}`: {p.reason}"
    return f"`{p.path or '<file>'}`: {plain}  \n({p.reason})"


if check.errors:
    for p in check.errors:
        st.error(explain(p))
elif check.warnings:
    st.success(t("studio.valid_with_warnings", lang, n=len(check.warnings)))
    with st.expander(
        t("studio.show_warnings", lang, n=len(check.warnings)), expanded=len(check.warnings) <= 3
    ):
        for p in check.warnings:
            st.warning(explain(p))
else:
    st.success(t("studio.valid", lang))

may_publish = studio.can_publish(user.role, svc.settings.allow_publish)
c1, c2, c3, c4, c5 = st.columns(5)
c1.button(t("studio.save_draft", lang), on_click=on_save_draft, key="studio.save_draft")
c2.button(
    t("studio.publish", lang),
    on_click=on_publish,
    key="studio.publish",
    type="primary",
    disabled=not (may_publish and check.ok),
    help=None if may_publish else t("studio.publish_denied", lang),
)
c3.button(t("studio.duplicate", lang), on_click=on_duplicate, key="studio.duplicate")
c4.button(t("studio.translate", lang), on_click=on_translate, key="studio.translate")
c5.download_button(
    t("studio.download", lang),
    st.session_state[TEXT].encode("utf-8"),
    file_name=f"{sc.id if sc else 'scenario'}.yaml",
    mime="application/yaml",
    key="studio.download",
)
if not may_publish:
    st.caption(t("studio.publish_denied", lang))
