"""Accounts: argon2 hashes, sign-in, the first-run admin (screen and CLI), admin-only
operations, OIDC identity mapping."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers_review import PASSWORD, fast_hashing, make_user, services
from sqlalchemy import select

from practice import accounts as acc
from practice.access import AccessDenied
from practice.accounts import AccountError, AccountService
from practice.db import User


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def svc():
    s = services()
    yield s
    s.db.dispose()


@pytest.fixture
def accounts(svc) -> AccountService:
    return AccountService(svc.db)


def test_passwords_are_stored_as_argon2_hashes(svc, accounts, monkeypatch) -> None:
    monkeypatch.setattr(acc, "_hasher", acc.PasswordHasher())  # production parameters
    user = make_user(svc, "anna")
    with svc.db.Session() as s:
        stored = s.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert accounts.authenticate("anna", PASSWORD).id == user.id


def test_authenticate_right_and_wrong(svc, accounts) -> None:
    user = make_user(svc, "Anna.Berg")
    assert accounts.authenticate("anna.berg", PASSWORD).id == user.id
    assert accounts.authenticate("  ANNA.BERG ", PASSWORD).id == user.id  # case-insensitive
    assert accounts.authenticate("anna.berg", PASSWORD + "x") is None
    assert accounts.authenticate("nobody", PASSWORD) is None


def test_passwordless_account_cannot_sign_in_with_any_password(svc, accounts) -> None:
    make_user(svc, "oidc-only", password=None)
    assert accounts.authenticate("oidc-only", "") is None
    assert (
        accounts.authenticate("oidc-only", "not a real password, only for constant-time misses")
        is None
    )


def test_repeated_failures_lock_the_username(svc, accounts) -> None:
    make_user(svc, "bo")
    for _ in range(acc.MAX_FAILURES):
        assert accounts.authenticate("bo", "wrong password") is None
    with pytest.raises(AccountError) as exc:
        accounts.authenticate("bo", PASSWORD)
    assert exc.value.code == "locked"


def test_weak_password_and_bad_username_refused(svc, accounts) -> None:
    with pytest.raises(AccountError, match="at least") as e1:
        make_user(svc, "carl", password="short")
    assert e1.value.code == "password_short"
    with pytest.raises(AccountError) as e2:
        make_user(svc, "has space")
    assert e2.value.code == "username_invalid"
    make_user(svc, "dora")
    with pytest.raises(AccountError) as e3:
        make_user(svc, "DORA")
    assert e3.value.code == "username_taken"


def test_first_admin_once_only(svc, accounts) -> None:
    assert accounts.needs_setup()
    admin = accounts.create_first_admin("admin", PASSWORD, display_name="Ida Admin")
    assert admin.role == "admin"
    assert not accounts.needs_setup()
    with pytest.raises(AccountError) as exc:
        accounts.create_first_admin("admin2", PASSWORD)
    assert exc.value.code == "admin_exists"


def test_first_admin_adopts_the_single_user_sessions(svc, accounts) -> None:
    local = svc.practice.local_user()
    admin = accounts.create_first_admin("mette", PASSWORD)
    assert admin.id == local.id, "the person's earlier single-user sessions stay theirs"
    assert accounts.authenticate("mette", PASSWORD).role == "admin"


def test_only_admin_manages_accounts_permission(svc, accounts) -> None:
    admin = accounts.create_first_admin("admin", PASSWORD)
    sup = make_user(svc, "sofie", "supervisor")
    prac = make_user(svc, "per")
    for actor in (sup, prac):
        with pytest.raises(AccessDenied):
            accounts.create_user(actor, "eve", PASSWORD)
        with pytest.raises(AccessDenied):
            accounts.set_role(actor, prac.id, "admin")
        with pytest.raises(AccessDenied):
            accounts.reset_password(actor, admin.id, "new password 123")
        with pytest.raises(AccessDenied):
            accounts.list_users(actor)
    assert accounts.authenticate("admin", PASSWORD) is not None


def test_admin_sets_role_supervisor_and_password(svc, accounts) -> None:
    admin = accounts.create_first_admin("admin", PASSWORD)
    sup = accounts.create_user(admin, "sofie", PASSWORD, role="supervisor")
    prac = accounts.create_user(admin, "per", PASSWORD)
    accounts.set_supervisor(admin, prac.id, sup.id)
    assert accounts.get(prac.id).supervisor_id == sup.id
    with pytest.raises(AccountError) as exc:
        accounts.set_supervisor(admin, sup.id, prac.id)  # not a supervisor
    assert exc.value.code == "not_a_supervisor"
    accounts.set_role(admin, prac.id, "educator")
    assert accounts.get(prac.id).role == "educator"
    accounts.reset_password(admin, prac.id, "a brand new one")
    assert accounts.authenticate("per", PASSWORD) is None
    assert accounts.authenticate("per", "a brand new one") is not None
    with pytest.raises(AccountError) as last:
        accounts.set_role(admin, admin.id, "practitioner")
    assert last.value.code == "last_admin"
    listed = {u.username: u for u in accounts.list_users(admin)}
    assert set(listed) == {"admin", "sofie", "per"}
    assert not hasattr(listed["per"], "password_hash")


def test_oidc_identity_maps_to_one_local_practitioner(svc, accounts) -> None:
    a = accounts.oidc_user(subject="abc", email="Kim@Kommune.dk", name="Kim K")
    b = accounts.oidc_user(subject="abc", email="kim@kommune.dk", name="Kim K")
    assert a.id == b.id
    assert a.role == "practitioner"
    assert a.password_hash is None
    assert a.username == "kim@kommune.dk"
    # an admin who created the account beforehand decides the role
    admin = accounts.create_first_admin("admin", PASSWORD)
    accounts.create_user(admin, "lis@kommune.dk", None, role="supervisor")
    assert accounts.oidc_user(subject="x", email="lis@kommune.dk", name="Lis").role == "supervisor"
    assert accounts.oidc_user(subject="no-mail", email=None, name=None).username == "oidc:no-mail"


def test_cli_create_admin_with_password_stdin(svc, accounts, repo) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "practice",
            "create-admin",
            "--username",
            "root",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "root" in proc.stdout
    user = accounts.authenticate("root", PASSWORD)
    assert user is not None
    assert user.role == "admin"
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "practice",
            "create-admin",
            "--username",
            "second",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=120,
    )
    assert again.returncode == 1
    assert "admin" in again.stderr
    with svc.db.Session() as s:
        assert s.execute(select(User).where(User.username == "second")).first() is None
