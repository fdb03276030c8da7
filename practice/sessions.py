"""Practice sessions: start, talk, end, resume, branch. The one service the pages call.

Durability rule: the practitioner's turn is committed *before* the citizen's reply
is produced, and the reply (with the engine state) is committed *before* it is
shown. If anything fails in between (a dead LLM endpoint, a crash, a killed
process), the practitioner's words are already stored and the session shows a
pending turn; ``reply_pending`` produces the missing reply on resume.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from base.models import MAX_TURN_CHARS, SessionInfo, Transcript, Turn
from citizen.engine import Citizen, start
from citizen.library import Library
from citizen.schema import Scenario
from practice.access import AccessDenied, require_owner, require_view, visible_sessions
from practice.db import (
    Database,
    PracticeSession,
    ReportRow,
    TurnRow,
    User,
    latest_report_json,
    utcnow,
)

MAX_TURNS_PER_SESSION = 400


class SessionError(Exception):
    """A problem the practitioner can act on. The message is safe to show."""


@dataclass
class SessionView:
    info: SessionInfo
    turns: list[Turn]
    state_json: str
    pending: str | None = None  # a practitioner turn still waiting for its reply
    report_json: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def transcript(self) -> Transcript:
        return Transcript(
            language=self.info.language, scenario_id=self.info.scenario_id, turns=self.turns
        )


def clean_text(text: str) -> str:
    """Normalise a typed message: strip control characters (keep newlines and tabs),
    collapse surrounding whitespace, refuse empty or over-long input."""
    cleaned = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    cleaned = cleaned.replace("\u2028", "\n").replace("\u2029", "\n").strip()
    if not cleaned:
        raise SessionError("empty")
    if len(cleaned) > MAX_TURN_CHARS:
        raise SessionError(f"too_long:{MAX_TURN_CHARS}")
    return cleaned


class PracticeService:
    """Stateless apart from per-session locks; safe to share between Streamlit sessions."""

    def __init__(
        self,
        db: Database,
        library: Callable[[], Library] | Library,
        *,
        renderer_factory: Callable[[str], Any] | None = None,
        scorer: Callable[..., Any] | None = None,
    ):
        self.db = db
        self._library = library
        self._renderer_factory = renderer_factory
        self._scorer = scorer
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # called with the session id after a report is stored (practice.search indexes it)
        self.after_score: list[Callable[[str], None]] = []

    # -- helpers -----------------------------------------------------------------
    @property
    def library(self) -> Library:
        return self._library() if callable(self._library) else self._library

    def scenario(self, scenario_id: str) -> Scenario:
        try:
            return self.library.get(scenario_id)
        except KeyError:
            raise SessionError(f"unknown_scenario:{scenario_id}") from None

    def _lock(self, session_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(session_id, threading.Lock())

    @staticmethod
    def _info(row: PracticeSession, turn_count: int) -> SessionInfo:
        return SessionInfo(
            id=row.id,
            scenario_id=row.scenario_id,
            language=row.language,  # type: ignore[arg-type]
            owner=row.owner_id,
            status=row.status,  # type: ignore[arg-type]
            backend=row.backend,
            created_at=row.created_at,
            updated_at=row.updated_at,
            turn_count=turn_count,
            title=row.title,
            parent_id=row.parent_id,
            branch_turn=row.branch_turn,
        )

    def _citizen(self, scenario: Scenario, state_json: str):

        return Citizen.restore(scenario, state_json)

    # -- users (before accounts exist there is one local practitioner) -------------
    def local_user(self) -> User:
        with self.db.Session() as s:
            user = s.execute(select(User).where(User.username == "local")).scalar_one_or_none()
            if user is None:
                user = User(
                    username="local", display_name="Local practitioner", role="practitioner"
                )
                s.add(user)
                s.commit()
            return user

    def get_user(self, user_id: str) -> User:
        with self.db.Session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise AccessDenied("Unknown user.")
            return user

    # -- lifecycle --------------------------------------------------------------
    def start(
        self,
        user: User,
        scenario_id: str,
        *,
        backend: str = "offline",
        class_id: str | None = None,
    ) -> SessionView:

        scenario = self.scenario(scenario_id)
        citizen = start(scenario)
        with self.db.Session() as s:
            row = PracticeSession(
                owner_id=user.id,
                scenario_id=scenario.id,
                language=scenario.language,
                title=scenario.title,
                backend=backend,
                class_id=class_id,
                state_json=citizen.state.model_dump_json(),
            )
            s.add(row)
            s.flush()
            s.add(
                TurnRow(
                    session_id=row.id,
                    idx=0,
                    speaker="citizen",
                    text=citizen.opening,
                    trust=citizen.state.trust,
                    depth=citizen.state.depth,
                    meta={"opening": True},
                )
            )
            s.commit()
            session_id = row.id
        return self.view(user, session_id)

    def view(self, viewer: User, session_id: str) -> SessionView:
        with self.db.Session() as s:
            row = require_view(s, viewer, session_id)
            turns = [
                Turn(
                    speaker=t.speaker, text=t.text, trust=t.trust, depth=t.depth, meta=t.meta or {}
                )  # type: ignore[arg-type]
                for t in row.turns
            ]
            report = latest_report_json(s, session_id)
            pending = turns[-1].text if turns and turns[-1].speaker == "practitioner" else None
            return SessionView(
                info=self._info(row, len(turns)),
                turns=turns,
                state_json=row.state_json,
                pending=pending,
                report_json=report,
            )

    def list_sessions(self, viewer: User, *, own_only: bool = False) -> list[SessionInfo]:
        with self.db.Session() as s:
            stmt = visible_sessions(viewer)
            if own_only:
                stmt = stmt.where(PracticeSession.owner_id == viewer.id)
            rows = s.execute(stmt.order_by(PracticeSession.updated_at.desc())).scalars().all()
            counts = dict(
                s.execute(
                    select(TurnRow.session_id, func.count(TurnRow.id))
                    .where(TurnRow.session_id.in_([r.id for r in rows]))
                    .group_by(TurnRow.session_id)
                ).all()
            )
            return [self._info(r, counts.get(r.id, 0)) for r in rows]

    # -- talking ----------------------------------------------------------------
    def add_practitioner_turn(self, user: User, session_id: str, text: str) -> str:
        """Validate and commit the practitioner's words. Returns the stored text."""
        cleaned = clean_text(text)
        with self._lock(session_id), self.db.Session() as s:
            row = require_owner(s, user, session_id)
            if row.status != "active":
                raise SessionError("ended")
            last = s.execute(
                select(TurnRow)
                .where(TurnRow.session_id == session_id)
                .order_by(TurnRow.idx.desc())
                .limit(1)
            ).scalar_one_or_none()
            if last is not None and last.speaker == "practitioner":
                raise SessionError("pending")
            next_idx = 0 if last is None else last.idx + 1
            if next_idx >= MAX_TURNS_PER_SESSION:
                raise SessionError("too_many_turns")
            s.add(
                TurnRow(session_id=session_id, idx=next_idx, speaker="practitioner", text=cleaned)
            )
            row.updated_at = utcnow()
            s.commit()
        return cleaned

    def reply_stream(
        self, user: User, session_id: str, renderer: Any | None = None, *, live: bool = False
    ) -> Iterator[Any]:
        """Produce the citizen's reply to the pending practitioner turn, streaming chunks.

        The reply and the new engine state are committed when the stream is exhausted;
        if the renderer fails, nothing is committed and the practitioner turn stays
        pending (the caller shows the error and offers a retry).

        With ``live=True`` and a renderer that has ``stream_live`` (the LLM renderer), tokens
        arrive as the model writes them, and an item with a ``text`` attribute (a
        ``Replace``) means: replace what was shown with this text (the guards rejected the
        streamed reply). The committed reply is always the text the caller ends up showing.
        """
        lock = self._lock(session_id)
        with lock:
            with self.db.Session() as s:
                row = require_owner(s, user, session_id)
                last = s.execute(
                    select(TurnRow)
                    .where(TurnRow.session_id == session_id)
                    .order_by(TurnRow.idx.desc())
                    .limit(1)
                ).scalar_one()
                if last.speaker != "practitioner":
                    raise SessionError("nothing_pending")
                scenario = self.scenario(row.scenario_id)
                state_json, pending_text, next_idx = row.state_json, last.text, last.idx + 1
                history = [(t.speaker, t.text) for t in row.turns]
            citizen = self._citizen(scenario, state_json)
            decision = citizen.decide(pending_text)
            chunks: list[str] = []
            if renderer is None:
                chunks.append(decision.offline_reply)
                yield decision.offline_reply
                outcome = {"renderer": "offline"}
            else:
                source = (
                    renderer.stream_live(scenario, decision, history)
                    if live and hasattr(renderer, "stream_live")
                    else renderer.stream(scenario, decision, history)
                )
                for chunk in source:
                    if isinstance(chunk, str):
                        chunks.append(chunk)
                    else:  # Replace: the renderer withdrew what it streamed
                        chunks = [chunk.text]
                    yield chunk
                outcome = {"renderer": getattr(renderer, "name", "llm")}
                last_outcome = getattr(renderer, "last_outcome", None)
                if last_outcome is not None:
                    outcome["outcome"] = str(last_outcome)
            reply = "".join(chunks).strip() or decision.offline_reply
            citizen.record_reply(reply)
            meta = {**outcome, **_decision_meta(decision)}
            with self.db.Session() as s:
                row = s.get(PracticeSession, session_id)
                assert row is not None
                s.add(
                    TurnRow(
                        session_id=session_id,
                        idx=next_idx,
                        speaker="citizen",
                        text=reply,
                        trust=citizen.state.trust,
                        depth=citizen.state.depth,
                        meta=meta,
                    )
                )
                row.state_json = citizen.state.model_dump_json()
                row.updated_at = utcnow()
                s.commit()

    def send(self, user: User, session_id: str, text: str, renderer: Any | None = None) -> Turn:
        """Practitioner turn + citizen reply, both committed. Returns the citizen turn."""
        self.add_practitioner_turn(user, session_id, text)
        "".join(self.reply_stream(user, session_id, renderer))
        return self.view(user, session_id).turns[-1]

    def end(self, user: User, session_id: str) -> str:
        """End the session, score it and store the report. Returns the report JSON."""
        with self._lock(session_id), self.db.Session() as s:
            row = require_owner(s, user, session_id)
            if row.status == "active":
                row.status = "ended"
                row.updated_at = utcnow()
                s.commit()
        return self.score(user, session_id)

    def score(self, viewer: User, session_id: str) -> str:
        view = self.view(viewer, session_id)
        if self._scorer is None:
            raise SessionError("no_scorer")
        scenario = None
        try:
            scenario = self.scenario(view.info.scenario_id)
        except SessionError:
            scenario = None  # uploaded transcripts may have no scenario
        report = self._scorer(view.transcript(), scenario=scenario, state_json=view.state_json)
        report_json = report.model_dump_json()
        with self.db.Session() as s:
            s.add(
                ReportRow(
                    session_id=session_id,
                    rubric_version=str(getattr(report, "rubric_version", "")),
                    overall=None
                    if getattr(report, "overall", None) is None
                    else float(report.overall),
                    report_json=report_json,
                )
            )
            s.commit()
        for hook in list(self.after_score):
            hook(session_id)
        return report_json

    def branch(self, user: User, session_id: str, turn_n: int) -> SessionView:
        """'Try again from turn N': a new session with the turns before practitioner turn N.

        The engine state is rebuilt by replaying the kept practitioner turns, so the
        citizen is exactly where they were at that moment.
        """

        original = self.view(user, session_id)
        if original.info.owner != user.id:
            raise AccessDenied("Only the practitioner who held this session can branch it.")
        practitioner_idx = [i for i, t in enumerate(original.turns) if t.speaker == "practitioner"]
        if not 1 <= turn_n <= len(practitioner_idx):
            raise SessionError(f"bad_turn:{len(practitioner_idx)}")
        cut = practitioner_idx[turn_n - 1]
        kept = original.turns[:cut]
        scenario = self.scenario(original.info.scenario_id)
        citizen = start(scenario)
        for i, t in enumerate(kept):
            if t.speaker == "practitioner":
                citizen.decide(t.text)
                reply = kept[i + 1].text if i + 1 < len(kept) else None
                if reply is not None:
                    citizen.record_reply(reply)
        with self.db.Session() as s:
            row = PracticeSession(
                owner_id=user.id,
                scenario_id=original.info.scenario_id,
                language=original.info.language,
                title=original.info.title,
                backend=original.info.backend,
                parent_id=session_id,
                branch_turn=turn_n,
                state_json=citizen.state.model_dump_json(),
            )
            s.add(row)
            s.flush()
            for i, t in enumerate(kept):
                s.add(
                    TurnRow(
                        session_id=row.id,
                        idx=i,
                        speaker=t.speaker,
                        text=t.text,
                        trust=t.trust,
                        depth=t.depth,
                        meta=t.meta,
                    )
                )
            s.commit()
            new_id = row.id
        return self.view(user, new_id)


def _decision_meta(decision: Any) -> dict[str, Any]:
    """The parts of the engine's decision worth keeping with the turn (for review)."""
    meta: dict[str, Any] = {}
    for key in ("band", "topic", "moves", "triggers", "openers", "new_depth"):
        value = getattr(decision, key, None)
        if value is not None:
            meta[key] = list(value) if isinstance(value, (set, frozenset, tuple)) else value
    plan = getattr(decision, "plan", None)
    if plan is not None:
        meta["plan"] = plan.model_dump() if hasattr(plan, "model_dump") else plan
    return meta
