"""Upload for review: the three formats, and hostile or broken files refused with a clear
error that names the file and the reason."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from helpers_review import fast_hashing, make_user, report_dict, services

from practice.db import PracticeSession
from practice.importers import (
    MAX_UPLOAD_BYTES,
    ImportProblem,
    import_transcript,
    parse_upload,
)
from practice.review import ReviewService
from practice.sessions import PracticeService

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TXT = """Anna: Hej Mia. Hvad tænker du selv, vi skal bruge tiden på i dag?
Mia: Jeg ved det ikke.
Det er bare svært med det hele.

Anna: Det lyder tungt. Hvad fylder mest?
Anna: Du må gerne tage den tid, du har brug for.
Mia: Huslejen, og at min søn ikke vil i skole.
"""


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


def problem(filename: str, data: bytes, content_type: str | None = None) -> ImportProblem:
    with pytest.raises(ImportProblem) as exc:
        parse_upload(filename, data, content_type)
    assert exc.value.file == filename.rsplit("/", 1)[-1]
    assert str(exc.value).startswith(f"{exc.value.file}: ")
    return exc.value


def docx_bytes(paragraphs: list[str], table: list[tuple[str, str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=0, cols=2)
        for name, text in table:
            cells = t.add_row().cells
            cells[0].text, cells[1].text = name, text
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_json_cli_format() -> None:
    data = {
        "language": "en",
        "turns": [
            {"speaker": "citizen", "text": "Hi."},
            {"speaker": "practitioner", "text": "What would you like to talk about?"},
        ],
    }
    parsed = parse_upload("session.json", json.dumps(data).encode(), "application/json")
    tr = parsed.transcript()
    assert tr.language == "en"
    assert [(t.speaker, t.text) for t in tr.turns] == [
        ("citizen", "Hi."),
        ("practitioner", "What would you like to talk about?"),
    ]


def test_json_errors_name_the_field() -> None:
    bad_speaker = {"language": "da", "turns": [{"speaker": "coach", "text": "x"}]}
    p = problem("a.json", json.dumps(bad_speaker).encode())
    assert p.code == "json_invalid"
    assert "turns.0.speaker" in p.reason
    assert problem("b.json", b"{not json").code == "json_syntax"
    assert problem("c.json", b"[1, 2]").code == "json_shape"
    assert problem("d.json", b"[" * 100_000).code == "json_syntax"  # deep nesting
    no_prac = {"language": "da", "turns": [{"speaker": "citizen", "text": "Hej"}]}
    assert problem("e.json", json.dumps(no_prac).encode()).code == "no_practitioner_turns"
    unknown_key = {"language": "da", "turns": [], "extra": 1}
    assert problem("f.json", json.dumps(unknown_key).encode()).code == "json_invalid"


def test_plain_text_with_speaker_mapping() -> None:
    parsed = parse_upload("rollespil.txt", TXT.encode("utf-8"), "text/plain")
    assert parsed.speakers == ["Anna", "Mia"]
    assert parsed.guess_language() == "da"
    tr = parsed.transcript(practitioner="Anna")
    assert [t.speaker for t in tr.turns] == ["practitioner", "citizen", "practitioner", "citizen"]
    assert tr.turns[1].text == "Jeg ved det ikke.\nDet er bare svært med det hele."
    assert tr.turns[2].text.endswith("Du må gerne tage den tid, du har brug for.")
    # choosing the other name flips the roles
    flipped = parsed.transcript(practitioner="Mia")
    assert flipped.turns[0].speaker == "citizen"
    with pytest.raises(ImportProblem) as exc:
        parsed.transcript(practitioner="Nobody")
    assert exc.value.code == "no_practitioner"


def test_plain_text_encodings_and_errors() -> None:
    assert parse_upload("w.txt", TXT.encode("cp1252")).speakers == ["Anna", "Mia"]
    assert parse_upload("u16.txt", TXT.encode("utf-16")).speakers == ["Anna", "Mia"]
    assert problem("x.txt", b"Anna: hej\x00\x01\x02").code == "binary"
    assert problem("y.txt", b"Just a line without a name\nAnna: hej").code == "no_speaker"
    assert problem("z.txt", b"Anna: hej\nAnna: igen").code == "one_speaker"
    assert problem("e.txt", b"").code == "empty"
    many = "\n".join(f"{'A' if i % 2 else 'B'}: linje {i}" for i in range(401)).encode()
    assert problem("many.txt", many).code == "too_many_turns"


def test_docx_paragraphs_and_tables() -> None:
    data = docx_bytes(
        ["Rollespil 3. marts", "Sara: Hvad er vigtigst for dig?", "Kim: At få ro."],
        table=[("Sara", "Hvad ville ro betyde?"), ("Kim", "At ingen ringer.")],
    )
    with pytest.raises(ImportProblem) as exc:  # a title line without a name
        parse_upload("r.docx", data, DOCX_TYPE)
    assert exc.value.code == "no_speaker"
    assert "line 1" in exc.value.reason
    data = docx_bytes(
        ["Sara: Hvad er vigtigst for dig?", "Kim: At få ro."], table=[("Sara", "Og så?")]
    )
    parsed = parse_upload("r.docx", data, DOCX_TYPE)
    tr = parsed.transcript(practitioner="Sara", language="da")
    assert [(t.speaker, t.text) for t in tr.turns] == [
        ("practitioner", "Hvad er vigtigst for dig?"),
        ("citizen", "At få ro."),
        ("practitioner", "Og så?"),
    ]


def test_hostile_files_are_refused() -> None:
    # a zip that is not a Word document
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "Anna: hej\nMia: hej")
    assert problem("not-word.docx", buf.getvalue(), DOCX_TYPE).code == "not_docx"
    # a zip bomb: tiny on disk, huge unpacked
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<x/>")
        zf.writestr("word/document.xml", b"\0" * 25_000_000)
    assert len(bomb.getvalue()) < MAX_UPLOAD_BYTES
    assert problem("bomb.docx", bomb.getvalue(), DOCX_TYPE).code == "too_large"
    # random bytes called .docx, a truncated docx
    assert problem("fake.docx", b"%PDF-1.7 not a zip").code == "not_docx"
    real = docx_bytes(["A: hej", "B: hej"])
    assert problem("cut.docx", real[: len(real) // 2]).code == "not_docx"
    # size, extension, content type
    assert problem("big.txt", b"A: x\n" * (MAX_UPLOAD_BYTES // 5 + 1)).code == "too_large"
    assert problem("run.exe", b"MZ").code == "bad_extension"
    assert problem("photo.txt", b"A: x\nB: y", "image/png").code == "content_type"
    assert problem("../../etc/passwd.json", b"{}").file == "passwd.json"


def test_import_stores_an_upload_session_that_is_reviewable() -> None:
    svc = services()

    class Report:
        def __init__(self, data):
            self.data, self.overall, self.rubric_version = data, data["overall"], "1.0.0"

        def model_dump_json(self):
            return json.dumps(self.data)

    def scorer(transcript, *, scenario=None, state_json=None):
        turns = [(t.speaker, t.text) for t in transcript.turns]
        return Report(report_dict(turns))

    practice = PracticeService(svc.db, svc.library, scorer=scorer)
    sup = make_user(svc, "sofie", "supervisor")
    anna = make_user(svc, "anna", supervisor=sup)
    other = make_user(svc, "bo")
    tr = parse_upload("rollespil.txt", TXT.encode()).transcript(practitioner="Anna")
    sid = import_transcript(practice, anna, tr, title="Rollespil med Mia")
    with svc.db.Session() as s:
        row = s.get(PracticeSession, sid)
        assert (row.source, row.status, row.owner_id) == ("upload", "ended", anna.id)
    view = practice.view(anna, sid)
    assert [t.text for t in view.turns] == [t.text for t in tr.turns]
    assert view.report_json is not None
    assert json.loads(view.report_json)["status"] == "ok"
    assert sid not in {i.id for i in practice.list_sessions(other)}
    reviews = ReviewService(svc.db)
    reviews.share(anna, sid)
    reviews.add_comment(sup, sid, "Godt første spørgsmål", turn_idx=0)
    reviews.assess(sup, sid, "stand_beside", 4, "Hun gav plads til Mias tempo.")
    assert [c.text for c in reviews.comments(anna, sid)] == ["Godt første spørgsmål"]
    svc.db.dispose()
