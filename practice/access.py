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
    row = db.execute(visible_sessions(viewer).where(PracticeSession.id == session_id)).scalar_one_or_none()
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
