"""The upload page in AppTest: a plain-text role-play becomes a scored session of mine,
opened in review; a broken file gets a clear error naming the file.

The coach is replaced by a small scorer here (the page is under test, not the coach;
``practice.services.default_scorer`` is what the app's services are built with)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_test_helpers import open_page
from helpers_review import fast_hashing, make_user, report_dict, services
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

import practice.services
from base.i18n import t
from practice.db import PracticeSession, ReportRow

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 90
TXT = "Anna: Hej Mia, hvad vil du gerne bruge tiden på?\nMia: Huslejen.\nAnna: Fortæl mere.\n"


class _Report:
    def __init__(self, data):
        self.data, self.overall, self.rubric_version = data, data["overall"], "1.0.0"

    def model_dump_json(self) -> str:
        return json.dumps(self.data)


def _scorer(transcript, *, scenario=None, state_json=None):
    return _Report(report_dict([(t.speaker, t.text) for t in transcript.turns]))


def _broken_scorer(transcript, *, scenario=None, state_json=None):
    raise RuntimeError("coach offline")


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def svc():
    s = services()
    yield s
    s.db.dispose()


def open_upload(user) -> AppTest:
    return open_page(user, "app_pages/upload.py", TIMEOUT)


def test_upload_text_transcript_and_open_it_in_review(svc, monkeypatch) -> None:
    monkeypatch.setattr(practice.services, "default_scorer", _scorer)
    anna = make_user(svc, "anna")
    at = open_upload(anna)
    at.file_uploader(key="upload.file").set_value(
        ("rollespil.txt", TXT.encode(), "text/plain")
    ).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="upload.practitioner").options == ["Anna", "Mia"]
    at.selectbox(key="upload.practitioner").set_value("Anna").run()
    assert len(at.chat_message) == 3
    at.button(key="upload.import").click().run()
    assert not at.exception, at.exception
    with svc.db.Session() as s:
        row = s.execute(select(PracticeSession)).scalar_one()
        assert (row.source, row.owner_id, row.title) == ("upload", anna.id, "rollespil")
        assert s.execute(select(ReportRow).where(ReportRow.session_id == row.id)).first()
    assert t("upload.done", "da") in [x.value for x in at.success]
    at.button(key="upload.open_review").click().run()
    assert not at.exception, at.exception
    assert [x.value for x in at.title] == ["rollespil"]
    assert "Anna" not in [m.value for m in at.markdown]  # speaker names are not turn text
    assert "Hej Mia, hvad vil du gerne bruge tiden på?" in [m.value for m in at.markdown]


def test_scoring_failure_keeps_the_upload(svc, monkeypatch) -> None:
    monkeypatch.setattr(practice.services, "default_scorer", _broken_scorer)
    anna = make_user(svc, "anna")
    at = open_upload(anna)
    at.file_uploader(key="upload.file").set_value(("r.txt", TXT.encode(), "text/plain")).run()
    at.button(key="upload.import").click().run()
    assert not at.exception, at.exception
    labels = [s.label for s in at.status]
    assert t("upload.score_failed", "da", reason="coach offline") in labels
    with svc.db.Session() as s:
        assert s.execute(select(PracticeSession)).scalar_one().source == "upload"


def test_bad_file_gets_a_clear_error(svc) -> None:
    anna = make_user(svc, "anna")
    at = open_upload(anna)
    at.file_uploader(key="upload.file").set_value(
        ("notes.docx", b"PK\x03\x04garbage", "application/zip")
    ).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert errors == [
        t("upload.failed", "da", file="notes.docx", reason=t("upload.error.not_docx", "da"))
    ]
    assert not [b for b in at.button if b.key == "upload.import"]
