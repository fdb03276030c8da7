"""Exports of a coach report: Markdown, DOCX (python-docx) and PDF (fpdf2). All return bytes.

    to_markdown(report, lang=None) -> bytes
    to_docx(report, lang=None) -> bytes
    to_pdf(report, lang=None) -> bytes

The three share one document outline (:func:`outline`), so they always say the same.
``lang`` is the language of the headings (default: the report's language); the report's
own texts (rationales, notes) are in the session's language.

The PDF uses a Unicode TrueType font so that æ, ø, å, quotes and dashes come out right:
``RELPRACTICE_PDF_FONT`` (a .ttf path), else DejaVu Sans found on the system (common
paths, then ``fc-match``). Without one it falls back to the built-in Helvetica and
replaces the few characters Latin-1 cannot hold (æøå are Latin-1 and survive).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from base.i18n import t
from coach.schema import CoachReport

FONT_ENV = "RELPRACTICE_PDF_FONT"
_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)


@dataclass(frozen=True)
class Block:
    kind: str  # h1 | h2 | h3 | p | quote | bullets | table
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def judge_flag_text(flag: str, lang: str) -> str:
    """A judge flag in words (errors pass through as they are)."""
    key = f"report.judge.flag.{flag}"
    text = t(key, lang)
    return flag if text == key else text


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} %" if pct else f"{value:.2f}"


def outline(report: CoachReport, lang: str | None = None) -> list[Block]:
    """The report as a list of blocks, shared by all export formats."""
    lang = lang or report.language
    b: list[Block] = [Block("h1", t("report.title", lang))]
    b.append(
        Block(
            "p",
            t(
                "report.meta",
                lang,
                rubric=report.rubric_id,
                version=report.rubric_version,
                coder=report.coder,
                language=report.language,
            ),
        )
    )
    if report.status != "ok":
        b.append(Block("p", report.message))
    else:
        overall = f"{report.overall:.0f}/100" if report.overall is not None else "–"
        b.append(Block("h2", f"{t('report.overall', lang)}: {overall}"))
        b.append(Block("p", t("report.overall_help", lang)))

        b.append(Block("h2", t("report.principles", lang)))
        rows = []
        for ps in report.principles:
            conf = f"{ps.confidence:.2f}" + (
                f" ({t('report.insufficient', lang)})" if ps.insufficient_evidence else ""
            )
            rows.append((ps.title, f"{ps.score}/5", conf))
        b.append(
            Block(
                "table",
                header=(
                    t("report.principle", lang),
                    t("report.score", lang),
                    t("report.confidence", lang),
                ),
                rows=tuple(rows),
            )
        )
        for ps in report.principles:
            b.append(Block("h3", f"{ps.title}: {ps.score}/5"))
            b.append(Block("p", ps.rationale))
            items = []
            for ev in ps.evidence:
                sign = "+" if ev.polarity == "for" else "−"
                items.append(f"{sign} {t('report.turn', lang, n=ev.turn + 1)}: “{ev.quote}”")
            if items:
                b.append(Block("bullets", items=tuple(items)))

    s = report.summary
    b.append(Block("h2", t("report.miti", lang)))
    rows = []
    for m in s.metrics:
        level = t(f"report.miti.level.{m.level or 'none'}", lang)
        pct = m.id != "reflection_to_question"
        rows.append(
            (
                t(f"report.miti.{m.id}", lang),
                _fmt(m.value, pct),
                _fmt(m.fair, pct),
                _fmt(m.good, pct),
                level,
                m.source,
            )
        )
    b.append(
        Block(
            "table",
            header=tuple(
                t(k, lang)
                for k in (
                    "report.miti.metric",
                    "report.miti.value",
                    "report.miti.fair",
                    "report.miti.good",
                    "report.miti.level",
                    "report.miti.source",
                )
            ),
            rows=tuple(rows),
        )
    )
    b.append(
        Block(
            "bullets",
            items=(
                f"{t('report.miti.adherent', lang)}: {s.mi_adherent} "
                + "("
                + ", ".join(f"{k} {v}" for k, v in s.adherent_detail.items())
                + ")",
                f"{t('report.miti.non_adherent', lang)}: {s.mi_non_adherent} "
                + "("
                + ", ".join(f"{k} {v}" for k, v in s.non_adherent_detail.items())
                + ")",
                f"{t('report.miti.counts', lang)}: "
                + ", ".join(
                    f"{t(f'report.behaviour.{k}', lang)} {v}" for k, v in s.counts.items() if v
                ),
            ),
        )
    )
    b.append(Block("p", s.note))

    own = report.ownership
    b.append(Block("h2", t("report.ownership", lang)))
    items = []
    for key, ev in (("report.ownership.problem", own.problem), ("report.ownership.plan", own.plan)):
        who = t(f"report.who.{ev.by or 'none'}", lang)
        line = f"{t(key, lang)}: {who}"
        if ev.turn is not None:
            line += f" ({t('report.turn', lang, n=ev.turn + 1)}: “{ev.quote}”)"
        items.append(line)
    b.append(Block("bullets", items=tuple(items)))
    b.append(Block("p", own.method))

    b.append(Block("h2", t("report.trust", lang)))
    if report.trust:
        b.append(
            Block(
                "p",
                " → ".join(f"{p.trust:.2f}" for p in report.trust),
            )
        )
    else:
        b.append(Block("p", t("report.trust.none", lang)))

    n = report.notes
    if n is not None:
        b.append(Block("h2", t("report.notes", lang)))
        b.append(Block("h3", t("report.notes.summary_title", lang)))
        b.append(Block("p", n.summary))
        b.append(Block("h3", t("report.notes.went_well", lang)))
        b.append(
            Block(
                "bullets",
                items=tuple(
                    f"{w.text}" + (f" – “{w.quote}”" if w.quote else "") for w in n.went_well
                )
                or (t("report.notes.none", lang),),
            )
        )
        b.append(Block("h3", t("report.notes.growth", lang)))
        if n.growth_points:
            for g in n.growth_points:
                b.append(
                    Block("p", f"{g.text} – {t('report.turn', lang, n=g.turn + 1)}: “{g.quote}”")
                )
                b.append(Block("quote", f"{t('report.notes.alternative', lang)}: {g.alternative}"))
        else:
            b.append(Block("p", t("report.notes.none", lang)))
        if n.turning_points:
            b.append(Block("h3", t("report.notes.turning_points", lang)))
            b.append(
                Block(
                    "bullets",
                    items=tuple(
                        f"{tp.text} “{tp.quote}”" if tp.quote else tp.text
                        for tp in n.turning_points
                    ),
                )
            )
        if n.citizen_voice:
            b.append(Block("h3", t("report.notes.citizen_voice", lang)))
            b.append(Block("quote", n.citizen_voice))
        b.append(Block("h3", t("report.notes.questions", lang)))
        b.append(Block("bullets", items=tuple(n.reflective_questions)))
        b.append(Block("h3", t("report.notes.goal", lang)))
        b.append(Block("p", n.next_goal))

    if report.judge is not None:
        b.append(Block("h2", t("report.judge", lang)))
        rows = []
        for jp in report.judge.principles:
            marks = []
            if jp.disagreement:
                marks.append(t("report.judge.disagree", lang))
            marks.extend(judge_flag_text(f, lang) for f in jp.flags)
            rows.append(
                (
                    jp.id,
                    str(jp.offline_score),
                    str(jp.score) if jp.score is not None else "–",
                    "; ".join(marks),
                )
            )
        b.append(
            Block(
                "table",
                header=(
                    t("report.principle", lang),
                    t("report.judge.offline", lang),
                    t("report.judge.score", lang),
                    "",
                ),
                rows=tuple(rows),
            )
        )
        if report.judge.injection_suspected:
            turns = ", ".join(str(i + 1) for i in report.judge.injection_suspected)
            b.append(Block("p", t("report.judge.injection", lang, turns=turns)))
    return b


# --------------------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: CoachReport, lang: str | None = None) -> bytes:
    out: list[str] = []
    for blk in outline(report, lang):
        if blk.kind in ("h1", "h2", "h3"):
            out.append("#" * int(blk.kind[1]) + " " + blk.text)
        elif blk.kind == "p":
            out.append(blk.text)
        elif blk.kind == "quote":
            out.append("> " + blk.text.replace("\n", "\n> "))
        elif blk.kind == "bullets":
            out.append("\n".join(f"- {i}" for i in blk.items))
        elif blk.kind == "table":
            lines = ["| " + " | ".join(_md_cell(h) for h in blk.header) + " |"]
            lines.append("|" + "---|" * len(blk.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in blk.rows]
            out.append("\n".join(lines))
        out.append("")
    return "\n".join(out).encode("utf-8")


# --------------------------------------------------------------------------- DOCX


def to_docx(report: CoachReport, lang: str | None = None) -> bytes:
    import docx

    doc = docx.Document()
    for blk in outline(report, lang):
        if blk.kind in ("h1", "h2", "h3"):
            doc.add_heading(blk.text, level=int(blk.kind[1]) - 1 if blk.kind != "h1" else 0)
        elif blk.kind == "p":
            doc.add_paragraph(blk.text)
        elif blk.kind == "quote":
            doc.add_paragraph(blk.text, style="Intense Quote")
        elif blk.kind == "bullets":
            for item in blk.items:
                doc.add_paragraph(item, style="List Bullet")
        elif blk.kind == "table":
            table = doc.add_table(rows=1, cols=len(blk.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, blk.header, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in blk.rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- PDF


@functools.cache
def find_unicode_font() -> tuple[str, str | None] | None:
    """(regular, bold) TTF paths of a Unicode font, or None."""
    env = os.environ.get(FONT_ENV)
    if env and Path(env).is_file():
        return env, None
    for d in _FONT_DIRS:
        reg = Path(d) / "DejaVuSans.ttf"
        if reg.is_file():
            bold = Path(d) / "DejaVuSans-Bold.ttf"
            return str(reg), str(bold) if bold.is_file() else None
    if shutil.which("fc-match"):
        try:
            res = subprocess.run(
                ["fc-match", "-f", "%{file}", "DejaVu Sans:style=Book"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        path = res.stdout.strip()
        if path.lower().endswith(".ttf") and Path(path).is_file():
            return path, None
    return None


_LATIN1_FIXES = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "−": "-",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "…": "...",
        "→": "->",
        "×": "x",
        "✔": "+",
        "✘": "x",
        "≥": ">=",
        "·": "-",
    }
)


def _latin1(text: str) -> str:
    return text.translate(_LATIN1_FIXES).encode("latin-1", errors="replace").decode("latin-1")


def to_pdf(report: CoachReport, lang: str | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(t("report.title", lang or report.language))
    font = find_unicode_font()
    if font is not None:
        regular, bold = font
        pdf.add_font("body", "", regular)
        pdf.add_font("body", "B", bold or regular)
        family, clean = "body", (lambda s: s)
    else:
        family, clean = "helvetica", _latin1
    pdf.add_page()
    sizes = {"h1": 18, "h2": 14, "h3": 12}
    width = pdf.epw
    for blk in outline(report, lang):
        if blk.kind in sizes:
            pdf.ln(2)
            pdf.set_font(family, "B", sizes[blk.kind])
            pdf.multi_cell(
                width, sizes[blk.kind] * 0.5, clean(blk.text), new_x="LMARGIN", new_y="NEXT"
            )
            pdf.ln(1)
        elif blk.kind in ("p", "quote"):
            pdf.set_font(family, "", 10)
            indent = 8 if blk.kind == "quote" else 0
            pdf.set_x(pdf.l_margin + indent)
            pdf.multi_cell(width - indent, 5, clean(blk.text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif blk.kind == "bullets":
            pdf.set_font(family, "", 10)
            for item in blk.items:
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(
                    width - 4,
                    5,
                    clean(f"• {item}" if font else f"- {item}"),
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
            pdf.ln(1)
        elif blk.kind == "table":
            pdf.set_font(family, "", 9)
            widths = (2.5, *([1] * (len(blk.header) - 1)))
            with pdf.table(
                headings_style=FontFace(emphasis="BOLD"), line_height=5, col_widths=widths
            ) as table:
                row = table.row()
                for h in blk.header:
                    row.cell(clean(h))
                for r in blk.rows:
                    row = table.row()
                    for c in r:
                        row.cell(clean(c))
            pdf.ln(2)
    return bytes(pdf.output())
