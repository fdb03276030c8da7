"""Privacy: export all of a user's data, delete it, and purge old transcripts.

    from practice.privacy import export_user_data, delete_user_data, purge_expired
    data = export_user_data(db, user)              # a JSON-ready dict ("export my data")
    text = export_json(db, user)                   # the same as a JSON string
    counts = delete_user_data(db, user, settings=settings)   # "delete my data"
    n = purge_expired(db, retention_days=90, settings=settings)  # retention

    python -m practice.privacy purge               # RELPRACTICE_RETENTION_DAYS, now
    python -m practice.privacy export USERNAME > data.json

What "my data" is: the user's account fields (never the password hash), every session
they own with its turns, reports, comments, score overrides and shares, the comments
and overrides they wrote on other people's sessions, and their class memberships.
Deleting removes all of that, and the deleted sessions' entries in the semantic-search
index (``practice.search``). ``delete_account=True`` also removes the account row itself.

Retention: with ``RELPRACTICE_RETENTION_DAYS=N`` (N > 0) sessions whose last activity is
older than N days are deleted with everything attached to them, at start-up
(``practice.services.build_services`` calls :func:`purge_on_startup`) and on demand
(Settings page for admins, or the CLI above). 0 keeps transcripts forever.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_, select, update

from practice.db import (
    ClassMember,
    Classroom,
    Comment,
    Database,
    PracticeSession,
    ReportRow,
    ScoreOverride,
    SessionShare,
    TurnRow,
    User,
    utcnow,
)
from practice.migrate import upgrade
from practice.search import SearchIndex
from practice.settings import load_settings

log = logging.getLogger(__name__)

EXPORT_FORMAT = "relpractice-export/1"
_USER_FIELDS = (
    "id",
    "username",
    "display_name",
    "role",
    "supervisor_id",
    "ui_language",
    "created_at",
)


def _value(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return v


def _row(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    names = list(fields) if fields is not None else [c.key for c in obj.__table__.columns]
    return {name: _value(getattr(obj, name)) for name in names}


def _parsed(out: dict[str, Any], raw_key: str, key: str) -> dict[str, Any]:
    """Replace a stored JSON text by its parsed value (kept as text if it does not parse)."""
    raw = out.pop(raw_key)
    try:
        out[key] = json.loads(raw)
    except (TypeError, ValueError):
        out[raw_key] = raw
    return out


def _report(row: ReportRow) -> dict[str, Any]:
    return _parsed(_row(row), "report_json", "report")


def _session(row: PracticeSession) -> dict[str, Any]:
    return _parsed(_row(row), "state_json", "state")


def export_user_data(db: Database, user: User) -> dict[str, Any]:
    """Everything stored about ``user``, as JSON-ready data."""
    with db.Session() as s:
        me = s.get(User, user.id)
        if me is None:
            raise LookupError("unknown user")
        sessions = list(
            s.execute(
                select(PracticeSession)
                .where(PracticeSession.owner_id == me.id)
                .order_by(PracticeSession.created_at)
            ).scalars()
        )
        ids = [r.id for r in sessions]

        def children(model: Any) -> dict[str, list[Any]]:
            grouped: dict[str, list[Any]] = {sid: [] for sid in ids}
            if ids:
                for child in s.execute(
                    select(model).where(model.session_id.in_(ids)).order_by(model.id)
                ).scalars():
                    grouped[child.session_id].append(child)
            return grouped

        turns = children(TurnRow)
        reports = children(ReportRow)
        comments = children(Comment)
        overrides = children(ScoreOverride)
        shares = children(SessionShare)
        written_comments = s.execute(
            select(Comment).where(Comment.author_id == me.id, Comment.session_id.not_in(ids))
        ).scalars()
        written_overrides = s.execute(
            select(ScoreOverride).where(
                ScoreOverride.author_id == me.id, ScoreOverride.session_id.not_in(ids)
            )
        ).scalars()
        memberships = s.execute(select(ClassMember).where(ClassMember.user_id == me.id)).scalars()
        classrooms = s.execute(select(Classroom).where(Classroom.educator_id == me.id)).scalars()
        return {
            "format": EXPORT_FORMAT,
            "exported_at": utcnow().isoformat(),
            "user": _row(me, _USER_FIELDS),
            "sessions": [
                {
                    **_session(r),
                    "turns": [_row(t) for t in turns[r.id]],
                    "reports": [_report(x) for x in reports[r.id]],
                    "comments": [_row(c) for c in comments[r.id]],
                    "score_overrides": [_row(o) for o in overrides[r.id]],
                    "shared_with": [_row(x) for x in shares[r.id]],
                }
                for r in sessions
            ],
            "comments_written": [_row(c) for c in written_comments],
            "score_overrides_written": [_row(o) for o in written_overrides],
            "class_memberships": [_row(m) for m in memberships],
            "classrooms_taught": [_row(c) for c in classrooms],
        }


def export_json(db: Database, user: User) -> str:
    return json.dumps(export_user_data(db, user), ensure_ascii=False, indent=2)


# --------------------------------------------------------------------------- deleting


def _delete_sessions(s: Any, ids: list[str]) -> dict[str, int]:
    """Delete sessions and everything attached to them (explicitly, not relying on the
    database's ON DELETE CASCADE). Returns counts per kind."""
    counts = {"sessions": 0, "turns": 0, "reports": 0, "comments": 0, "score_overrides": 0}
    counts["shares"] = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        # branches of these sessions point at them: unlink first (branches of a user's
        # sessions are their own and are in ``ids`` anyway)
        s.execute(
            update(PracticeSession)
            .where(PracticeSession.parent_id.in_(chunk))
            .values(parent_id=None)
        )
        s.execute(
            update(Classroom)
            .where(Classroom.fishbowl_session_id.in_(chunk))
            .values(fishbowl_session_id=None)
        )
        for key, model in (
            ("turns", TurnRow),
            ("reports", ReportRow),
            ("comments", Comment),
            ("score_overrides", ScoreOverride),
            ("shares", SessionShare),
        ):
            counts[key] += s.execute(delete(model).where(model.session_id.in_(chunk))).rowcount
        counts["sessions"] += s.execute(
            delete(PracticeSession).where(PracticeSession.id.in_(chunk))
        ).rowcount
    return counts


def _unindex(session_ids: list[str], db: Database, settings: Any) -> int:
    """Remove sessions from the semantic-search index. Returns how many removals failed."""
    if not session_ids or settings is None:
        return 0
    from pathlib import Path

    if (
        not getattr(settings, "chroma_host", None)
        and not (Path(settings.data_dir) / "chroma").is_dir()
    ):
        return 0  # no index was ever created here
    try:
        index = SearchIndex.for_settings(db, settings)
    except Exception:
        log.exception("search index unavailable; %d sessions not removed from it", len(session_ids))
        return len(session_ids)
    failed = 0
    for sid in session_ids:
        try:
            index.remove_session(sid)
        except Exception:
            log.exception("could not remove session %s from the search index", sid)
            failed += 1
    return failed


def delete_user_data(
    db: Database, user: User, *, settings: Any = None, delete_account: bool = False
) -> dict[str, int]:
    """Delete everything ``user`` owns or wrote (see the module docstring). One
    transaction: either all of it is gone or nothing is. Returns counts."""
    with db.Session() as s:
        me = s.get(User, user.id)
        if me is None:
            raise LookupError("unknown user")
        ids = list(
            s.execute(select(PracticeSession.id).where(PracticeSession.owner_id == me.id)).scalars()
        )
        counts = _delete_sessions(s, ids)
        counts["comments"] += s.execute(delete(Comment).where(Comment.author_id == me.id)).rowcount
        counts["score_overrides"] += s.execute(
            delete(ScoreOverride).where(ScoreOverride.author_id == me.id)
        ).rowcount
        counts["class_memberships"] = s.execute(
            delete(ClassMember).where(ClassMember.user_id == me.id)
        ).rowcount
        counts["account"] = 0
        if delete_account:
            s.execute(delete(SessionShare).where(SessionShare.supervisor_id == me.id))
            s.execute(update(User).where(User.supervisor_id == me.id).values(supervisor_id=None))
            mine = select(Classroom.id).where(Classroom.educator_id == me.id)
            s.execute(
                update(PracticeSession)
                .where(PracticeSession.class_id.in_(mine))
                .values(class_id=None)
            )
            s.execute(delete(ClassMember).where(ClassMember.class_id.in_(mine)))
            s.execute(delete(Classroom).where(Classroom.educator_id == me.id))
            s.delete(me)
            counts["account"] = 1
        s.commit()
    counts["index_failures"] = _unindex(ids, db, settings)
    log.info("deleted the data of user %s: %s", user.id, counts)
    return counts


def expired_session_ids(
    db: Database, retention_days: int, *, now: dt.datetime | None = None
) -> list[str]:
    if retention_days <= 0:
        return []
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    with db.Session() as s:
        return list(
            s.execute(
                select(PracticeSession.id).where(
                    or_(
                        PracticeSession.updated_at < cutoff,
                        (PracticeSession.updated_at.is_(None))
                        & (PracticeSession.created_at < cutoff),
                    )
                )
            ).scalars()
        )


def purge_expired(
    db: Database, retention_days: int, *, settings: Any = None, now: dt.datetime | None = None
) -> int:
    """Delete sessions whose last activity is older than ``retention_days`` (0: keep all).
    Returns the number of sessions deleted."""
    ids = expired_session_ids(db, retention_days, now=now)
    if not ids:
        return 0
    with db.Session() as s:
        counts = _delete_sessions(s, ids)
        s.commit()
    _unindex(ids, db, settings)
    log.info("retention (%d days): purged %d sessions", retention_days, counts["sessions"])
    return counts["sessions"]


def purge_on_startup(db: Database, settings: Any) -> int:
    """The start-up purge; never stops the app from starting."""
    days = int(getattr(settings, "retention_days", 0) or 0)
    if days <= 0:
        return 0
    try:
        return purge_expired(db, days, settings=settings)
    except Exception:
        log.exception("retention purge failed; transcripts were kept")
        return 0


def main(argv: list[str] | None = None) -> int:

    ap = argparse.ArgumentParser(prog="python -m practice.privacy")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("purge", help="delete transcripts older than the retention period")
    p.add_argument("--days", type=int, help="default: RELPRACTICE_RETENTION_DAYS")
    e = sub.add_parser("export", help="print one user's data as JSON")
    e.add_argument("username")
    args = ap.parse_args(argv)
    settings = load_settings()
    db = Database(settings.database_url)
    try:
        upgrade(db)
        if args.cmd == "purge":
            days = args.days if args.days is not None else settings.retention_days
            if days <= 0:
                print("retention is off (RELPRACTICE_RETENTION_DAYS is 0): nothing purged")
                return 0
            print(
                f"purged {purge_expired(db, days, settings=settings)} sessions older than {days} days"
            )
        else:
            with db.Session() as s:
                user = s.execute(
                    select(User).where(User.username == args.username)
                ).scalar_one_or_none()
            if user is None:
                print(f"no user {args.username!r}", file=sys.stderr)
                return 1
            print(export_json(db, user))
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
