"""Who may see which practice session. Enforced here, in the data layer.

Rules (transcripts are performance data about staff):
- everyone sees their own sessions;
- a supervisor also sees sessions that a practitioner explicitly shared with them;
- an educator also sees the sessions held in their own classrooms (shown anonymised
  on shared screens by the pages);
- an admin manages accounts but sees no one else's transcripts.

Every service function that returns or changes a session calls ``visible_sessions``
or ``require_view`` / ``require_owner``; pages never query sessions directly.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session as OrmSession

from practice.db import Classroom, PracticeSession, SessionShare, User

ROLES = ("practitioner", "supervisor", "educator", "admin")


class AccessDenied(PermissionError):
    """The viewer may not see or change this. The message is safe to show."""


def visible_sessions(viewer: User) -> Select[tuple[PracticeSession]]:
    conditions = [PracticeSession.owner_id == viewer.id]
    if viewer.role == "supervisor":
        shared = select(SessionShare.session_id).where(SessionShare.supervisor_id == viewer.id)
        conditions.append(PracticeSession.id.in_(shared))
    if viewer.role == "educator":
        mine = select(Classroom.id).where(Classroom.educator_id == viewer.id)
        conditions.append(PracticeSession.class_id.in_(mine))
    return select(PracticeSession).where(or_(*conditions))


def can_view(db: OrmSession, viewer: User, session_id: str) -> bool:
    stmt = visible_sessions(viewer).where(PracticeSession.id == session_id)
    return db.execute(stmt).first() is not None


def require_view(db: OrmSession, viewer: User, session_id: str) -> PracticeSession:
    row = db.execute(
        visible_sessions(viewer).where(PracticeSession.id == session_id)
    ).scalar_one_or_none()
    if row is None:
        # the same message whether it does not exist or is not visible: no probing
        raise AccessDenied("Session not found, or you do not have access to it.")
    return row


def require_owner(db: OrmSession, viewer: User, session_id: str) -> PracticeSession:
    row = db.get(PracticeSession, session_id)
    if row is None or row.owner_id != viewer.id:
        raise AccessDenied("Only the practitioner who held this session can change it.")
    return row


def can_review(db: OrmSession, viewer: User, session_id: str) -> bool:
    """Comment and override: a supervisor it was shared with, or the class's educator."""
    if viewer.role == "supervisor":
        q = select(SessionShare.id).where(
            SessionShare.session_id == session_id, SessionShare.supervisor_id == viewer.id
        )
        return db.execute(q).first() is not None
    if viewer.role == "educator":
        q = (
            select(PracticeSession.id)
            .join(Classroom, Classroom.id == PracticeSession.class_id)
            .where(PracticeSession.id == session_id, Classroom.educator_id == viewer.id)
        )
        return db.execute(q).first() is not None
    return False


def anonymise(name: str, salt: str, label: str = "Student") -> str:
    """A stable pseudonym for ``name`` on shared screens: ``"Student 7"``-style.

    The number comes from an HMAC of the name keyed by ``salt`` (use the class id), so it
    is the same on every screen and every rerun of that class, differs between classes,
    and cannot be turned back into the name without the salt. Numbers run 1-999;
    use :func:`anonymise_all` when a whole list must be collision-free.
    """
    digest = hmac.new(salt.encode("utf-8"), name.strip().lower().encode("utf-8"), hashlib.sha256)
    return f"{label} {int.from_bytes(digest.digest()[:8], 'big') % 999 + 1}".strip()


def anonymise_all(names: list[str], salt: str, label: str = "Student") -> dict[str, str]:
    """Collision-free pseudonyms for a list of names: each keeps its :func:`anonymise`
    number unless another name already has it, then takes the next free one."""
    if len(set(names)) > 999:
        raise ValueError("at most 999 names can be anonymised in one list")
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in sorted(set(names), key=lambda n: anonymise(n, salt, "") + "\0" + n):
        pseudo = anonymise(name, salt, label)
        number = int(pseudo.rsplit(" ", 1)[-1])
        while pseudo in taken:
            number = number % 999 + 1
            pseudo = f"{label} {number}".strip()
        taken.add(pseudo)
        out[name] = pseudo
    return out
