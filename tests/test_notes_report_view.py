"""The Streamlit report view renders a full report and an empty one, in both UI languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from base.models import Transcript, Turn
from coach.notes import coach_session
from reading import get_reader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "coach"

SCRIPT = """
import streamlit as st
from app_pages.components.report_view import render_report
from coach.schema import CoachReport

render_report(
    CoachReport.model_validate_json(st.session_state["report_json"]),
    st.session_state["ui_lang"],
    key_prefix="test.report",
)
"""


def _run(report_json: str, lang: str) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.session_state["report_json"] = report_json
    at.session_state["ui_lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["da", "en"])
def test_full_report_renders(lang: str) -> None:
    tr = Transcript.model_validate_json(
        (FIXTURES / "da_relational.json").read_text(encoding="utf-8")
    )
    report = coach_session(tr, reader=get_reader(), citizen_voice="Jeg følte mig hørt.")
    at = _run(report.model_dump_json(), lang)
    metric_labels = [m.label for m in at.metric]
    overall = "Samlet relationel score" if lang == "da" else "Overall relational score"
    assert overall in metric_labels
    expanders = [e.label for e in at.expander]
    assert any(report.principles[0].title in label for label in expanders)
    markdown = "\n".join(m.value for m in at.markdown)
    assert report.principles[0].evidence[0].quote in markdown
    assert "Jeg følte mig hørt." in markdown
    assert len(at.dataframe) >= 1  # MITI table
    downloads = [b for b in at.get("download_button")]
    assert len(downloads) == 3


def test_empty_report_renders_with_a_message() -> None:
    tr = Transcript(language="en", turns=[Turn(speaker="citizen", text="Hello?")])
    report = coach_session(tr, reader=get_reader())
    at = _run(report.model_dump_json(), "en")
    assert any("no practitioner turns" in i.value for i in at.info)


JUDGE_SCRIPT = """
import json
import streamlit as st
from app_pages.components.report_view import render_report
from coach.schema import CoachReport
from base.llm import ScriptedModel
from base.models import Transcript

tr = Transcript.model_validate_json(st.session_state["transcript_json"])
quote = tr.turns[0].text.split(".")[0]
model = ScriptedModel(function=lambda m, i: json.dumps({"score": 1, "reason": "r", "evidence": [quote]}))
render_report(
    CoachReport.model_validate_json(st.session_state["report_json"]),
    "en",
    key_prefix="test.judge",
    transcript=tr,
    judge_model=model,
)
"""


def test_judge_button_shows_a_second_opinion_beside_the_scores() -> None:
    tr = Transcript.model_validate_json(
        (FIXTURES / "en_relational.json").read_text(encoding="utf-8")
    )
    report = coach_session(tr, reader=get_reader())
    at = AppTest.from_string(JUDGE_SCRIPT, default_timeout=60)
    at.session_state["report_json"] = report.model_dump_json()
    at.session_state["transcript_json"] = tr.model_dump_json()
    at.run()
    assert not at.exception
    button = next(b for b in at.button if b.label == "Get a second opinion from the LLM judge")
    button.click().run()
    assert not at.exception, at.exception
    assert any("LLM judge" in m.value for m in at.markdown)
    # judge says 1 where the offline score is high: flagged as a disagreement, offline kept
    table = at.dataframe[-1].value
    assert "disagrees" in " ".join(map(str, table.iloc[:, -1]))
    assert list(table.iloc[:, 1]) == [p.score for p in report.principles]


def test_download_callables_make_the_files() -> None:
    from app_pages.components.report_view import _export_callable

    tr = Transcript.model_validate_json((FIXTURES / "en_system.json").read_text(encoding="utf-8"))
    report = coach_session(tr, reader=get_reader())
    assert _export_callable(report, "en", "md")().startswith(b"# Feedback on the conversation")
    assert _export_callable(report, "da", "docx")()[:2] == b"PK"
    assert _export_callable(report, "en", "pdf")().startswith(b"%PDF")


def test_report_page_says_what_the_exports_say() -> None:
    """Band, patterns, adopted plan, uncertain marks, 1-based turns and words, not codes."""
    import re

    from base.i18n import fmt_number
    from coach.schema import OwnershipEvent, Pattern

    tr = Transcript.model_validate_json(
        (FIXTURES / "da_relational.json").read_text(encoding="utf-8")
    )
    report = coach_session(tr, reader=get_reader())
    p0 = report.principles[0]
    report = report.model_copy(
        update={
            "overall_band": (71.4, 88.6),
            "patterns": [
                Pattern(kind="shelved_idea", turns=[13], quotes=["spørge naboen"], text="Tekst.")
            ],
            "ownership": report.ownership.model_copy(
                update={"adopted_plan": OwnershipEvent(by="citizen", turn=13, quote="naboen")}
            ),
            "principles": [
                p0.model_copy(update={"confidence": 0.3}),
                *report.principles[1:],
            ],
        }
    )
    at = _run(report.model_dump_json(), "da")
    overall = next(m for m in at.metric if m.label == "Samlet relationel score")
    assert overall.value == f"{report.overall:.0f}/100 (71–89)"
    markdown = "\n".join(m.value for m in at.markdown)
    assert "Mønstre i samtalen" in markdown
    assert "Borgerens idé blev lagt til side" in markdown
    assert "*Tur 14*: “spørge naboen”" in markdown
    assert "Den aftalte plan var forslag fra" in markdown
    assert any(f"{p0.title} – {p0.score}/5 (usikker)" == e.label for e in at.expander)
    captions = "\n".join(c.value for c in at.caption)
    assert fmt_number(0.3, "da", 2) in captions
    assert re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", markdown + captions) == []
