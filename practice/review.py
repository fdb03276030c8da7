"""Review: sharing a session with a supervisor, comments on turns, principle-score
assessments (override with a reason, or agreement with the coach), and how often coach
and supervisors agree per principle over time.

Access (checked here, through ``practice.access``):
- only the practitioner who held a session shares or unshares it, and only with a
  supervisor account;
- comments and assessments come from a reviewer (``access.can_review``: a supervisor it
  was shared with, or the educator of the class it was held in);
- everyone who may view the session (``access.require_view``: the owner and its
  reviewers) reads the comments and assessments.

An *assessment* is one ``ScoreOverride`` row: the reviewer's score for one principle.
If it differs from the coach's (rounded) score, a reason is required and it is shown as
an override; if it equals the coach's score it records agreement (reason optional), so
the agreement view counts both, not only the disagreements.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from coach.rubric import load_rubric
from practice.access import AccessDenied, can_review, require_owner, require_view, visible_sessions
from practice.db import (
    Classroom,
    Comment,
    Database,
    PracticeSession,
    ReportRow,
    ScoreOverride,
    SessionShare,
    User,
    latest_report_json,
    parse_report,
)

MAX_COMMENT_CHARS = 4000
MAX_REASON_CHARS = 2000
MIN_REASON_CHARS = 3
AGREE_TOLERANCE = 0.5

Period = Literal["month", "week"]


class ReviewError(ValueError):
    """Bad review input. ``code`` is a translation key suffix (``review.error.<code>``)."""

    def __init__(self, code: str, message: str = ""):
        self.code = code
        super().__init__(message or code)


@dataclass(frozen=True)
class CommentView:
    id: int
    turn_idx: int | None
    author_id: str
    author_name: str
    author_role: str
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class AssessmentView:
    principle_id: str
    author_id: str
    author_name: str
    coach_score: float | None  # the coach's unrounded score when it was assessed
    coach_rounded: int | None
    score: int
    reason: str
    created_at: dt.datetime

    @property
    def is_override(self) -> bool:
        return self.coach_rounded is None or self.score != self.coach_rounded

    @property
    def agrees(self) -> bool:
        return (
            self.coach_score is not None and abs(self.score - self.coach_score) <= AGREE_TOLERANCE
        )


@dataclass(frozen=True)
class ReviewItem:
    """A session in a reviewer's queue. ``owner_name`` is the real name; pages decide
    whether to show it or a pseudonym (``class_id`` is the salt)."""

    session_id: str
    title: str
    owner_id: str
    owner_name: str
    class_id: str | None
    status: str
    source: str
    updated_at: dt.datetime
    has_report: bool
    comments: int
    assessments: int


@dataclass(frozen=True)
class AgreementRow:
    principle_id: str
    period: str  # "2026-11" (month) or "2026-W47" (week); "all" for the totals
    n: int
    agree: int
    mean_abs_diff: float

    @property
    def agree_rate(self) -> float:
        return self.agree / self.n if self.n else 0.0


@dataclass(frozen=True)
class ReviewHeader:
    report: dict[str, Any] | None
    owner_name: str
    class_id: str | None
    source: str


def latest_report(s: OrmSession, session_id: str) -> dict[str, Any] | None:
    return parse_report(latest_report_json(s, session_id))


def coach_principle(report: dict[str, Any] | None, principle_id: str) -> dict[str, Any] | None:
    for p in (report or {}).get("principles") or []:
        if isinstance(p, dict) and p.get("id") == principle_id:
            return p
    return None


@functools.cache
def principle_titles(lang: str) -> dict[str, str]:
    """Principle id -> title in ``lang`` from the rubric (best effort: {} if unavailable)."""
    try:
        return {p.id: p.title for p in load_rubric(lang).principles}
    except Exception:
        return {}


def period_key(when: dt.datetime, period: Period) -> str:
    if period == "week":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    return when.strftime("%Y-%m")


class ReviewService:
    def __init__(self, db: Database):
        self.db = db

    # -- sharing ---------------------------------------------------------------------
    def share(self, viewer: User, session_id: str, supervisor_id: str | None = None) -> User:
        """Share one of my sessions with a supervisor (default: my assigned supervisor)."""
        with self.db.Session() as s:
            require_owner(s, viewer, session_id)
            target_id = supervisor_id or viewer.supervisor_id
            if target_id is None:
                raise ReviewError("no_supervisor", "You have no supervisor assigned.")
            sup = s.get(User, target_id)
            if sup is None or sup.role != "supervisor":
                raise ReviewError("not_a_supervisor", "That account is not a supervisor.")
            exists = s.execute(
                select(SessionShare.id).where(
                    SessionShare.session_id == session_id, SessionShare.supervisor_id == target_id
                )
            ).first()
            if exists is None:
                s.add(SessionShare(session_id=session_id, supervisor_id=target_id))
                s.commit()
            return sup

    def unshare(self, viewer: User, session_id: str, supervisor_id: str) -> None:
        with self.db.Session() as s:
            require_owner(s, viewer, session_id)
            for row in s.execute(
                select(SessionShare).where(
                    SessionShare.session_id == session_id,
                    SessionShare.supervisor_id == supervisor_id,
                )
            ).scalars():
                s.delete(row)
            s.commit()

    def shared_with(self, viewer: User, session_id: str) -> list[User]:
        """The supervisors a session is shared with (the owner's view)."""
        with self.db.Session() as s:
            require_owner(s, viewer, session_id)
            return list(
                s.execute(
                    select(User)
                    .join(SessionShare, SessionShare.supervisor_id == User.id)
                    .where(SessionShare.session_id == session_id)
                    .order_by(User.display_name)
                ).scalars()
            )

    # -- the queue ---------------------------------------------------------------------
    def queue(self, viewer: User) -> list[ReviewItem]:
        """Sessions the viewer may review: shared with them, or held in their classes."""
        with self.db.Session() as s:
            conditions = []
            if viewer.role == "supervisor":
                conditions.append(
                    PracticeSession.id.in_(
                        select(SessionShare.session_id).where(
                            SessionShare.supervisor_id == viewer.id
                        )
                    )
                )
            elif viewer.role == "educator":
                conditions.append(
                    PracticeSession.class_id.in_(
                        select(Classroom.id).where(Classroom.educator_id == viewer.id)
                    )
                )
            else:
                return []
            # visible_sessions keeps the data-layer rule authoritative
            stmt = (
                visible_sessions(viewer)
                .where(*conditions)
                .where(PracticeSession.owner_id != viewer.id)
                .order_by(PracticeSession.updated_at.desc())
            )
            return self._items(s, list(s.execute(stmt).scalars()))

    def own(self, viewer: User) -> list[ReviewItem]:
        """My own sessions, with how much review they have had."""
        with self.db.Session() as s:
            stmt = (
                visible_sessions(viewer)
                .where(PracticeSession.owner_id == viewer.id)
                .order_by(PracticeSession.updated_at.desc())
            )
            return self._items(s, list(s.execute(stmt).scalars()))

    @staticmethod
    def _items(s: OrmSession, rows: list[PracticeSession]) -> list[ReviewItem]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        owners = {
            u.id: u
            for u in s.execute(
                select(User).where(User.id.in_({r.owner_id for r in rows}))
            ).scalars()
        }
        reported = set(
            s.execute(select(ReportRow.session_id).where(ReportRow.session_id.in_(ids))).scalars()
        )
        n_comments: dict[str, int] = defaultdict(int)
        for sid in s.execute(
            select(Comment.session_id).where(Comment.session_id.in_(ids))
        ).scalars():
            n_comments[sid] += 1
        n_assess: dict[str, int] = defaultdict(int)
        for sid in s.execute(
            select(ScoreOverride.session_id).where(ScoreOverride.session_id.in_(ids))
        ).scalars():
            n_assess[sid] += 1
        return [
            ReviewItem(
                session_id=r.id,
                title=r.title or r.scenario_id,
                owner_id=r.owner_id,
                owner_name=owners[r.owner_id].display_name if r.owner_id in owners else "?",
                class_id=r.class_id,
                status=r.status,
                source=r.source,
                updated_at=r.updated_at,
                has_report=r.id in reported,
                comments=n_comments[r.id],
                assessments=n_assess[r.id],
            )
            for r in rows
        ]

    def header(self, viewer: User, session_id: str) -> ReviewHeader:
        """What the review page shows above a transcript (access checked)."""
        with self.db.Session() as s:
            row = require_view(s, viewer, session_id)
            owner = s.get(User, row.owner_id)
            return ReviewHeader(
                report=latest_report(s, session_id),
                owner_name=owner.display_name if owner else "?",
                class_id=row.class_id,
                source=row.source,
            )

    def can_review(self, viewer: User, session_id: str) -> bool:
        with self.db.Session() as s:
            return can_review(s, viewer, session_id)

    # -- comments ------------------------------------------------------------------------
    def add_comment(
        self, viewer: User, session_id: str, text: str, turn_idx: int | None = None
    ) -> CommentView:
        cleaned = _clean(text, MAX_COMMENT_CHARS, "comment")
        with self.db.Session() as s:
            row = require_view(s, viewer, session_id)
            if not can_review(s, viewer, session_id):
                raise AccessDenied("Only a reviewer of this session can comment on it.")
            if turn_idx is not None and not 0 <= turn_idx < len(row.turns):
                raise ReviewError("bad_turn", "There is no such turn.")
            c = Comment(session_id=session_id, turn_idx=turn_idx, author_id=viewer.id, text=cleaned)
            s.add(c)
            s.commit()
            return _comment_view(c, viewer)

    def comments(self, viewer: User, session_id: str) -> list[CommentView]:
        with self.db.Session() as s:
            require_view(s, viewer, session_id)
            rows = s.execute(
                select(Comment, User)
                .join(User, User.id == Comment.author_id)
                .where(Comment.session_id == session_id)
                .order_by(Comment.created_at, Comment.id)
            ).all()
            return [_comment_view(c, u) for c, u in rows]

    # -- assessments ----------------------------------------------------------------------
    def assess(
        self, viewer: User, session_id: str, principle_id: str, score: int, reason: str = ""
    ) -> AssessmentView:
        """Record the reviewer's score for a principle. A score that differs from the
        coach's needs a reason (at least a few words)."""
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise ReviewError("bad_score", "A score is a whole number from 1 to 5.")
        reason = (reason or "").strip()
        if len(reason) > MAX_REASON_CHARS:
            raise ReviewError("reason_long", "The reason is too long.")
        with self.db.Session() as s:
            report = _reviewable_report(s, viewer, session_id)
            coach = coach_principle(report, principle_id)
            if coach is None:
                raise ReviewError(
                    "unknown_principle", f"No principle {principle_id!r} in the report."
                )
            coach_raw = _float(coach.get("raw", coach.get("score")))
            coach_rounded = _int(coach.get("score"))
            if score != coach_rounded and len(reason) < MIN_REASON_CHARS:
                raise ReviewError(
                    "reason_required", "Say why you score differently from the coach."
                )
            row = ScoreOverride(
                session_id=session_id,
                principle_id=principle_id,
                author_id=viewer.id,
                coach_score=coach_raw,
                score=score,
                reason=reason,
            )
            s.add(row)
            s.commit()
            return _assessment_view(row, viewer, coach_rounded)

    def confirm_coach(self, viewer: User, session_id: str) -> int:
        """Agree with the coach on every principle the viewer has not assessed yet.
        Returns how many were recorded."""
        with self.db.Session() as s:
            report = _reviewable_report(s, viewer, session_id)
            done = set(
                s.execute(
                    select(ScoreOverride.principle_id).where(
                        ScoreOverride.session_id == session_id,
                        ScoreOverride.author_id == viewer.id,
                    )
                ).scalars()
            )
            n = 0
            for p in report.get("principles") or []:
                pid, rounded = p.get("id"), _int(p.get("score"))
                if pid in done or rounded is None:
                    continue
                s.add(
                    ScoreOverride(
                        session_id=session_id,
                        principle_id=pid,
                        author_id=viewer.id,
                        coach_score=_float(p.get("raw", rounded)),
                        score=rounded,
                        reason="",
                    )
                )
                n += 1
            s.commit()
            return n

    def assessments(
        self, viewer: User, session_id: str, *, latest_only: bool = True
    ) -> list[AssessmentView]:
        """Assessments of a session; by default the latest per (reviewer, principle)."""
        with self.db.Session() as s:
            require_view(s, viewer, session_id)
            report = latest_report(s, session_id)
            rows = s.execute(
                select(ScoreOverride, User)
                .join(User, User.id == ScoreOverride.author_id)
                .where(ScoreOverride.session_id == session_id)
                .order_by(ScoreOverride.created_at, ScoreOverride.id)
            ).all()
            views = [
                _assessment_view(
                    o, u, _int((coach_principle(report, o.principle_id) or {}).get("score"))
                )
                for o, u in rows
            ]
        if not latest_only:
            return views
        latest: dict[tuple[str, str], AssessmentView] = {}
        for v in views:
            latest[(v.author_id, v.principle_id)] = v
        return list(latest.values())

    def overrides(self, viewer: User, session_id: str) -> list[AssessmentView]:
        """Only the latest assessments that differ from the coach (what the practitioner
        should notice)."""
        return [a for a in self.assessments(viewer, session_id) if a.is_override]

    # -- agreement ------------------------------------------------------------------------
    def agreement(self, viewer: User, period: Period = "month") -> list[AgreementRow]:
        """Per principle and period: how many assessments, how many agree with the coach
        (|reviewer - coach| <= 0.5) and the mean absolute difference. Counts the latest
        assessment per (session, reviewer, principle). Supervisors and educators see the
        sessions they may view; an admin sees the numbers (no text) for everyone."""
        if viewer.role not in ("supervisor", "educator", "admin"):
            raise AccessDenied("Only supervisors, educators and admins see agreement.")
        with self.db.Session() as s:
            stmt = select(ScoreOverride).where(ScoreOverride.coach_score.is_not(None))
            if viewer.role != "admin":
                visible = visible_sessions(viewer).with_only_columns(PracticeSession.id)
                stmt = stmt.where(ScoreOverride.session_id.in_(visible))
            rows = list(
                s.execute(stmt.order_by(ScoreOverride.created_at, ScoreOverride.id)).scalars()
            )
        latest: dict[tuple[str, str, str], ScoreOverride] = {}
        for r in rows:
            latest[(r.session_id, r.author_id, r.principle_id)] = r
        buckets: dict[tuple[str, str], list[float]] = defaultdict(list)
        for r in latest.values():
            diff = abs(r.score - float(r.coach_score or 0.0))
            buckets[(r.principle_id, period_key(r.created_at, period))].append(diff)
            buckets[(r.principle_id, "all")].append(diff)
        out = [
            AgreementRow(
                principle_id=pid,
                period=per,
                n=len(diffs),
                agree=sum(1 for d in diffs if d <= AGREE_TOLERANCE + 1e-9),
                mean_abs_diff=round(sum(diffs) / len(diffs), 3),
            )
            for (pid, per), diffs in buckets.items()
        ]
        return sorted(out, key=lambda r: (r.principle_id, r.period))


def _reviewable_report(s: OrmSession, viewer: User, session_id: str) -> dict[str, Any]:
    """The coach's report of a session the viewer may review (assessments start here)."""
    require_view(s, viewer, session_id)
    if not can_review(s, viewer, session_id):
        raise AccessDenied("Only a reviewer of this session can assess it.")
    report = latest_report(s, session_id)
    if report is None:
        raise ReviewError("no_report", "The coach has not scored this session yet.")
    return report


def _clean(text: str, limit: int, what: str) -> str:
    cleaned = "".join(
        ch for ch in (text or "") if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)
    )
    cleaned = cleaned.strip()
    if not cleaned:
        raise ReviewError(f"{what}_empty", "Write something first.")
    if len(cleaned) > limit:
        raise ReviewError(f"{what}_long", f"At most {limit} characters.")
    return cleaned


def _float(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _int(v: Any) -> int | None:
    try:
        return None if v is None else round(float(v))
    except (TypeError, ValueError):
        return None


def _comment_view(c: Comment, author: User) -> CommentView:
    return CommentView(
        id=c.id,
        turn_idx=c.turn_idx,
        author_id=author.id,
        author_name=author.display_name,
        author_role=author.role,
        text=c.text,
        created_at=c.created_at,
    )


def _assessment_view(o: ScoreOverride, author: User, coach_rounded: int | None) -> AssessmentView:
    return AssessmentView(
        principle_id=o.principle_id,
        author_id=author.id,
        author_name=author.display_name,
        coach_score=o.coach_score,
        coach_rounded=coach_rounded,
        score=o.score,
        reason=o.reason,
        created_at=o.created_at,
    )
