"""Exports a supervisor can file (issue #12, item 6): the rules every export keeps.

Markdown, DOCX and PDF carry the whole transcript with the reading in words, never internal
codes; DOCX is on A4; Danish uses the decimal comma; no bullet twice; thin scores marked
uncertain; the trust chart when there is trust; band, patterns and adopted plan when present.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import get_args

import pytest

from base.i18n import fmt_number, t, tn
from base.models import Transcript, Turn
from coach import export
from coach.notes import coach_session
from coach.schema import CoachReport, NoteItem, OwnershipEvent, Pattern, PatternKind
from reading import BEHAVIOURS, MOVES, get_reader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "coach"
FORMATS = ("md", "docx", "pdf")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # an internal code: asks_permission
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")  # 0.45, but not 4.2.1


def load(name: str) -> Transcript:
    return Transcript.model_validate_json((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def da() -> tuple[CoachReport, Transcript]:
    tr = load("da_relational")
    return coach_session(tr, reader=get_reader()), tr


@pytest.fixture(scope="module")
def da_system() -> tuple[CoachReport, Transcript]:
    tr = load("da_system")
    return coach_session(tr, reader=get_reader()), tr


@pytest.fixture(scope="module")
def en_system() -> tuple[CoachReport, Transcript]:
    tr = load("en_system")
    return coach_session(tr, reader=get_reader()), tr


def render(fmt: str, report: CoachReport, lang: str | None, tr: Transcript | None) -> bytes:
    fn = {"md": export.to_markdown, "docx": export.to_docx, "pdf": export.to_pdf}[fmt]
    return fn(report, lang, transcript=tr)


def docx_text(data: bytes) -> str:
    import docx

    doc = docx.Document(io.BytesIO(data))
    paras = [p.text for p in doc.paragraphs]
    cells = [c.text for tbl in doc.tables for row in tbl.rows for c in row.cells]
    return "\n".join(paras + cells)


def pdf_text(data: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def text_of(fmt: str, report: CoachReport, lang: str | None = None, tr=None) -> str:
    """The export's text, whitespace flattened (PDF lines wrap anywhere)."""
    data = render(fmt, report, lang, tr)
    raw = {"md": lambda d: d.decode("utf-8"), "docx": docx_text, "pdf": pdf_text}[fmt](data)
    return " ".join(raw.split())


def enriched(report: CoachReport) -> CoachReport:
    """The report with the fields the scorer may leave empty: band, patterns, adopted plan."""
    own = report.ownership.model_copy(
        update={
            "adopted_plan": OwnershipEvent(
                by="citizen", turn=13, quote="Jeg vil gerne spørge naboen", cue="x"
            )
        }
    )
    patterns = [
        Pattern(
            kind=kind,
            turns=[12, 13],
            quotes=["Hvad tænker du selv", "spørge naboen"],
            text=f"Mønstertekst {i}.",
        )
        for i, kind in enumerate(get_args(PatternKind))
    ]
    return report.model_copy(
        update={"overall_band": (71.4, 88.6), "patterns": patterns, "ownership": own}
    )


# --------------------------------------------------------------------------- helpers


def test_fmt_number_and_plural() -> None:
    assert fmt_number(0.5, "da", 2) == "0,50"
    assert fmt_number(0.5, "en", 2) == "0.50"
    assert fmt_number(62.4, "da") == "62"
    assert fmt_number(87.5, "da", 0, pct=True) == "88 %"
    assert fmt_number(None, "da") == "–"
    assert tn("report.export.times", "da", 1) == "1 gang"
    assert tn("report.export.times", "da", 2) == "2 gange"
    assert tn("report.export.times", "en", 1) == "1 time"


def test_every_code_of_the_reading_has_words() -> None:
    for lang in ("da", "en"):
        for code in BEHAVIOURS:
            assert t(f"report.behaviour.{code}", lang) != f"report.behaviour.{code}"
        for code in MOVES:
            assert t(f"report.move.{code}", lang) != f"report.move.{code}"
        for kind in get_args(PatternKind):
            assert t(f"report.export.pattern.{kind}", lang) != f"report.export.pattern.{kind}"
        for speaker in ("practitioner", "citizen"):
            assert t(f"report.export.speaker.{speaker}", lang) != f"report.export.speaker.{speaker}"


def test_every_miti_category_the_scorer_writes_has_words(da_system, en_system) -> None:
    for report, _ in (da_system, en_system):
        s = report.summary
        for code in (*s.adherent_detail, *s.non_adherent_detail):
            key = f"report.export.miti.{code}"
            assert t(key, "da") != key, code


# --------------------------------------------------------------------------- the rules


def test_docx_is_on_a4() -> None:
    import docx

    tr = load("en_relational")
    data = export.to_docx(coach_session(tr, reader=get_reader()), transcript=tr)
    doc = docx.Document(io.BytesIO(data))
    for section in doc.sections:
        assert abs(section.page_width.mm - 210) < 0.5
        assert abs(section.page_height.mm - 297) < 0.5
        assert section.left_margin.mm == pytest.approx(export.MARGIN_MM, abs=0.5)
        assert section.right_margin.mm == pytest.approx(export.MARGIN_MM, abs=0.5)


