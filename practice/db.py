"""Persistence: SQLAlchemy 2 tables and engine creation.

SQLite file by default (``practice.settings``), any SQLAlchemy URL through
``DATABASE_URL`` (PostgreSQL: ``postgresql+psycopg://user:pass@host/db``).
The schema is created and migrated by Alembic (``practice/migrations``); ``init_db``
runs the migrations, so a fresh data folder just works.

Access rules (who may see which session) live in ``practice.access`` and every
query that returns sessions goes through it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker
from sqlalchemy.orm import Session as OrmSession


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default="practitioner")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # a practitioner's supervisor (team membership); sharing is still per session
    supervisor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    ui_language: Mapped[str] = mapped_column(String(2), default="da")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PracticeSession(Base):
    __tablename__ = "practice_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="active")
    backend: Mapped[str] = mapped_column(String(20), default="offline")
    state_json: Mapped[str] = mapped_column(Text, default="{}")
    class_id: Mapped[str | None] = mapped_column(
        ForeignKey("classrooms.id"), nullable=True, index=True
    )
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("practice_sessions.id"), nullable=True)
    branch_turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="simulator")  # simulator | upload
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    turns: Mapped[list[TurnRow]] = relationship(
        back_populates="session", order_by="TurnRow.idx", cascade="all, delete-orphan"
    )


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("session_id", "idx", name="uq_turn_session_idx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    trust: Mapped[float | None] = mapped_column(Float, nullable=True)
    depth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    session: Mapped[PracticeSession] = relationship(back_populates="turns")


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE"), index=True
    )
    rubric_version: Mapped[str] = mapped_column(String(40))
    overall: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: nothing to score
    report_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def parse_report(raw: str | None) -> dict | None:
    """A stored report as a dict, or None if there is none or the row is damaged."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def latest_report_json(s: OrmSession, session_id: str) -> str | None:
    """The newest report of a session, as stored. Callers check access first."""
    return s.execute(
        select(ReportRow.report_json)
        .where(ReportRow.session_id == session_id)
        .order_by(ReportRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_reports(s: OrmSession, session_ids: list[str]) -> dict[str, dict]:
    """The newest report of each session, parsed (sessions without one, or with a damaged
    row, are left out). One query. Callers check access first."""
    if not session_ids:
        return {}
    newest = (
        select(func.max(ReportRow.id))
        .where(ReportRow.session_id.in_(session_ids))
        .group_by(ReportRow.session_id)
    )
    out: dict[str, dict] = {}
    for sid, raw in s.execute(
        select(ReportRow.session_id, ReportRow.report_json).where(ReportRow.id.in_(newest))
    ):
        report = parse_report(raw)
        if report is not None:
            out[sid] = report
    return out


class SessionShare(Base):
    __tablename__ = "session_shares"
    __table_args__ = (UniqueConstraint("session_id", "supervisor_id", name="uq_share"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE"), index=True
    )
    supervisor_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE"), index=True
    )
    turn_idx: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ScoreOverride(Base):
    __tablename__ = "score_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE"), index=True
    )
    principle_id: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    coach_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Classroom(Base):
    __tablename__ = "classrooms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    educator_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    fishbowl_session_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ClassMember(Base):
    __tablename__ = "class_members"
    __table_args__ = (UniqueConstraint("class_id", "user_id", name="uq_class_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    class_id: Mapped[str] = mapped_column(
        ForeignKey("classrooms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    fishbowl_consent: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Database:
    """An engine plus a session factory. One per process (cached by the UI)."""

    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = make_engine(url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if (
            path and path != ":memory:" and not path.startswith("file:")
        ):  # file: URIs name their own path
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
