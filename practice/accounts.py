"""Accounts: local users with argon2 password hashes, four roles, the first-run admin,
and the mapping of an OIDC identity (``st.login``) to a local user row.

Roles
- practitioner: practises; sees only their own sessions; shares a session with a supervisor.
- supervisor: reviews sessions shared with them (and may practise themselves).
- educator: runs classrooms; sees the sessions held in their own classes.
- admin: manages accounts (create, role, supervisor, password reset). An admin sees no one
  else's transcripts; the first admin on a fresh laptop also practises with this account.

Out of the box
- A fresh data folder has no admin: the app shows a setup screen that creates one (or run
  ``python -m practice create-admin --username U``). If a password-less ``local`` user
  exists from single-user use, the first admin *adopts* it, so earlier sessions are kept.
- ``RELPRACTICE_SINGLE_USER=1`` skips sign-in entirely: everyone using this app is the one
  local practitioner (a personal laptop with nobody else on it).

Every function that changes accounts takes the acting user and checks the role here, in
the data layer; pages only decide what to show.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from practice.access import ROLES, AccessDenied
from practice.db import Database, User

LOCAL_USERNAME = "local"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,79}$")
MAX_FAILURES = 5
LOCKOUT_SECONDS = 60.0

_hasher = PasswordHasher()
# a hash to verify against when the username is unknown, so timing does not reveal it
_DUMMY_HASH = _hasher.hash("not a real password, only for constant-time misses")


class AccountError(ValueError):
    """A problem with account input. ``code`` is a translation key suffix
    (``accounts.error.<code>``); the message is safe to show."""

    def __init__(self, code: str, message: str = ""):
        self.code = code
        super().__init__(message or code)


def single_user_mode() -> bool:
    return (os.environ.get("RELPRACTICE_SINGLE_USER") or "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            "password_short", f"The password needs at least {MIN_PASSWORD} characters."
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError("password_long", "The password is too long.")


def normalise_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError(
            "username_invalid",
            "Use 2-80 characters: letters a-z, digits and . _ @ + - (no spaces).",
        )
    return name


@dataclass(frozen=True)
class UserSummary:
    """What the admin page lists (never the hash)."""

    id: str
    username: str
    display_name: str
    role: str
    supervisor_id: str | None
    has_password: bool


class _Throttle:
    """In-process brake on password guessing: after MAX_FAILURES failed sign-ins for a
    username, further attempts are refused for LOCKOUT_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}

    def locked(self, key: str) -> bool:
        with self._lock:
            count, until = self._failures.get(key, (0, 0.0))
            return count >= MAX_FAILURES and time.monotonic() < until

    def fail(self, key: str) -> None:
        with self._lock:
            count, until = self._failures.get(key, (0, 0.0))
            if count >= MAX_FAILURES and time.monotonic() >= until:
                count = 0
            count += 1
            self._failures[key] = (count, time.monotonic() + LOCKOUT_SECONDS)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


_throttle = _Throttle()


