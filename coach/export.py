"""Exports of a coach report: Markdown, DOCX (python-docx) and PDF (fpdf2). All return bytes.

    to_markdown(report, lang=None, *, transcript=None) -> bytes
    to_docx(report, lang=None, *, transcript=None) -> bytes
    to_pdf(report, lang=None, *, transcript=None) -> bytes

The three share one document outline (:func:`outline`), so they always say the same.
``lang`` is the language of the headings (default: the report's language); the report's
own texts (rationales, notes) are in the session's language. With ``transcript`` (the
session's :class:`base.models.Transcript`) the export ends with the whole conversation:
each turn's number, speaker and text, and for a practitioner turn what the reading found
(behaviour code and moves), in words.

What a supervisor can file:

- every code of the reading (behaviours, moves, MITI categories) is written as words in the
  reader's language (``report.behaviour.*``, ``report.move.*``, ``report.export.miti.*``);
- turn numbers are 1-based indices into the transcript's turns, as on the report page;
- numbers use the reader's decimal separator (:func:`base.i18n.fmt_number`);
- no bullet appears twice, and a principle with insufficient evidence or a confidence
  below :data:`LOW_CONFIDENCE` is marked "usikker" / "uncertain";
- the citizen's trust (0-100) is a table in Markdown and DOCX and a line chart in the PDF,
  left out when the report has no trust readings;
- the overall's uncertainty band, the conversation's patterns and whose plan was adopted
  are shown when the report has them.

DOCX and PDF are on A4. The PDF uses a Unicode TrueType font so that æ, ø, å, quotes and
dashes come out right: ``RELPRACTICE_PDF_FONT`` (a .ttf path), else DejaVu Sans found on the
system (common paths, then ``fc-match``). Without one it falls back to the built-in
Helvetica and replaces the few characters Latin-1 cannot hold (æøå are Latin-1 and survive).
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from base.i18n import fmt_number, t, tn
from base.models import Transcript
from coach.schema import CoachReport, PrincipleScore

FONT_ENV = "RELPRACTICE_PDF_FONT"
_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)
LOW_CONFIDENCE = 0.4  # below this a principle's score is marked uncertain
A4_MM = (210, 297)
MARGIN_MM = 20


@dataclass(frozen=True)
class Block:
    """One piece of the document.

    kind: h1 | h2 | h3 | p | quote | bullets | table | turn | chart. A ``turn`` is one turn
    of the conversation: ``header`` = (its label,), ``text`` = what was said, ``items`` =
    (the reading in words,) for a practitioner turn. A ``chart`` is a line chart of
    ``points`` (x, y on 0-100), with ``header`` and ``rows`` as its table and ``text`` as
    its caption.
    """

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    points: tuple[tuple[float, float], ...] = ()


# --------------------------------------------------------------------------- words


def _words(prefix: str, code: str, lang: str) -> str:
    """A code of the reading in words; an unknown code is never shown raw (underscores go)."""
    key = f"{prefix}.{code}"
    text = t(key, lang)
    return code.replace("_", " ") if text == key else text


def behaviour_text(code: str, lang: str) -> str:
    """A behaviour code of the reading (``open_question``) in words ("åbent spørgsmål")."""
    return _words("report.behaviour", code, lang)


def move_text(code: str, lang: str) -> str:
    """A move of the reading (``asks_permission``) in words ("beder om lov")."""
    return _words("report.move", code, lang)


def miti_text(code: str, lang: str) -> str:
    """A MITI adherent / non-adherent category (``seek_collaboration``) in words."""
    return _words("report.export.miti", code, lang)


def speaker_text(speaker: str, lang: str) -> str:
    return _words("report.export.speaker", speaker, lang)


def pattern_text(kind: str, lang: str) -> str:
    return _words("report.export.pattern", kind, lang)


def turn_label(index: int, lang: str) -> str:
    """A turn as users see it: 1-based over all turns of the transcript ("Tur 3")."""
    return t("report.turn", lang, n=index + 1)


def turn_word(lang: str) -> str:
    """The word for a turn, as a column heading ("Tur")."""
    return t("report.turn", lang, n="").strip()


def reading_text(report: CoachReport, index: int, lang: str) -> str | None:
    """What the reading found in turn ``index``, in words; None for a citizen turn."""
    code = report.behaviours[index] if index < len(report.behaviours) else None
    if code is None:
        return None
    moves = report.turn_flags[index] if index < len(report.turn_flags) else []
    what = behaviour_text(code, lang)
    if moves:
        what += " · " + ", ".join(move_text(m, lang) for m in moves)
    return what


def is_uncertain(ps: PrincipleScore) -> bool:
    """A score to read as tentative: insufficient evidence or low confidence."""
    return ps.insufficient_evidence or ps.confidence < LOW_CONFIDENCE


def count_items(detail: dict[str, int], lang: str) -> str:
    """``{"asks_permission": 1, "affirm": 2}`` as "beder om lov 1 gang, anerkender 2 gange"."""
    parts = [
        f"{miti_text(k, lang)} {tn('report.export.times', lang, v)}" for k, v in detail.items() if v
    ]
    return ", ".join(parts) or t("report.export.none", lang)


def judge_flag_text(flag: str, lang: str) -> str:
    """A judge flag in words (errors pass through as they are)."""
    key = f"report.judge.flag.{flag}"
    text = t(key, lang)
    return flag if text == key else text


def trust_100(value: float) -> float:
    """A trust reading on the 0-100 scale the report shows (the engine keeps 0..1)."""
    return 100 * value if value <= 1 else value


_DECIMAL_POINT = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])")


def _decimals(text: str, language: str) -> str:
    """The report's own generated texts (rationales, notes) with the decimal comma in Danish.
    Version numbers ("4.2.1") are left alone; never applied to quotes."""
    return _DECIMAL_POINT.sub(r"\1,\2", text) if language == "da" else text


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """The items in order, each once."""
    return tuple(dict.fromkeys(items))


def _fmt(value: float | None, lang: str, pct: bool = False) -> str:
    return fmt_number(value, lang, 0, pct=True) if pct else fmt_number(value, lang, 2)


# --------------------------------------------------------------------------- outline


def outline(
    report: CoachReport, lang: str | None = None, *, transcript: Transcript | None = None
) -> list[Block]:
    """The report as a list of blocks, shared by all export formats."""
    lang = lang or report.language
    own_text = functools.partial(_decimals, language=report.language)
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
        b.append(Block("p", report.message or t("report.no_practitioner_turns", lang)))
    else:
        overall = f"{fmt_number(report.overall, lang)}/100" if report.overall is not None else "–"
        if report.overall_band is not None:
            low, high = report.overall_band
            overall += f" ({fmt_number(low, lang)}–{fmt_number(high, lang)})"
        b.append(Block("h2", f"{t('report.overall', lang)}: {overall}"))
        b.append(Block("p", t("report.overall_help", lang)))
        if report.overall_band is not None:
            low, high = report.overall_band
            b.append(
                Block(
                    "p",
                    t(
                        "report.export.band",
                        lang,
                        low=fmt_number(low, lang),
                        high=fmt_number(high, lang),
                    ),
                )
            )

        b.append(Block("h2", t("report.principles", lang)))
        uncertain = t("report.export.uncertain", lang)
        rows = []
        for ps in report.principles:
            conf = fmt_number(ps.confidence, lang, 2)
            marks = [uncertain] if is_uncertain(ps) else []
            if ps.insufficient_evidence:
                marks.append(t("report.insufficient", lang))
            if marks:
                conf += f" ({': '.join(marks)})"
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
        if any(is_uncertain(ps) for ps in report.principles):
            b.append(
                Block(
                    "p",
                    t(
                        "report.export.uncertain_note",
                        lang,
                        threshold=fmt_number(LOW_CONFIDENCE, lang, 1),
                    ),
                )
            )
        for ps in report.principles:
            heading = f"{ps.title}: {ps.score}/5"
            if is_uncertain(ps):
                heading += f" ({uncertain})"
            b.append(Block("h3", heading))
            b.append(Block("p", own_text(ps.rationale)))
            items = []
            for ev in ps.evidence:
                sign = "+" if ev.polarity == "for" else "−"
                items.append(f"{sign} {turn_label(ev.turn, lang)}: “{ev.quote}”")
            if items:
                b.append(Block("bullets", items=_unique(items)))

    s = report.summary
    b.append(Block("h2", t("report.miti", lang)))
    rows = []
    for m in s.metrics:
        level = t(f"report.miti.level.{m.level or 'none'}", lang)
        pct = m.id != "reflection_to_question"
        rows.append(
            (
                t(f"report.miti.{m.id}", lang),
                _fmt(m.value, lang, pct),
                _fmt(m.fair, lang, pct),
                _fmt(m.good, lang, pct),
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
    counts = ", ".join(
        f"{behaviour_text(k, lang)} {tn('report.export.times', lang, v)}"
        for k, v in s.counts.items()
        if v
    )
    b.append(
        Block(
            "bullets",
            items=_unique(
                (
                    f"{t('report.miti.adherent', lang)}: {s.mi_adherent} "
                    f"({count_items(s.adherent_detail, lang)})",
                    f"{t('report.miti.non_adherent', lang)}: {s.mi_non_adherent} "
                    f"({count_items(s.non_adherent_detail, lang)})",
                    f"{t('report.miti.counts', lang)}: {counts or t('report.export.none', lang)}",
                )
            ),
        )
    )
    b.append(Block("p", own_text(s.note)))

    own = report.ownership
    b.append(Block("h2", t("report.ownership", lang)))
    items = []
    events = [("report.ownership.problem", own.problem), ("report.ownership.plan", own.plan)]
    if own.adopted_plan.by is not None:
        events.append(("report.export.adopted_plan", own.adopted_plan))
    for key, ev in events:
        who = t(f"report.who.{ev.by or 'none'}", lang)
        line = f"{t(key, lang)}: {who}"
        if ev.turn is not None:
            line += f" ({turn_label(ev.turn, lang)}" + (f": “{ev.quote}”)" if ev.quote else ")")
        items.append(line)
    b.append(Block("bullets", items=_unique(items)))
    b.append(Block("p", own_text(own.method)))

    if report.patterns:
        b.append(Block("h2", t("report.export.patterns", lang)))
        for pat in report.patterns:
            b.append(Block("h3", pattern_text(pat.kind, lang)))
            b.append(Block("p", own_text(pat.text)))
            if len(pat.turns) == len(pat.quotes):
                quotes = [
                    f"{turn_label(turn, lang)}: “{q}”"
                    for turn, q in zip(pat.turns, pat.quotes, strict=True)
                ]
            else:
                turns = ", ".join(str(i + 1) for i in pat.turns)
                quotes = [t("report.export.turns", lang, turns=turns)] if pat.turns else []
                quotes += [f"“{q}”" for q in pat.quotes]
            if quotes:
                b.append(Block("bullets", items=_unique(quotes)))

    b.append(Block("h2", t("report.trust", lang)))
    if report.trust:
        points = tuple((float(p.turn + 1), trust_100(p.trust)) for p in report.trust)
        b.append(
            Block(
                "chart",
                text=t("report.export.trust_caption", lang),
                header=(turn_word(lang), t("report.export.trust_axis", lang)),
                rows=tuple((str(int(x)), fmt_number(y, lang)) for x, y in points),
                points=points,
            )
        )
    else:
        b.append(Block("p", t("report.trust.none", lang)))

    n = report.notes
    if n is not None:
        b.append(Block("h2", t("report.notes", lang)))
        b.append(Block("h3", t("report.notes.summary_title", lang)))
        b.append(Block("p", own_text(n.summary)))
        b.append(Block("h3", t("report.notes.went_well", lang)))
        seen: set[tuple[str, int | str | None]] = set()
        went_well = []
        for w in n.went_well:
            key = (w.text, w.turn if w.turn is not None else w.quote)
            if key in seen:
                continue
            seen.add(key)
            line = own_text(w.text)
            if w.quote:
                where = f"{turn_label(w.turn, lang)}: " if w.turn is not None else ""
                line += f" – {where}“{w.quote}”"
            went_well.append(line)
        b.append(Block("bullets", items=_unique(went_well) or (t("report.notes.none", lang),)))
        b.append(Block("h3", t("report.notes.growth", lang)))
        if n.growth_points:
            done: set[tuple[str, int]] = set()
            for g in n.growth_points:
                if (g.text, g.turn) in done:
                    continue
                done.add((g.text, g.turn))
                b.append(
                    Block("p", f"{own_text(g.text)} – {turn_label(g.turn, lang)}: “{g.quote}”")
                )
                b.append(Block("quote", f"{t('report.notes.alternative', lang)}: {g.alternative}"))
        else:
            b.append(Block("p", t("report.notes.none", lang)))
        if n.turning_points:
            b.append(Block("h3", t("report.notes.turning_points", lang)))
            b.append(
                Block(
                    "bullets",
                    items=_unique(
                        own_text(tp.text) + (f" “{tp.quote}”" if tp.quote else "")
                        for tp in n.turning_points
                    ),
                )
            )
        if n.citizen_voice:
            b.append(Block("h3", t("report.notes.citizen_voice", lang)))
            b.append(Block("quote", n.citizen_voice))
        b.append(Block("h3", t("report.notes.questions", lang)))
        b.append(Block("bullets", items=_unique(own_text(q) for q in n.reflective_questions)))
        b.append(Block("h3", t("report.notes.goal", lang)))
        b.append(Block("p", own_text(n.next_goal)))

    if report.judge is not None:
        titles = {p.id: p.title for p in report.principles}
        b.append(Block("h2", t("report.judge", lang)))
        rows = []
        for jp in report.judge.principles:
            marks = []
            if jp.disagreement:
                marks.append(t("report.judge.disagree", lang))
            marks.extend(judge_flag_text(f, lang) for f in jp.flags)
            rows.append(
                (
                    titles.get(jp.id, jp.id),
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

    b.extend(_conversation(report, lang, transcript))
    return b


def _conversation(report: CoachReport, lang: str, transcript: Transcript | None) -> list[Block]:
    """The whole transcript, each practitioner turn with its reading in words. Without the
    transcript, what the reading found per turn (the report keeps no turn texts)."""
    if transcript is not None:
        blocks = [Block("h2", t("report.export.transcript", lang))]
        for i, turn in enumerate(transcript.turns):
            label = f"{turn_label(i, lang)} · {speaker_text(turn.speaker, lang)}"
            reading = reading_text(report, i, lang) if turn.speaker == "practitioner" else None
            items = (t("report.export.reading", lang, what=reading),) if reading else ()
            blocks.append(Block("turn", text=turn.text, header=(label,), items=items))
        return blocks
    rows = []
    for i, code in enumerate(report.behaviours):
        if code is None:
            continue
        moves = report.turn_flags[i] if i < len(report.turn_flags) else []
        rows.append(
            (
                turn_label(i, lang),
                behaviour_text(code, lang),
                ", ".join(move_text(m, lang) for m in moves) or "–",
            )
        )
    if not rows:
        return []
    header = (
        turn_word(lang),
        t("report.behaviours", lang),
        t("report.export.reading", lang, what="").strip(" :"),
    )
    return [
        Block("h2", t("report.behaviours", lang)),
        Block("table", header=header, rows=tuple(rows)),
    ]


# --------------------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(
    report: CoachReport, lang: str | None = None, *, transcript: Transcript | None = None
) -> bytes:
    out: list[str] = []
    for blk in outline(report, lang, transcript=transcript):
        if blk.kind in ("h1", "h2", "h3"):
            out.append("#" * int(blk.kind[1]) + " " + blk.text)
        elif blk.kind == "p":
            out.append(blk.text)
        elif blk.kind == "quote":
            out.append("> " + blk.text.replace("\n", "\n> "))
        elif blk.kind == "bullets":
            out.append("\n".join(f"- {i}" for i in blk.items))
        elif blk.kind == "turn":
            lines = [f"**{blk.header[0]}:** " + blk.text.replace("\n", "  \n")]
            lines += [f"*{item}*" for item in blk.items]
            out.append("  \n".join(lines))
        elif blk.kind in ("table", "chart"):
            if blk.kind == "chart":
                out.append(blk.text)
                out.append("")
            lines = ["| " + " | ".join(_md_cell(h) for h in blk.header) + " |"]
            lines.append("|" + "---|" * len(blk.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in blk.rows]
            out.append("\n".join(lines))
        out.append("")
    return "\n".join(out).encode("utf-8")


# --------------------------------------------------------------------------- DOCX


def to_docx(
    report: CoachReport, lang: str | None = None, *, transcript: Transcript | None = None
) -> bytes:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt, RGBColor

    lang = lang or report.language
    doc = docx.Document()
    for section in doc.sections:  # A4 portrait, whatever python-docx's template says
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
        section.left_margin = section.right_margin = Mm(MARGIN_MM)
        section.top_margin = section.bottom_margin = Mm(MARGIN_MM)
    doc.core_properties.title = t("report.title", lang)
    doc.core_properties.language = lang

    def table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
        tbl = doc.add_table(rows=1, cols=len(header))
        tbl.style = "Table Grid"
        for cell, text in zip(tbl.rows[0].cells, header, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in rows:
            cells = tbl.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = text

    for blk in outline(report, lang, transcript=transcript):
        if blk.kind in ("h1", "h2", "h3"):
            doc.add_heading(blk.text, level=int(blk.kind[1]) - 1 if blk.kind != "h1" else 0)
        elif blk.kind == "p":
            doc.add_paragraph(blk.text)
        elif blk.kind == "quote":
            doc.add_paragraph(blk.text, style="Intense Quote")
        elif blk.kind == "bullets":
            for item in blk.items:
                doc.add_paragraph(item, style="List Bullet")
        elif blk.kind == "turn":
            para = doc.add_paragraph()
            para.add_run(f"{blk.header[0]}: ").bold = True
            para.add_run(blk.text)
            for item in blk.items:
                run = doc.add_paragraph().add_run(item)
                run.italic = True
                run.font.size = Pt(9)
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
        elif blk.kind == "table":
            table(blk.header, blk.rows)
        elif blk.kind == "chart":
            doc.add_paragraph(blk.text)
            table(blk.header, blk.rows)
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


def _pdf_chart(pdf, blk: Block, family: str, clean) -> None:
    """A line chart of ``blk.points`` (x: turn, y: 0-100) drawn with fpdf2's primitives."""
    height, axis_w = 45.0, 10.0
    if pdf.get_y() + height + 22 > pdf.page_break_trigger:
        pdf.add_page()
    x0, y0 = pdf.l_margin + axis_w, pdf.get_y() + 3
    w = pdf.epw - axis_w - 2
    xs = [x for x, _ in blk.points]
    lo, hi = min(xs), max(xs)

    def px(x: float) -> float:
        return x0 + w / 2 if hi == lo else x0 + 3 + (w - 6) * (x - lo) / (hi - lo)

    def py(y: float) -> float:
        return y0 + height - height * max(0.0, min(100.0, y)) / 100

    pdf.set_font(family, "", 7)
    pdf.set_text_color(90)
    pdf.set_xy(pdf.l_margin, y0 - 3.5)
    pdf.cell(w, 3, clean(blk.header[1]))  # the y axis: trust 0-100
    y0 += 1.5
    pdf.set_draw_color(210)
    pdf.set_line_width(0.2)
    for v in (0, 25, 50, 75, 100):
        pdf.line(x0, py(v), x0 + w, py(v))
        pdf.set_xy(pdf.l_margin, py(v) - 2)
        pdf.cell(axis_w - 1, 4, str(v), align="R")
    pdf.set_draw_color(120)
    pdf.line(x0, y0, x0, y0 + height)
    step = max(1, len(blk.points) // 12)  # at most about a dozen turn labels
    for x, _ in blk.points[::step]:
        pdf.set_xy(px(x) - 5, y0 + height + 0.5)
        pdf.cell(10, 4, str(int(x)), align="C")
    pdf.set_xy(x0 + w - 20, y0 + height + 3.5)
    pdf.cell(20, 3, clean(blk.header[0]), align="R")  # the x axis: turn
    pts = [(px(x), py(y)) for x, y in blk.points]
    pdf.set_draw_color(31, 119, 180)
    pdf.set_fill_color(31, 119, 180)
    pdf.set_line_width(0.6)
    if len(pts) > 1:
        pdf.polyline(pts)
    for x, y in pts:
        pdf.rect(x - 0.9, y - 0.9, 1.8, 1.8, style="F")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0)
    pdf.set_xy(pdf.l_margin, y0 + height + 7)
    pdf.multi_cell(pdf.epw, 4, clean(blk.text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(2)


def to_pdf(
    report: CoachReport, lang: str | None = None, *, transcript: Transcript | None = None
) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    lang = lang or report.language
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(t("report.title", lang))
    pdf.set_lang(lang)
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
    blocks = outline(report, lang, transcript=transcript)
    for i, blk in enumerate(blocks):
        if blk.kind in sizes:
            following = blocks[i + 1].kind if i + 1 < len(blocks) else ""
            if following == "chart" and pdf.get_y() + 85 > pdf.page_break_trigger:
                pdf.add_page()  # keep a chart's heading with the chart
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
        elif blk.kind == "turn":
            pdf.set_font(family, "B", 9)
            pdf.multi_cell(width, 4.5, clean(blk.header[0]), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, "", 10)
            pdf.multi_cell(width, 5, clean(blk.text), new_x="LMARGIN", new_y="NEXT")
            if blk.items:
                pdf.set_font(family, "", 8)
                pdf.set_text_color(90)
                for item in blk.items:
                    pdf.multi_cell(width, 4, clean(item), new_x="LMARGIN", new_y="NEXT")
                pdf.set_text_color(0)
            pdf.ln(1.5)
        elif blk.kind == "chart":
            _pdf_chart(pdf, blk, family, clean)
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
