"""Importing transcripts of role-plays held in person, for review.

Three formats:
- JSON, the CLI's interchange format: ``{"language": "da", "turns": [{"speaker":
  "practitioner"|"citizen", "text": "..."}]}`` (``base.models.Transcript``);
- plain text, one turn per line as ``Name: what they said`` (continuation lines belong
  to the turn above; blank lines are ignored); the uploader says which name is the
  practitioner, every other name is the citizen's side;
- DOCX (Word), read with python-docx: each paragraph is a line of the plain-text format.

Hostile input is refused with a :class:`ImportProblem` that names the file and the
reason: files over the size limit, a declared content type that does not fit the
extension, binary data in a text file, a zip that is not a Word document, zip bombs
(entry count and uncompressed size are checked before python-docx opens it), too many
turns or too-long turns.

    parsed = parse_upload("role-play.txt", data)            # -> ParsedUpload
    parsed.speakers                                         # ["Anna", "Mia"]
    transcript = parsed.transcript(practitioner="Anna", language="da")
    session_id = import_transcript(practice_service, user, transcript, title="…")
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from base.models import MAX_TURN_CHARS, Transcript, Turn
from practice.db import PracticeSession, TurnRow, User

MAX_UPLOAD_BYTES = 2_000_000  # a long role-play is a few tens of kB
MAX_DOCX_UNCOMPRESSED = 20_000_000
MAX_DOCX_ENTRIES = 500
MAX_TURNS = 400  # the same ceiling as a practised session
MAX_NAME_CHARS = 40
EXTENSIONS = ("json", "txt", "docx")
# content types browsers send for these files; anything else contradicting the extension
# (an image, an executable, ...) is refused
_CONTENT_TYPES = {
    "json": {"application/json", "text/json", "text/plain", "application/octet-stream"},
    "txt": {"text/plain", "text/markdown", "application/octet-stream"},
    "docx": {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/zip",
        "application/x-zip-compressed",
        "application/octet-stream",
    },
}
# "Name: text" — a name starts with a letter and has at most four words
_LINE = re.compile(r"^\s*(?P<name>[^\W\d_][^:\n]{0,39}?)\s*:\s*(?P<text>.*)$")
_DANISH = re.compile(r"[æøåÆØÅ]|\b(og|jeg|det|ikke|du|hvad|har|er|til|en|at)\b", re.IGNORECASE)
_ENGLISH = re.compile(r"\b(and|the|you|what|is|not|have|to|it|that)\b", re.IGNORECASE)


class ImportProblem(ValueError):
    """Why a file cannot be imported. ``code`` is a translation key suffix
    (``upload.error.<code>``); ``str()`` is ``"<file>: <reason>"``."""

    def __init__(self, file: str, code: str, reason: str):
        self.file = file
        self.code = code
        self.reason = reason
        super().__init__(f"{file}: {reason}")


@dataclass
class ParsedUpload:
    """A parsed file before the uploader has said who is who."""

    file: str
    kind: str  # json | txt | docx
    lines: list[tuple[str, str]] = field(default_factory=list)  # (name, text) for txt/docx
    parsed: Transcript | None = None  # json: already a transcript

    @property
    def speakers(self) -> list[str]:
        """The names in order of first appearance (txt/docx)."""
        seen: list[str] = []
        for name, _ in self.lines:
            if name not in seen:
                seen.append(name)
        return seen

    def guess_language(self) -> str:
        if self.parsed is not None:
            return self.parsed.language
        text = " ".join(t for _, t in self.lines)
        return "da" if len(_DANISH.findall(text)) >= len(_ENGLISH.findall(text)) else "en"

    def transcript(
        self, practitioner: str | None = None, language: str | None = None
    ) -> Transcript:
        if self.parsed is not None:
            if language and language != self.parsed.language:
                return self.parsed.model_copy(update={"language": language})
            return self.parsed
        if not practitioner or practitioner not in self.speakers:
            raise ImportProblem(self.file, "no_practitioner", "say which name is the practitioner")
        lang = language or self.guess_language()
        if lang not in ("da", "en"):
            raise ImportProblem(self.file, "bad_language", f"unsupported language {lang!r}")
        turns = _merge(
            [
                ("practitioner" if name == practitioner else "citizen", text)
                for name, text in self.lines
            ]
        )
        return _checked(self.file, Transcript(language=lang, turns=turns))  # type: ignore[arg-type]


def parse_upload(filename: str, data: bytes, content_type: str | None = None) -> ParsedUpload:
    """Read an uploaded file. Raises :class:`ImportProblem` with a clear reason."""
    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:120] or "upload"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in EXTENSIONS:
        raise ImportProblem(
            name, "bad_extension", "only .json, .txt and .docx files can be imported"
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportProblem(
            name, "too_large", f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB"
        )
    if not data:
        raise ImportProblem(name, "empty", "the file is empty")
    if content_type:
        ctype = content_type.split(";", 1)[0].strip().lower()
        if ctype and ctype not in _CONTENT_TYPES[ext]:
            raise ImportProblem(
                name, "content_type", f"the file says it is {ctype!r}, which does not fit .{ext}"
            )
    if ext == "docx":
        return ParsedUpload(
            file=name, kind="docx", lines=_lines(name, _docx_paragraphs(name, data))
        )
    text = _decode(name, data)
    if ext == "json":
        return ParsedUpload(file=name, kind="json", parsed=_json(name, text))
    return ParsedUpload(file=name, kind="txt", lines=_lines(name, text.splitlines()))


def _decode(name: str, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportProblem(name, "encoding", "the text is not valid UTF-16") from None
    if b"\x00" in data:
        raise ImportProblem(name, "binary", "the file contains binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # older Windows tools save Danish text as cp1252
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportProblem(name, "encoding", "the text is not UTF-8") from None


def _json(name: str, text: str) -> Transcript:
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ImportProblem(name, "json_syntax", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ImportProblem(
            name, "json_shape", 'expected an object {"language": ..., "turns": [...]}'
        )
    data.setdefault("schema_version", 1)
    turns = data.get("turns")
    if isinstance(turns, list) and len(turns) > MAX_TURNS:
        raise ImportProblem(name, "too_many_turns", f"more than {MAX_TURNS} turns")
    if isinstance(turns, list):
        # engine state and metadata are not taken from uploads
        data["turns"] = [
            {k: v for k, v in t.items() if k in ("speaker", "text")} if isinstance(t, dict) else t
            for t in turns
        ]
    try:
        transcript = Transcript.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "<file>"
        raise ImportProblem(name, "json_invalid", f"{where}: {err['msg']}") from None
    return _checked(name, transcript)


def _docx_paragraphs(name: str, data: bytes) -> list[str]:
    if not data.startswith(b"PK\x03\x04"):
        raise ImportProblem(name, "not_docx", "this is not a Word (.docx) file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_DOCX_ENTRIES:
                raise ImportProblem(
                    name, "not_docx", "the zip has too many entries for a Word file"
                )
            if sum(i.file_size for i in infos) > MAX_DOCX_UNCOMPRESSED:
                raise ImportProblem(name, "too_large", "the document unpacks to too much data")
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or "word/document.xml" not in names:
                raise ImportProblem(name, "not_docx", "this zip file is not a Word document")
            if any(i.flag_bits & 0x1 for i in infos):
                raise ImportProblem(name, "not_docx", "the document is encrypted")
    except zipfile.BadZipFile:
        raise ImportProblem(
            name, "not_docx", "the file is damaged or not a Word document"
        ) from None
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        paragraphs = [p.text for p in document.paragraphs]
        for table in document.tables:  # transcripts are sometimes laid out as a table
            for row in table.rows:
                cells = [c.text.strip() for c in row.cells]
                if len(cells) >= 2 and cells[0] and cells[1]:
                    paragraphs.append(f"{cells[0]}: {cells[1]}")
    except ImportProblem:
        raise
    except Exception as exc:  # python-docx raises many kinds on broken XML
        raise ImportProblem(
            name, "not_docx", f"the Word document cannot be read ({type(exc).__name__})"
        ) from None
    return paragraphs


def _lines(name: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.replace("\u00a0", " ").rstrip()
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m and len(m.group("name").split()) <= 4:
            speaker = m.group("name").strip()
            text = m.group("text").strip()
            out.append((speaker, text))
        elif out:
            prev_name, prev_text = out[-1]
            out[-1] = (prev_name, f"{prev_text}\n{line.strip()}".strip())
        else:
            raise ImportProblem(
                name,
                "no_speaker",
                f"line {number} does not start with 'Name:' ({line.strip()[:40]!r})",
            )
    out = [(n, t) for n, t in out if t]
    if not out:
        raise ImportProblem(name, "no_turns", "no lines of the form 'Name: what they said'")
    speakers = {n for n, _ in out}
    if len(speakers) < 2:
        raise ImportProblem(name, "one_speaker", "a conversation needs at least two names")
    if len(out) > MAX_TURNS:
        raise ImportProblem(name, "too_many_turns", f"more than {MAX_TURNS} turns")
    return out


def _merge(turns: list[tuple[str, str]]) -> list[Turn]:
    """Consecutive lines by the same side become one turn."""
    merged: list[list[str]] = []
    for speaker, text in turns:
        if merged and merged[-1][0] == speaker:
            merged[-1][1] = f"{merged[-1][1]}\n{text}"
        else:
            merged.append([speaker, text])
    return [Turn(speaker=s, text=t[:MAX_TURN_CHARS]) for s, t in merged]  # type: ignore[arg-type]


def _checked(name: str, transcript: Transcript) -> Transcript:
    if not transcript.turns:
        raise ImportProblem(name, "no_turns", "the transcript has no turns")
    if len(transcript.turns) > MAX_TURNS:
        raise ImportProblem(name, "too_many_turns", f"more than {MAX_TURNS} turns")
    if not any(t.speaker == "practitioner" for t in transcript.turns):
        raise ImportProblem(name, "no_practitioner_turns", "the practitioner says nothing")
    for i, t in enumerate(transcript.turns):
        if not t.text.strip():
            raise ImportProblem(name, "empty_turn", f"turn {i + 1} is empty")
    return transcript


def import_transcript(
    practice: Any,
    user: User,
    transcript: Transcript,
    *,
    title: str = "",
    scenario_id: str | None = None,
    score: bool = True,
) -> str:
    """Store an uploaded transcript as an ended session of ``user`` (``source="upload"``)
    and, by default, have the coach score it. Returns the new session id.

    ``practice`` is the :class:`practice.sessions.PracticeService` (its database and
    scorer are used, so an upload is reviewable like any practised session)."""
    with practice.db.Session() as s:
        row = PracticeSession(
            owner_id=user.id,
            scenario_id=(scenario_id or transcript.scenario_id or "upload")[:64],
            language=transcript.language,
            title=(title or "").strip()[:200],
            status="ended",
            backend="upload",
            source="upload",
            state_json="{}",
        )
        s.add(row)
        s.flush()
        for i, t in enumerate(transcript.turns):
            s.add(
                TurnRow(
                    session_id=row.id,
                    idx=i,
                    speaker=t.speaker,
                    text=t.text,
                    meta={"uploaded": True},
                )
            )
        s.commit()
        session_id = row.id
    if score:
        practice.score(user, session_id)
    return session_id
