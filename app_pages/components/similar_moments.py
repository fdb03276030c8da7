"""The coach's growth points, each with a similar moment that went well – found by
semantic search among the sessions the viewer may see (their own, or their team's)."""

from __future__ import annotations

import streamlit as st

from base.i18n import t
from practice.search import similar_good_moments


def render_similar_moments(report, viewer, lang: str, *, session_id: str) -> None:
    notes = getattr(report, "notes", None)
    growth = list(getattr(notes, "growth_points", None) or [])
    if not growth:
        return

    found = []
    for point in growth[:3]:
        hits = similar_good_moments(
            point.quote, report.language, viewer, k=1, exclude_session=session_id
        )
        if hits:
            found.append((point, hits[0]))
    if not found:
        return
    with st.expander(t("similar.title", lang), icon="🔎"):
        st.caption(t("similar.help", lang))
        for point, hit in found:
            st.markdown(f"> {point.quote}")
            st.markdown(t("similar.went_well", lang))
            if hit.context:
                st.markdown(f"- 🙂 {hit.context}")
            st.markdown(f"- 🧑‍💼 {hit.text}")
            st.divider()
