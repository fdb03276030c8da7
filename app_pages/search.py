"""Moments like this: semantic search over practised turns (``practice.search``).

Results are limited to the sessions the viewer may see (``practice.access``): a
supervisor searches what their team shared with them, an educator their classes (shown
by pseudonym), a practitioner their own conversations.
"""

from __future__ import annotations

import streamlit as st

from app_pages import shell
from base.i18n import t
from practice.access import anonymise
from practice.accounts import AccountService
from practice.search import SearchIndex

lang = shell.lang()
svc = shell.services()
user = shell.current_user()


@st.cache_resource(show_spinner=False)
def _index(data_dir: str, database_url: str, chroma: str):

    return SearchIndex.for_settings(svc.db, svc.settings)


def get_index():
    s = svc.settings
    return _index(str(s.data_dir), s.database_url, f"{s.chroma_host}:{s.chroma_port}")


def owner_label(hit, names: dict[str, str]) -> str:
    if hit.owner_id == user.id:
        name = t("search.me", lang)
    elif user.role == "educator" and hit.class_id:  # class members: a pseudonym, as everywhere
        name = t("classroom.student", lang, n=anonymise(hit.owner_id, hit.class_id, "").strip())
    else:
        name = names.get(hit.owner_id, "?")
    return t("search.owner", lang, name=name)


def main() -> None:
    st.title(t("search.title", lang))
    st.caption(t("search.intro", lang))
    try:
        index = get_index()
        index.catch_up()
    except Exception as exc:
        st.error(t("search.unavailable", lang, reason=str(exc)))
        return
    with st.form("search.form"):
        query = st.text_area(t("search.query", lang), key="search.query", max_chars=2000, height=90)
        c1, c2 = st.columns([1, 2])
        with c1:
            options = {
                "": t("search.any_language", lang),
                "da": t("common.language.da", lang),
                "en": t("common.language.en", lang),
            }
            language = st.selectbox(
                t("search.language", lang),
                list(options),
                format_func=options.get,
                key="search.language",
            )
        with c2:
            good_only = st.checkbox(t("search.good_only", lang), key="search.good_only")
        submitted = st.form_submit_button(t("search.go", lang), type="primary")
    st.caption(t("search.indexed", lang, n=index.count()))
    if not (submitted or st.session_state.get("search.last")) or not query.strip():
        return
    st.session_state["search.last"] = True
    hits = index.search(user, query, language=language or None, k=10, good_only=good_only)
    if not hits:
        st.info(t("search.none", lang))
        return
    st.subheader(t("search.results", lang, n=len(hits)))

    names = AccountService(svc.db).display_names({h.owner_id for h in hits})
    for i, h in enumerate(hits):
        with st.container(border=True):
            if h.context:
                st.markdown(f"*{t('search.citizen', lang)}:* {h.context}")
            st.markdown(f"**{t('search.practitioner', lang)}:** {h.text}")
            bits = [
                t("search.similarity", lang, s=f"{h.score:.2f}"),
                owner_label(h, names),
                h.language.upper(),
            ]
            if h.trust_delta is not None:
                bits.append(t("search.trust", lang, d=f"{h.trust_delta:+.2f}"))
            if h.label:
                bits.append(h.label)
            if h.good:
                bits.append("✅ " + t("search.good", lang))
            st.caption(" · ".join(bits))
            target = "app_pages/practise.py" if h.owner_id == user.id else "app_pages/review.py"
            if st.button(t("search.open", lang), key=f"search.open.{i}"):
                st.switch_page(target, query_params={"session": h.session_id})


if user is None:
    st.stop()
main()
