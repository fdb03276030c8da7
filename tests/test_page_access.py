"""The access rules, proved against the pages (Streamlit AppTest): what each role can
open, and that a session that is not yours/not shared shows the not-found message."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_review import fast_hashing, make_class, make_session, make_user, services
from streamlit.testing.v1 import AppTest

from base.i18n import t
from practice.review import ReviewService

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 90
NOT_FOUND = t("review.not_found", "da")


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def svc():
    s = services()
    yield s
    s.db.dispose()


def app_as(user, page: str | None = None, session_id: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["shell.user_id"] = user.id
    at.run()
    assert not at.exception, at.exception
    if session_id:
        at.query_params["session"] = session_id
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [i.value for i in at.info]
    return "\n".join(parts)


def nav_pages(at: AppTest) -> set[str]:
    """The pages registered for this session (AppTest refuses unregistered ones)."""
    pages = set()
    for name in ("admin", "review", "upload", "progress", "practise"):
        try:
            at.switch_page(f"app_pages/{name}.py")
        except ValueError:
            continue
        pages.add(name)
    return pages


def test_signed_out_access_shows_only_sign_in(svc) -> None:
    make_user(svc, "ida", "admin")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.text_input(key="login.username") is not None
    assert nav_pages(at) == set()


def test_role_based_pages_permission(svc) -> None:
    prac = make_user(svc, "anna")
    admin = make_user(svc, "ida", "admin")
    sup = make_user(svc, "sofie", "supervisor")
    assert "admin" not in nav_pages(app_as(prac))
    assert "admin" not in nav_pages(app_as(sup))
    assert {"admin", "review", "practise"} <= nav_pages(app_as(admin))


def test_admin_page_refuses_a_practitioner_permission(svc) -> None:
    """Even run directly (not through the navigation), the admin page shows nothing."""
    prac = make_user(svc, "anna")
    make_user(svc, "secret-person")
    at = AppTest.from_file(str(ROOT / "app_pages" / "admin.py"), default_timeout=TIMEOUT)
    at.session_state["shell.user_id"] = prac.id
    at.run()
    assert [e.value for e in at.error] == [t("admin.denied", "da")]
    assert "secret-person" not in texts(at)
    assert not at.dataframe


def test_supervisor_cannot_see_unshared_session_on_review_page(svc) -> None:
    sup = make_user(svc, "sofie", "supervisor")
    anna = make_user(svc, "anna", supervisor=sup)
    sid = make_session(svc, anna, turns=[("citizen", "Hej"), ("practitioner", "HEMMELIG REPLIK")])
    at = app_as(sup, "app_pages/review.py", sid)
    assert NOT_FOUND in [e.value for e in at.error]
    assert "HEMMELIG REPLIK" not in texts(at)
    assert not at.chat_message
    # the review list does not offer it either
    at = app_as(sup, "app_pages/review.py")
    assert not [b for b in at.button if b.key.startswith("review.open.")]
    # once shared, the same URL opens it
    ReviewService(svc.db).share(anna, sid)
    at = app_as(sup, "app_pages/review.py", sid)
    assert NOT_FOUND not in [e.value for e in at.error]
    assert "HEMMELIG REPLIK" in texts(at)
    assert at.text_area(key="review.comment_text") is not None


def test_practitioner_cannot_see_colleague_session_on_any_page(svc) -> None:
    anna = make_user(svc, "anna")
    bo = make_user(svc, "bo")
    sid = make_session(svc, bo, turns=[("citizen", "Hej"), ("practitioner", "BOS REPLIK")])
    at = app_as(anna, "app_pages/review.py", sid)
    assert NOT_FOUND in [e.value for e in at.error]
    assert "BOS REPLIK" not in texts(at)
    at = app_as(anna, "app_pages/practise.py", sid)
    assert t("practise.not_found", "da") in [e.value for e in at.error]
    assert "BOS REPLIK" not in texts(at)
    # a practitioner gets no comment form even on their own session
    own = make_session(svc, anna)
    at = app_as(anna, "app_pages/review.py", own)
    assert not [w for w in at.text_area if w.key == "review.comment_text"]


def test_admin_cannot_see_transcripts_on_review_page_access(svc) -> None:
    admin = make_user(svc, "ida", "admin")
    anna = make_user(svc, "anna")
    sid = make_session(svc, anna)
    at = app_as(admin, "app_pages/review.py", sid)
    assert NOT_FOUND in [e.value for e in at.error]


def test_educator_access_class_sessions_anonymised_by_default(svc) -> None:
    edu = make_user(svc, "eva", "educator")
    student = make_user(svc, "karoline.jensen")
    klass = make_class(svc, edu)
    sid = make_session(svc, student, class_id=klass, title="Klassesamtale")
    outside = make_session(svc, student, title="Privat samtale")
    at = app_as(edu, "app_pages/review.py")
    shown = texts(at)
    assert "Klassesamtale" in shown
    assert "Privat samtale" not in shown
    assert "Karoline.Jensen" not in shown
    assert "Studerende " in shown
    at.toggle(key="review.reveal").set_value(True).run()
    assert "Karoline.Jensen" in texts(at)
    at = app_as(edu, "app_pages/review.py", outside)
    assert NOT_FOUND in [e.value for e in at.error]
    at = app_as(edu, "app_pages/review.py", sid)
    assert NOT_FOUND not in [e.value for e in at.error]
    assert "Karoline.Jensen" not in texts(at)
