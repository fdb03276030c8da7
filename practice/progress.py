"""A practitioner's progress: principle scores over their sessions, the goals from their
supervision notes, and "try again from turn N" branches compared side by side.

Only the viewer's *own* sessions count (``access.visible_sessions`` + owner filter):
progress is personal, even for a supervisor who can also see shared sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from practice.access import AccessDenied, require_view, visible_sessions
from practice.db import (
    Database,
    PracticeSession,
    ScoreOverride,
    TurnRow,
    User,
    latest_report_json,
    latest_reports,
    parse_report,
)


@dataclass(frozen=True)
class ScorePoint:
    session_id: str
    title: str
    when: dt.datetime
    principle_id: str
    principle_title: str
    score: int
    raw: float
    overall: float | None
    reviewer_score: int | None = None  # the latest supervisor assessment, if any


@dataclass(frozen=True)
class Goal:
    session_id: str
    title: str
    when: dt.datetime
    next_goal: str
    reflective_questions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BranchSide:
    session_id: str
    title: str
    when: dt.datetime
    branch_turn: int | None
    parent_id: str | None
    status: str
    overall: float | None
    turns: list[tuple[str, str]]  # (speaker, text)


class ProgressService:
    def __init__(self, db: Database):
        self.db = db

    def _own_with_reports(self, viewer: User) -> list[tuple[PracticeSession, dict[str, Any]]]:
        with self.db.Session() as s:
            sessions = list(
                s.execute(
                    visible_sessions(viewer)
                    .where(PracticeSession.owner_id == viewer.id)
                    .order_by(PracticeSession.created_at)
                ).scalars()
            )
            latest = latest_reports(s, [r.id for r in sessions])
        out = []
        for row in sessions:
            report = latest.get(row.id)
            if report is not None:
                out.append((row, report))
        return out

    def history(self, viewer: User) -> list[ScorePoint]:
        """One point per (own scored session, principle), oldest first."""
        pairs = self._own_with_reports(viewer)
        reviewer: dict[tuple[str, str], int] = {}
        if pairs:
            with self.db.Session() as s:
                for o in s.execute(
                    select(ScoreOverride)
                    .where(ScoreOverride.session_id.in_([r.id for r, _ in pairs]))
                    .order_by(ScoreOverride.created_at, ScoreOverride.id)
                ).scalars():
                    reviewer[(o.session_id, o.principle_id)] = o.score
        points = []
        for row, report in pairs:
            if report.get("status") not in (None, "ok"):
                continue
            for p in report.get("principles") or []:
                try:
                    score, raw = int(p["score"]), float(p.get("raw", p["score"]))
                except (KeyError, TypeError, ValueError):
                    continue
                points.append(
                    ScorePoint(
                        session_id=row.id,
                        title=row.title or row.scenario_id,
                        when=row.created_at,
                        principle_id=str(p.get("id")),
                        principle_title=str(p.get("title") or p.get("id")),
                        score=score,
                        raw=raw,
                        overall=report.get("overall"),
                        reviewer_score=reviewer.get((row.id, str(p.get("id")))),
                    )
                )
        return points

    def goals(self, viewer: User) -> list[Goal]:
        """The next goal (and reflective questions) of each own report, newest first."""
        goals = []
        for row, report in self._own_with_reports(viewer):
            notes = report.get("notes") or {}
            goal = (notes.get("next_goal") or "").strip() if isinstance(notes, dict) else ""
            if goal:
                goals.append(
                    Goal(
                        session_id=row.id,
                        title=row.title or row.scenario_id,
                        when=row.created_at,
                        next_goal=goal,
                        reflective_questions=[
                            str(q) for q in notes.get("reflective_questions") or []
                        ],
                    )
                )
        return list(reversed(goals))

    def family(self, viewer: User, session_id: str) -> list[BranchSide]:
        """The session's root and every branch below it (own sessions only), oldest first."""
        with self.db.Session() as s:
            row = require_view(s, viewer, session_id)
            if row.owner_id != viewer.id:
                raise AccessDenied("Only the practitioner who held this session sees its branches.")
            own = {
                r.id: r
                for r in s.execute(
                    visible_sessions(viewer).where(PracticeSession.owner_id == viewer.id)
                ).scalars()
            }
            root = row
            seen = {root.id}
            while root.parent_id and root.parent_id in own and root.parent_id not in seen:
                root = own[root.parent_id]
                seen.add(root.id)
            children: dict[str, list[PracticeSession]] = {}
            for r in own.values():
                if r.parent_id:
                    children.setdefault(r.parent_id, []).append(r)
            members, stack = [], [root]
            visited: set[str] = set()
            while stack:
                node = stack.pop()
                if node.id in visited:
                    continue
                visited.add(node.id)
                members.append(node)
                stack.extend(children.get(node.id, []))
            members.sort(key=lambda r: r.created_at)
            return [self._side(s, r) for r in members]

    def compare(self, viewer: User, left_id: str, right_id: str) -> tuple[BranchSide, BranchSide]:
        """Two of the viewer's own sessions side by side (turns + overall score)."""
        with self.db.Session() as s:
            sides = []
            for sid in (left_id, right_id):
                row = require_view(s, viewer, sid)
                if row.owner_id != viewer.id:
                    raise AccessDenied("Session not found, or you do not have access to it.")
                sides.append(self._side(s, row))
            return sides[0], sides[1]

    @staticmethod
    def _side(s, row: PracticeSession) -> BranchSide:
        report = parse_report(latest_report_json(s, row.id))
        turns = [
            (t.speaker, t.text)
            for t in s.execute(
                select(TurnRow).where(TurnRow.session_id == row.id).order_by(TurnRow.idx)
            ).scalars()
        ]
        return BranchSide(
            session_id=row.id,
            title=row.title or row.scenario_id,
            when=row.created_at,
            branch_turn=row.branch_turn,
            parent_id=row.parent_id,
            status=row.status,
            overall=(report or {}).get("overall"),
            turns=turns,
        )
