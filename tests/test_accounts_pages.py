"""Sign-in, first-run setup, sign-out, single-user mode and the admin page, in AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_review import PASSWORD, fast_hashing, make_user, services
from streamlit.testing.v1 import AppTest

from base.i18n import t
from practice.accounts import AccountService

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 90


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def svc():
    s = services()
    yield s
    s.db.dispose()


def titles(at: AppTest) -> list[str]:
    return [x.value for x in at.title]


def test_fresh_install_setup_creates_the_admin_who_can_practise(svc) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert titles(at) == [t("login.setup_title", "da")]
    at.text_input(key="login.setup_username").input("mette")
    at.text_input(key="login.setup_display").input("Mette Holm")
    at.text_input(key="login.setup_password").input(PASSWORD)
    at.text_input(key="login.setup_password2").input(PASSWORD + "typo")
    at.button(key="login.setup_submit").click().run()
    assert [e.value for e in at.error] == [t("accounts.error.password_mismatch", "da")]
    at.text_input(key="login.setup_password2").input(PASSWORD)
    at.button(key="login.setup_submit").click().run()
    assert not at.exception, at.exception
    assert titles(at) == [t("practise.title", "da")]  # straight into practising
    assert AccountService(svc.db).authenticate("mette", PASSWORD).role == "admin"
    at.switch_page("app_pages/admin.py").run()
    assert titles(at) == [t("admin.title", "da")]


def test_sign_in_wrong_then_right_then_sign_out(svc) -> None:
    make_user(svc, "ida", "admin")
    make_user(svc, "anna")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert titles(at) == [t("login.title", "da")]
    at.text_input(key="login.username").input("anna")
    at.text_input(key="login.password").input("wrong password")
    at.button(key="login.submit").click().run()
    assert [e.value for e in at.error] == [t("login.failed", "da")]
    at.text_input(key="login.password").input(PASSWORD)
    at.button(key="login.submit").click().run()
    assert not at.exception, at.exception
    assert titles(at) == [t("practise.title", "da")]
    assert "Anna" in " ".join(c.value for c in at.sidebar.caption)
    at.sidebar.button(key="shell.sign_out").click().run()
    assert titles(at) == [t("login.title", "da")]


def test_single_user_mode_needs_no_sign_in(svc, monkeypatch) -> None:
    monkeypatch.setenv("RELPRACTICE_SINGLE_USER", "1")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert titles(at) == [t("practise.title", "da")]
    assert not [b for b in at.sidebar.button if b.key == "shell.sign_out"]


def test_admin_page_creates_user_sets_role_and_supervisor(svc) -> None:
    admin = make_user(svc, "ida", "admin")
    sup = make_user(svc, "sofie", "supervisor")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["shell.user_id"] = admin.id
    at.run()
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception, at.exception
    at.text_input(key="admin.new_username").input("per")
    at.text_input(key="admin.new_display").input("Per Nielsen")
    at.selectbox(key="admin.new_role").set_value("practitioner")
    at.text_input(key="admin.new_password").input("short")
    at.button(key="admin.create_submit").click().run()
    assert [e.value for e in at.error] == [t("accounts.error.password_short", "da")]
    at.text_input(key="admin.new_username").input("per")
    at.text_input(key="admin.new_display").input("Per Nielsen")
    at.text_input(key="admin.new_password").input(PASSWORD)
    at.button(key="admin.create_submit").click().run()
    assert not at.exception, at.exception
    accounts = AccountService(svc.db)
    per = accounts.authenticate("per", PASSWORD)
    assert per is not None
    assert per.role == "practitioner"

    at.selectbox(key="admin.pick").set_value(per.id).run()
    at.selectbox(key="admin.supervisor").set_value(sup.id)
    at.button(key="admin.set_supervisor").click().run()
    assert accounts.get(per.id).supervisor_id == sup.id
    at.selectbox(key="admin.pick").set_value(per.id).run()
    at.selectbox(key="admin.role").set_value("educator")
    at.button(key="admin.set_role").click().run()
    assert accounts.get(per.id).role == "educator"
    at.selectbox(key="admin.pick").set_value(per.id).run()
    at.text_input(key="admin.reset_password").input("another good password")
    at.button(key="admin.reset").click().run()
    assert accounts.authenticate("per", "another good password") is not None


AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "relpractice",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
}


def test_oidc_button_only_when_auth_is_configured(svc) -> None:
    make_user(svc, "ida", "admin")
    plain = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not [b for b in plain.button if b.key == "login.oidc"]
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.run()
    assert not at.exception, at.exception
    assert at.button(key="login.oidc").label == t("login.oidc", "da")
    assert at.text_input(key="login.username") is not None  # local sign-in stays available


def test_oidc_identity_signs_in_as_a_local_practitioner(svc, monkeypatch) -> None:
    """The identity provider is external: its answer (``st.user``) is simulated."""
    import app_pages.shell as shell

    make_user(svc, "ida", "admin")
    claims = {"is_logged_in": True, "sub": "s-1", "email": "kim@kommune.dk", "name": "Kim Lund"}
    monkeypatch.setattr(shell, "_oidc_claims", lambda: claims)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert titles(at) == [t("practise.title", "da")]
    kim = AccountService(svc.db).by_username("kim@kommune.dk")
    assert kim is not None
    assert kim.role == "practitioner"
    assert kim.display_name == "Kim Lund"
    assert "Kim Lund" in " ".join(c.value for c in at.sidebar.caption)
