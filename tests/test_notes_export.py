"""Exports (Markdown, DOCX, PDF) open, parse and carry the report's content, æøå included."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from base.models import Transcript, Turn
from coach import export
from coach.notes import coach_session
from coach.schema import CoachReport
from reading import get_reader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "coach"
VOICE = "Jeg følte mig hørt – især da hun spurgte til min mor. Æbleskiver og ørred på Ærø."


@pytest.fixture(scope="module")
def transcript() -> Transcript:
    return Transcript.model_validate_json(
        (FIXTURES / "da_relational.json").read_text(encoding="utf-8")
    )


@pytest.fixture(scope="module")
def report(transcript: Transcript) -> CoachReport:
    return coach_session(transcript, reader=get_reader(), citizen_voice=VOICE)


def pdf_text(data: bytes, tmp_path: Path) -> str | None:
    try:
        import pypdf
    except ImportError:
        pypdf = None
    if pypdf is not None:
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    if shutil.which("pdftotext"):
        path = tmp_path / "r.pdf"
        path.write_bytes(data)
        return subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    return None


def test_markdown_has_every_section(report: CoachReport, transcript: Transcript) -> None:
    md = export.to_markdown(report, transcript=transcript).decode("utf-8")
    assert md.startswith("# Feedback på samtalen")
    for heading in (
        "## Principper",
        "## MITI-opsummering",
        "## Ejerskab",
        "## Supervisionsnoter",
        "## Samtalen",
    ):
        assert heading in md
    assert "v2.0.0" in md  # rubric version recorded
    for ps in report.principles:
        assert ps.title in md
        for ev in ps.evidence:
            assert ev.quote in md
    assert VOICE in md
    assert "MITI 3.1.1" in md
    # headings follow the interface language when asked
    assert export.to_markdown(report, "en").decode().startswith("# Feedback on the conversation")


def test_docx_opens_and_contains_the_report(report: CoachReport, transcript: Transcript) -> None:
    import docx

    data = export.to_docx(report, transcript=transcript)
    assert data[:2] == b"PK"
    doc = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Feedback på samtalen" in text
    assert VOICE in text
    assert report.notes is not None
    assert report.notes.next_goal in text
    assert "Mød borgeren der, hvor vedkommende er" in cells
    assert len(doc.tables) >= 2  # principles + MITI


def test_pdf_is_a_pdf_with_danish_text(
    report: CoachReport, transcript: Transcript, tmp_path: Path
) -> None:
    data = export.to_pdf(report, transcript=transcript)
    assert data.startswith(b"%PDF")
    assert data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data, tmp_path)
    if text is None:
        pytest.skip("no PDF text extractor (pypdf or pdftotext) installed")
    flat = " ".join(text.split())
    assert "Feedback på samtalen" in flat
    assert "Mød borgeren der, hvor vedkommende er" in flat
    if export.find_unicode_font() is not None:
        assert "Æbleskiver og ørred på Ærø" in flat


def test_pdf_falls_back_to_a_builtin_font(
    report: CoachReport, transcript: Transcript, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(export, "find_unicode_font", lambda: None)
    data = export.to_pdf(report, transcript=transcript)
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    if text is not None:
        flat = " ".join(text.split())
        assert "Feedback på samtalen" in flat  # æøå are Latin-1 and survive the fallback


@pytest.mark.parametrize("fn", [export.to_markdown, export.to_docx, export.to_pdf])
def test_exports_of_an_empty_session(fn) -> None:
    tr = Transcript(language="en", turns=[Turn(speaker="citizen", text="Hello?")])
    report = coach_session(tr, reader=get_reader())
    data = fn(report, transcript=tr)
    assert isinstance(data, bytes)
    assert len(data) > 100