def test_pdf_is_on_a4(da) -> None:
    pypdf = pytest.importorskip("pypdf")
    report, tr = da
    box = pypdf.PdfReader(io.BytesIO(export.to_pdf(report, transcript=tr))).pages[0].mediabox
    assert float(box.width) == pytest.approx(595.28, abs=1)  # 210 mm in points
    assert float(box.height) == pytest.approx(841.89, abs=1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_danish_export_uses_the_decimal_comma(fmt: str, da) -> None:
    report, tr = da
    text = text_of(fmt, report, "da", tr)
    conf = report.principles[0].confidence
    assert f"{conf:.2f}".replace(".", ",") in text
    assert DECIMAL_POINT.findall(text) == []  # not one decimal point, generated texts included
    english = text_of(fmt, report, "en", tr)
    assert f"{conf:.2f}" in english


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", ["da", "en"])
def test_no_internal_codes_in_any_export(fmt: str, lang: str, da_system, en_system) -> None:
    for report, tr in (da_system, en_system):
        report = enriched(report)
        text = text_of(fmt, report, lang, tr)
        assert SNAKE.findall(text) == [], SNAKE.findall(text)[:5]
        # the MITI detail and the behaviour counts are words
        s = report.summary
        for code, n in s.adherent_detail.items():
            if n:
                assert (
                    f"{export.miti_text(code, lang)} {tn('report.export.times', lang, n)}" in text
                )
        for code, n in s.non_adherent_detail.items():
            if n:
                assert (
                    f"{export.miti_text(code, lang)} {tn('report.export.times', lang, n)}" in text
                )
        for code, n in s.counts.items():
            if n:
                words = export.behaviour_text(code, lang)
                assert f"{words} {tn('report.export.times', lang, n)}" in text
        if lang == "da":
            assert not re.search(r"\b1 gange\b", text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_whole_transcript_is_in_every_export(fmt: str, da) -> None:
    report, tr = da
    text = text_of(fmt, report, "da", tr)
    assert t("report.export.transcript", "da") in text
    for i, turn in enumerate(tr.turns):
        speaker = t(f"report.export.speaker.{turn.speaker}", "da")
        assert f"Tur {i + 1} · {speaker}" in text
        assert " ".join(turn.text.split()) in text
        if turn.speaker == "practitioner":
            reading = export.reading_text(report, i, "da")
            assert reading is not None
            assert " ".join(t("report.export.reading", "da", what=reading).split()) in text
    # English reader: speakers and readings in English
    en = text_of(fmt, report, "en", tr)
    assert "Turn 1 · Practitioner" in en
    assert "Turn 2 · Citizen" in en
    assert f"Reading: {export.reading_text(report, 0, 'en')}" in en


def test_turn_numbers_are_the_report_pages(da) -> None:
    """One numbering: evidence 'Tur N' points at the transcript's 'Tur N' (1-based)."""
    report, tr = da
    md = export.to_markdown(report, transcript=tr).decode()
    turns = {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r"^\*\*Tur (\d+) · Fagperson:\*\* (.*)$", md, re.M)
    }
    checked = 0
    for ps in report.principles:
        for ev in ps.evidence:
            if tr.turns[ev.turn].speaker == "practitioner":
                assert ev.quote in turns[ev.turn + 1]
                assert f"Tur {ev.turn + 1}: “{ev.quote}”" in md
                checked += 1
    assert checked > 0
    own = report.ownership.problem
    assert own.turn is not None
    assert f"Tur {own.turn + 1}: “{own.quote}”" in md


def test_without_a_transcript_the_reading_per_turn_is_still_in_words(da) -> None:
    report, _ = da
    md = export.to_markdown(report).decode()
    assert "## Samtalen" not in md
    assert f"## {t('report.behaviours', 'da')}" in md
    assert SNAKE.findall(md) == []


def _md_lists(md: str) -> list[list[str]]:
    lists, current = [], []
    for line in md.splitlines():
        if line.startswith("- "):
            current.append(line)
        elif current:
            lists.append(current)
            current = []
    return [*lists, current] if current else lists


def test_no_duplicated_bullets(da) -> None:
    report, tr = da
    ps = report.principles[0]
    doubled = ps.model_copy(update={"evidence": ps.evidence + ps.evidence})
    notes = report.notes
    assert notes is not None
    item = NoteItem(text="Spurgte åbent", turn=0, quote="Hvordan har du det i dag?")
    noisy = report.model_copy(
        update={
            "principles": [doubled, *report.principles[1:]],
            "notes": notes.model_copy(update={"went_well": [item, item, *notes.went_well]}),
        }
    )
    md = export.to_markdown(noisy, transcript=tr).decode()
    for items in _md_lists(md):
        assert len(items) == len(set(items)), items
    assert md.count("Spurgte åbent") == 1
    for blk in export.outline(noisy, transcript=tr):  # what the PDF draws
        assert len(blk.items) == len(set(blk.items))

    import docx

    doc = docx.Document(io.BytesIO(export.to_docx(noisy, transcript=tr)))
    run: list[str] = []
    for p in [*doc.paragraphs, None]:
        if p is not None and p.style.name == "List Bullet":
            run.append(p.text)
            continue
        assert len(run) == len(set(run)), run
        run = []


@pytest.mark.parametrize("fmt", FORMATS)
def test_low_confidence_scores_look_uncertain(fmt: str, da) -> None:
    report, tr = da
    p0, p1, p2 = report.principles[:3]
    thin = report.model_copy(
        update={
            "principles": [
                p0.model_copy(update={"confidence": 0.3, "insufficient_evidence": False}),
                p1.model_copy(update={"confidence": 0.8, "insufficient_evidence": True}),
                p2.model_copy(update={"confidence": 0.9, "insufficient_evidence": False}),
                *report.principles[3:],
            ]
        }
    )
    for lang, word in (("da", "usikker"), ("en", "uncertain")):
        text = text_of(fmt, thin, lang, tr)
        assert f"{p0.title}: {p0.score}/5 ({word})" in text
        assert f"{p1.title}: {p1.score}/5 ({word})" in text
        assert f"{p2.title}: {p2.score}/5 ({word})" not in text
        assert f"{fmt_number(0.3, lang, 2)} ({word})" in text  # in the table too
    sure = report.model_copy(
        update={
            "principles": [
                p.model_copy(update={"confidence": 0.9, "insufficient_evidence": False})
                for p in report.principles
            ]
        }
    )
    assert "(usikker)" not in text_of(fmt, sure, "da", tr)


def _path_ops(data: bytes) -> int:
    pypdf = pytest.importorskip("pypdf")
    ops = 0
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        content = page.get_contents()
        raw = content.get_data() if content is not None else b""
        ops += len(re.findall(rb"[\d.]+ [\d.]+ l\b", raw))
    return ops


@pytest.mark.parametrize("fmt", FORMATS)
def test_trust_chart_when_there_is_trust(fmt: str, da) -> None:
    report, tr = da
    assert len(report.trust) >= 2
    caption = t("report.export.trust_caption", "da")
    axis = t("report.export.trust_axis", "da")
    text = text_of(fmt, report, "da", tr)
    assert caption in text
    if fmt == "md":
        md = export.to_markdown(report, transcript=tr).decode()
        assert f"| Tur | {axis} |" in md
        first = report.trust[0]
        assert f"| {first.turn + 1} | {fmt_number(100 * first.trust, 'da')} |" in md
    elif fmt == "docx":
        import docx

        doc = docx.Document(io.BytesIO(export.to_docx(report, transcript=tr)))
        trust_tables = [tb for tb in doc.tables if tb.rows[0].cells[-1].text == axis]
        assert len(trust_tables) == 1
        assert len(trust_tables[0].rows) == len(report.trust) + 1
    no_trust = report.model_copy(update={"trust": []})
    without = text_of(fmt, no_trust, "da", tr)
    assert caption not in without
    assert axis not in without
    assert t("report.trust.none", "da") in without
    if fmt == "pdf":  # a drawn line chart: one line segment per step, plus the grid
        with_chart = _path_ops(export.to_pdf(report, transcript=tr))
        plain = _path_ops(export.to_pdf(no_trust, transcript=tr))
        assert with_chart - plain >= len(report.trust) - 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_band_patterns_and_adopted_plan_when_present(fmt: str, da) -> None:
    report, tr = da
    rich = enriched(report)
    text = text_of(fmt, rich, "da", tr)
    assert f"{t('report.overall', 'da')}: {report.overall:.0f}/100 (71–89)" in text
    assert "Mønstre i samtalen" in text
    for i, kind in enumerate(get_args(PatternKind)):
        assert t(f"report.export.pattern.{kind}", "da") in text
        assert f"Mønstertekst {i}." in text
    assert "Tur 13: “Hvad tænker du selv”" in text
    assert "Den aftalte plan var forslag fra: borgeren (Tur 14: “Jeg vil gerne spørge naboen”)" in (
        text
    )
    en = text_of(fmt, rich, "en", tr)
    assert "Patterns in the conversation" in en
    assert "The agreed plan was proposed by: the citizen" in en
    bare = report.model_copy(
        update={
            "patterns": [],
            "notes": None,  # the notes' summary names the patterns too
            "ownership": report.ownership.model_copy(update={"adopted_plan": OwnershipEvent()}),
        }
    )
    plain = text_of(fmt, bare, "da", tr)
    assert "Mønstre i samtalen" not in plain
    assert "Den aftalte plan" not in plain


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_session_exports_with_its_transcript(fmt: str) -> None:
    tr = Transcript(language="en", turns=[Turn(speaker="citizen", text="Hello?")])
    report = coach_session(tr, reader=get_reader())
    text = text_of(fmt, report, "en", tr)
    assert "Turn 1 · Citizen" in text
    assert "Hello?" in text