class AccountService:
    """Users and roles over a :class:`practice.db.Database`. Stateless; cheap to build."""

    def __init__(self, db: Database):
        self.db = db

    # -- reading -------------------------------------------------------------------
    def get(self, user_id: str) -> User | None:
        with self.db.Session() as s:
            return s.get(User, user_id)

    def display_names(self, user_ids: set[str]) -> dict[str, str]:
        """Display names for ids the caller already got through an access-checked query
        (e.g. the owners of search results)."""
        if not user_ids:
            return {}
        with self.db.Session() as s:
            rows = s.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
            return dict(rows.all())

    def by_username(self, username: str) -> User | None:
        with self.db.Session() as s:
            return s.execute(
                select(User).where(User.username == username.strip().lower())
            ).scalar_one_or_none()

    def has_admin(self) -> bool:
        with self.db.Session() as s:
            n = s.execute(select(func.count(User.id)).where(User.role == "admin")).scalar_one()
            return n > 0

    def needs_setup(self) -> bool:
        """True on a fresh install: no admin account exists yet."""
        return not self.has_admin()

    def list_users(self, actor: User) -> list[UserSummary]:
        _require_admin(actor)
        with self.db.Session() as s:
            rows = s.execute(select(User).order_by(User.username)).scalars().all()
            return [_summary(u) for u in rows]

    def supervisors(self) -> list[UserSummary]:
        """Supervisors by name (a practitioner may pick one to share with)."""
        with self.db.Session() as s:
            rows = s.execute(
                select(User).where(User.role == "supervisor").order_by(User.display_name)
            ).scalars()
            return [_summary(u) for u in rows]

    # -- creating ------------------------------------------------------------------
    def create_first_admin(
        self, username: str, password: str, display_name: str | None = None
    ) -> User:
        """The setup screen / ``create-admin`` CLI. Refused once an admin exists.

        If the only user is the password-less ``local`` practitioner from single-user
        use, that row becomes the admin, so the person's earlier sessions stay theirs."""
        name = normalise_username(username)
        pw_hash = hash_password(password)
        with self.db.Session() as s:
            if s.execute(select(User.id).where(User.role == "admin")).first() is not None:
                raise AccountError("admin_exists", "An admin account already exists.")
            if s.execute(select(User.id).where(User.username == name)).first() is not None:
                raise AccountError("username_taken", "That username is taken.")
            others = s.execute(select(User)).scalars().all()
            local = [u for u in others if u.username == LOCAL_USERNAME and not u.password_hash]
            if local and len(others) == 1:
                user = local[0]
                user.username = name
                user.display_name = (display_name or "").strip() or name
                user.role = "admin"
                user.password_hash = pw_hash
            else:
                user = User(
                    username=name,
                    display_name=(display_name or "").strip() or name,
                    role="admin",
                    password_hash=pw_hash,
                )
                s.add(user)
            s.commit()
            return user

    def create_user(
        self,
        actor: User | None,
        username: str,
        password: str | None,
        *,
        role: str = "practitioner",
        display_name: str | None = None,
        supervisor_id: str | None = None,
    ) -> User:
        """Create an account. ``actor`` must be an admin (None only for trusted callers:
        the CLI and tests). A ``None`` password makes an OIDC-only account."""
        if actor is not None:
            _require_admin(actor)
        name = normalise_username(username)
        if name == LOCAL_USERNAME:
            raise AccountError("username_reserved", "That username is reserved.")
        if role not in ROLES:
            raise AccountError("role_invalid", f"Unknown role {role!r}.")
        pw_hash = hash_password(password) if password is not None else None
        with self.db.Session() as s:
            if s.execute(select(User.id).where(User.username == name)).first() is not None:
                raise AccountError("username_taken", "That username is taken.")
            if supervisor_id is not None:
                _check_supervisor(s, supervisor_id)
            user = User(
                username=name,
                display_name=(display_name or "").strip() or name,
                role=role,
                password_hash=pw_hash,
                supervisor_id=supervisor_id,
            )
            s.add(user)
            s.commit()
            return user

    # -- signing in ------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> User | None:
        """The user, or None for a wrong username or password (indistinguishable).
        Raises AccountError('locked') after repeated failures."""
        key = (username or "").strip().lower()
        if _throttle.locked(key):
            raise AccountError("locked", "Too many failed attempts. Wait a minute and try again.")
        with self.db.Session() as s:
            user = s.execute(select(User).where(User.username == key)).scalar_one_or_none()
            stored = user.password_hash if user is not None else None
            try:
                _hasher.verify(stored or _DUMMY_HASH, password or "")
                ok = stored is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            if not ok or user is None:
                _throttle.fail(key)
                return None
            _throttle.clear(key)
            if _hasher.check_needs_rehash(stored):
                user.password_hash = _hasher.hash(password)
                s.commit()
            return user

    def oidc_user(self, *, subject: str, email: str | None, name: str | None) -> User:
        """Map an OIDC identity (``st.user``) to a local row, creating a practitioner on
        first sign-in. The username is the e-mail address (so an admin can create the
        account beforehand with the right role), else ``oidc:<subject>``."""
        username = (email or "").strip().lower() or f"oidc:{subject}"
        username = username[:80]
        with self.db.Session() as s:
            user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None:
                user = User(
                    username=username,
                    display_name=(name or "").strip() or username,
                    role="practitioner",
                    password_hash=None,
                )
                s.add(user)
                s.commit()
            return user

    # -- administration ----------------------------------------------------------------
    def set_role(self, actor: User, user_id: str, role: str) -> User:
        _require_admin(actor)
        if role not in ROLES:
            raise AccountError("role_invalid", f"Unknown role {role!r}.")
        with self.db.Session() as s:
            user = _get(s, user_id)
            if user.role == "admin" and role != "admin":
                admins = s.execute(
                    select(func.count(User.id)).where(User.role == "admin")
                ).scalar_one()
                if admins <= 1:
                    raise AccountError("last_admin", "The last admin cannot lose the admin role.")
            user.role = role
            s.commit()
            return user

    def set_supervisor(self, actor: User, user_id: str, supervisor_id: str | None) -> User:
        _require_admin(actor)
        with self.db.Session() as s:
            user = _get(s, user_id)
            if supervisor_id is not None:
                if supervisor_id == user_id:
                    raise AccountError("supervisor_self", "Nobody can supervise themselves.")
                _check_supervisor(s, supervisor_id)
            user.supervisor_id = supervisor_id
            s.commit()
            return user

    def reset_password(self, actor: User, user_id: str, new_password: str) -> None:
        """An admin sets a new password for anyone (tell the user by another channel)."""
        _require_admin(actor)
        pw_hash = hash_password(new_password)
        with self.db.Session() as s:
            user = _get(s, user_id)
            user.password_hash = pw_hash
            s.commit()
        _throttle.clear(user.username)

    def change_own_password(self, user: User, old_password: str, new_password: str) -> None:
        if self.authenticate(user.username, old_password) is None:
            raise AccountError("wrong_password", "The current password is wrong.")
        pw_hash = hash_password(new_password)
        with self.db.Session() as s:
            row = _get(s, user.id)
            row.password_hash = pw_hash
            s.commit()


def _summary(u: User) -> UserSummary:
    return UserSummary(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        supervisor_id=u.supervisor_id,
        has_password=bool(u.password_hash),
    )


def _require_admin(actor: User) -> None:
    if actor is None or actor.role != "admin":
        raise AccessDenied("Only an admin can manage accounts.")


def _get(s, user_id: str) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise AccountError("unknown_user", "No such user.")
    return user


def _check_supervisor(s, supervisor_id: str) -> None:
    sup = s.get(User, supervisor_id)
    if sup is None or sup.role != "supervisor":
        raise AccountError("not_a_supervisor", "That account is not a supervisor.")
