"""Helpers for Streamlit AppTest tests (imported by tests as a plain module)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def make_user(username: str = "pia", role: str = "practitioner", display_name: str | None = None):
    """Create (or fetch) a user in the test's database."""
    from sqlalchemy import select

    from practice.db import User
    from practice.services import build_services
    from practice.settings import load_settings

    svc = build_services(load_settings())
    with svc.db.Session() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            user = User(username=username, display_name=display_name or username.title(), role=role)
            s.add(user)
            s.commit()
    svc.db.dispose()
    return user


def sign_in(at: AppTest, username: str = "pia", role: str = "practitioner"):
    """Sign the AppTest session in as `username` (created with `role` if new)."""
    user = make_user(username, role)
    at.session_state["shell.user_id"] = user.id
    return user


def signed_in_app(
    timeout: float = 90, username: str = "pia", role: str = "practitioner"
) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    sign_in(at, username, role)
    return at


def open_page(user, page: str, timeout: float = 90) -> AppTest:
    """The app signed in as `user`, switched to `page` (e.g. "app_pages/progress.py")."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["shell.user_id"] = user.id
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at
