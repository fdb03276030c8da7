"""Classrooms: an educator opens a class session for one scenario, 20–30 students join
with a short code and practise it at the same time; a live dashboard, a fishbowl view
of one consenting student, a debrief and a class report (CSV and PDF).

Access (enforced here, on top of ``practice.access``):
- only the educator who opened a class sees its dashboard, fishbowl, debrief and report;
  the sessions are read through ``visible_sessions(educator)``, so an educator never
  sees a session that is not in one of their own classes;
- students are shown anonymised ("Student 3", numbered by join order) unless the
  educator explicitly asks for names (``names=True``); the debrief is always anonymous;
- a student's conversation is projected (fishbowl) only while that student consents.

Students either sign in as themselves or join with just a display name: that creates a
lightweight practitioner account without a password (``guest_join``), which the join
page keeps through a signed token in the link (``guest_token`` / ``user_from_token``)
so a reload on a phone does not lose the conversation.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import statistics
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coach.export import find_unicode_font
from coach.rubric import load_rubric
from practice.access import AccessDenied, anonymise_all, visible_sessions
from practice.db import (
    ClassMember,
    Classroom,
    Database,
    PracticeSession,
    TurnRow,
    User,
    latest_reports,
)

# no 0/O, 1/I/L: codes are read off a projector
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_NAME = 60
_START_LOCKS: dict[str, threading.Lock] = {}
_START_GUARD = threading.Lock()
OPENERS = ("educator",)  # an admin manages accounts but sees no transcripts


class ClassroomError(Exception):
    """A problem the user can act on; ``str(exc)`` is a code like ``closed`` or ``bad_code``."""


@dataclass
class ClassInfo:
    id: str
    code: str
    title: str
    scenario_id: str
    status: str
    educator_id: str
    fishbowl_session_id: str | None
    created_at: Any = None


@dataclass
class StudentRow:
    alias: str  # a pseudonym number ("412", see practice.access.anonymise) or, on request, the name
    number: int
    user_id: str
    session_id: str | None
    status: str  # "joined" (no session yet) | "active" | "ended"
    turns: int  # practitioner turns so far
    trust: float | None
    overall: float | None
    scores: dict[str, int] = field(default_factory=dict)
    consent: bool = False


@dataclass
class Dashboard:
    info: ClassInfo
    students: list[StudentRow]
    # principle id -> {score 1..5 -> number of students}
    distribution: dict[str, dict[int, int]]
    principle_titles: dict[str, str]
    # principle id -> how many of its scores the coach marked "insufficient evidence"
    tentative: dict[str, int] = field(default_factory=dict)

    @property
    def joined(self) -> int:
        return len(self.students)

    @property
    def started(self) -> int:
        return sum(1 for s in self.students if s.session_id)

    @property
    def ended(self) -> int:
        return sum(1 for s in self.students if s.status == "ended")

    @property
    def total_turns(self) -> int:
        return sum(s.turns for s in self.students)

    def mean_scores(self) -> dict[str, float]:
        out = {}
        for pid, dist in self.distribution.items():
            n = sum(dist.values())
            if n:
                out[pid] = sum(k * v for k, v in dist.items()) / n
        return out


@dataclass
class Moment:
    text: str  # the practitioner's words
    before: str | None  # the citizen turn it answered
    after: str | None  # the citizen's reply
    trust_delta: float | None
    reason: str  # "trust" | "evidence"
    indicator: str | None = None


@dataclass
class Pitfall:
    kind: str  # "counter_indicator" | "trigger"
    id: str
    label: str
    count: int  # occurrences
    students: int  # how many students it happened to
    example: str | None = None


@dataclass
class Debrief:
    best_moments: list[Moment]
    pitfalls: list[Pitfall]


def _info(row: Classroom) -> ClassInfo:
    return ClassInfo(
        id=row.id,
        code=row.code,
        title=row.title,
        scenario_id=row.scenario_id,
        status=row.status,
        educator_id=row.educator_id,
        fishbowl_session_id=row.fishbowl_session_id,
        created_at=row.created_at,
    )


def normalise_code(code: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (code or "").upper())[:12]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def join_link(base_url: str, code: str) -> str:
    """The link students open: the join page with ``?join=CODE``."""
    return f"{base_url.rstrip('/')}/join?join={code}"


class ClassroomService:
    """Stateless; safe to share. ``practice`` is the app's ``PracticeService``."""

    def __init__(self, db: Database, practice: Any, *, secret_dir: Path | None = None):
        self.db = db
        self.practice = practice
        self._secret_dir = secret_dir
        self._secret: bytes | None = None

    # -- educator: open / list / close ---------------------------------------------
    def open_class(self, educator: User, scenario_id: str, title: str = "") -> ClassInfo:
        if educator.role not in OPENERS:
            raise AccessDenied("Only educators can open a class.")
        scenario = self.practice.scenario(scenario_id)  # raises SessionError if unknown
        title = (title or "").strip()[:200] or scenario.title
        for _ in range(20):
            with self.db.Session() as s:
                row = Classroom(
                    code=new_code(), educator_id=educator.id, scenario_id=scenario.id, title=title
                )
                s.add(row)
                try:
                    s.commit()
                except IntegrityError:  # code collision: try another
                    s.rollback()
                    continue
                return _info(row)
        raise ClassroomError("no_code")  # pragma: no cover - 31^6 codes

    def list_classes(self, educator: User) -> list[ClassInfo]:
        with self.db.Session() as s:
            rows = s.execute(
                select(Classroom)
                .where(Classroom.educator_id == educator.id)
                .order_by(Classroom.created_at.desc())
            ).scalars()
            return [_info(r) for r in rows]

    def _own_class(self, s, educator: User, class_id: str) -> Classroom:
        row = s.get(Classroom, class_id)
        if row is None or row.educator_id != educator.id:
            raise AccessDenied("Class not found, or it is not one of your classes.")
        return row

    def get_class(self, educator: User, class_id: str) -> ClassInfo:
        with self.db.Session() as s:
            return _info(self._own_class(s, educator, class_id))

    def set_status(self, educator: User, class_id: str, status: str) -> ClassInfo:
        if status not in ("open", "closed"):
            raise ValueError(status)
        with self.db.Session() as s:
            row = self._own_class(s, educator, class_id)
            row.status = status
            s.commit()
            return _info(row)

    # -- students: join ------------------------------------------------------------------
    def find_by_code(self, code: str) -> ClassInfo | None:
        """Public facts about a class (title, scenario, open or closed) for the join page."""
        code = normalise_code(code)
        if not code:
            return None
        with self.db.Session() as s:
            row = s.execute(select(Classroom).where(Classroom.code == code)).scalar_one_or_none()
            return _info(row) if row else None

    def _open_class_by_code(self, s, code: str) -> Classroom:
        row = s.execute(
            select(Classroom).where(Classroom.code == normalise_code(code))
        ).scalar_one_or_none()
        if row is None:
            raise ClassroomError("bad_code")
        if row.status != "open":
            raise ClassroomError("closed")
        return row

    def guest_join(self, code: str, display_name: str) -> User:
        """A lightweight student account for someone who joins with just a name.

        No password: it can only be used through the signed link the join page keeps.
        """
        name = " ".join((display_name or "").split())[:MAX_NAME]
        if not name:
            raise ClassroomError("no_name")
        with self.db.Session() as s:
            cls = self._open_class_by_code(s, code)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:20] or "student"
            user = User(
                username=f"guest-{cls.code.lower()}-{slug}-{secrets.token_hex(3)}",
                display_name=name,
                role="practitioner",
                password_hash=None,
            )
            s.add(user)
            s.commit()
            return user

    def join(self, user: User, code: str, *, consent: bool | None = None) -> tuple[ClassInfo, str]:
        """Add the user to the class and return (class, their session id in it).

        Joining again returns the same session (a reload, a second device), so a student
        has one conversation per class; a member may come back after the class closed,
        a newcomer may not.
        """
        with self.db.Session() as s:
            cls = s.execute(
                select(Classroom).where(Classroom.code == normalise_code(code))
            ).scalar_one_or_none()
            if cls is None:
                raise ClassroomError("bad_code")
            info = _info(cls)
            member = s.execute(
                select(ClassMember).where(
                    ClassMember.class_id == cls.id, ClassMember.user_id == user.id
                )
            ).scalar_one_or_none()
            if member is None:
                if cls.status != "open":
                    raise ClassroomError("closed")
                member = ClassMember(class_id=cls.id, user_id=user.id)
                s.add(member)
            if consent is not None:
                member.fishbowl_consent = bool(consent)
            try:
                s.commit()
            except IntegrityError:  # joined twice at the same moment
                s.rollback()
            existing = self._session_of(s, cls.id, user.id)
        if existing is not None:
            return info, existing
        with _START_GUARD:  # one lock per student (process-wide): 30 may start at once
            lock = _START_LOCKS.setdefault(f"{info.id}:{user.id}", threading.Lock())
        with lock:
            with self.db.Session() as s:  # a double click must not start two conversations
                existing = self._session_of(s, info.id, user.id)
            if existing is not None:
                return info, existing
            view = self.practice.start(user, info.scenario_id, class_id=info.id)
        return info, view.info.id

    @staticmethod
    def _session_of(s, class_id: str, user_id: str) -> str | None:
        return s.execute(
            select(PracticeSession.id)
            .where(PracticeSession.class_id == class_id, PracticeSession.owner_id == user_id)
            .order_by(PracticeSession.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()

    def membership(self, user: User, class_id: str) -> ClassMember | None:
        with self.db.Session() as s:
            return s.execute(
                select(ClassMember).where(
                    ClassMember.class_id == class_id, ClassMember.user_id == user.id
                )
            ).scalar_one_or_none()

    def set_consent(self, user: User, class_id: str, consent: bool) -> None:
        """The student's own choice; withdrawing it stops a running fishbowl at once."""
        with self.db.Session() as s:
            member = s.execute(
                select(ClassMember).where(
                    ClassMember.class_id == class_id, ClassMember.user_id == user.id
                )
            ).scalar_one_or_none()
            if member is None:
                raise AccessDenied("You are not in this class.")
            member.fishbowl_consent = bool(consent)
            if not consent:
                cls = s.get(Classroom, class_id)
                if cls is not None and cls.fishbowl_session_id:
                    owner = s.execute(
                        select(PracticeSession.owner_id).where(
                            PracticeSession.id == cls.fishbowl_session_id
                        )
                    ).scalar_one_or_none()
                    if owner == user.id:
                        cls.fishbowl_session_id = None
            s.commit()

    # -- educator: the class's sessions ---------------------------------------------------
    def _class_sessions(self, s, educator: User, class_id: str) -> list[PracticeSession]:
        stmt = visible_sessions(educator).where(PracticeSession.class_id == class_id)
        return list(s.execute(stmt.order_by(PracticeSession.created_at)).scalars())

    def _members(self, s, class_id: str) -> list[tuple[ClassMember, User]]:
        return list(
            s.execute(
                select(ClassMember, User)
                .join(User, User.id == ClassMember.user_id)
                .where(ClassMember.class_id == class_id)
                .order_by(ClassMember.joined_at, ClassMember.id)
            ).all()
        )

    def dashboard(self, educator: User, class_id: str, *, names: bool = False) -> Dashboard:
        with self.db.Session() as s:
            cls = self._own_class(s, educator, class_id)
            info = _info(cls)
            sessions = self._class_sessions(s, educator, class_id)
            by_owner: dict[str, PracticeSession] = {}
            for row in sessions:  # latest session per student
                by_owner[row.owner_id] = row
            ids = [r.id for r in by_owner.values()]
            turn_counts = dict(
                s.execute(
                    select(TurnRow.session_id, func.count(TurnRow.id))
                    .where(TurnRow.session_id.in_(ids), TurnRow.speaker == "practitioner")
                    .group_by(TurnRow.session_id)
                ).all()
            )
            last_trust: dict[str, float] = {}
            for sid, trust in s.execute(
                select(TurnRow.session_id, TurnRow.trust)
                .where(TurnRow.session_id.in_(ids), TurnRow.trust.is_not(None))
                .order_by(TurnRow.session_id, TurnRow.idx)
            ):
                last_trust[sid] = trust
            reports = latest_reports(s, ids)
            students: list[StudentRow] = []
            distribution: dict[str, dict[int, int]] = {}
            titles: dict[str, str] = {}
            tentative: dict[str, int] = {}
            members = self._members(s, class_id)
            # pseudonyms from practice.access: stable per class, not the join order
            pseudo = anonymise_all([u.id for _, u in members], salt=class_id, label="")
            for number, (member, user) in enumerate(members, start=1):
                row = by_owner.get(user.id)
                report = reports.get(row.id) if row else None
                scores: dict[str, int] = {}
                if report and report.get("status") == "ok":
                    for p in report.get("principles", []):
                        if p.get("insufficient_evidence"):  # counted, and flagged as tentative
                            tentative[p["id"]] = tentative.get(p["id"], 0) + 1
                        scores[p["id"]] = int(p["score"])
                        titles.setdefault(p["id"], p.get("title") or p["id"])
                        dist = distribution.setdefault(p["id"], {k: 0 for k in range(1, 6)})
                        dist[int(p["score"])] = dist.get(int(p["score"]), 0) + 1
                students.append(
                    StudentRow(
                        alias=user.display_name if names else pseudo[user.id].strip(),
                        number=number,
                        user_id=user.id,
                        session_id=row.id if row else None,
                        status=row.status if row else "joined",
                        turns=turn_counts.get(row.id, 0) if row else 0,
                        trust=last_trust.get(row.id) if row else None,
                        overall=(report or {}).get("overall"),
                        scores=scores,
                        consent=bool(member.fishbowl_consent),
                    )
                )
            return Dashboard(
                info=info,
                students=students,
                distribution=distribution,
                principle_titles=titles,
                tentative=tentative,
            )

    # -- fishbowl -------------------------------------------------------------------------
    def fishbowl_candidates(self, educator: User, class_id: str) -> list[StudentRow]:
        """Students who consented and have a conversation to project."""
        board = self.dashboard(educator, class_id)
        return [st for st in board.students if st.consent and st.session_id]

    def set_fishbowl(self, educator: User, class_id: str, session_id: str | None) -> None:
        with self.db.Session() as s:
            cls = self._own_class(s, educator, class_id)
            if session_id is not None:
                row = s.execute(
                    visible_sessions(educator).where(
                        PracticeSession.id == session_id, PracticeSession.class_id == class_id
                    )
                ).scalar_one_or_none()
                if row is None:
                    raise AccessDenied("That conversation is not in this class.")
                consent = s.execute(
                    select(ClassMember.fishbowl_consent).where(
                        ClassMember.class_id == class_id, ClassMember.user_id == row.owner_id
                    )
                ).scalar_one_or_none()
                if not consent:
                    raise AccessDenied("This student has not agreed to be shown.")
            cls.fishbowl_session_id = session_id
            s.commit()

    def fishbowl(self, educator: User, class_id: str):
        """The projected conversation (a ``SessionView``), or None. Re-checks consent."""
        with self.db.Session() as s:
            cls = self._own_class(s, educator, class_id)
            sid = cls.fishbowl_session_id
            if not sid:
                return None
            owner = s.execute(
                select(PracticeSession.owner_id).where(PracticeSession.id == sid)
            ).scalar_one_or_none()
            consent = s.execute(
                select(ClassMember.fishbowl_consent).where(
                    ClassMember.class_id == class_id, ClassMember.user_id == owner
                )
            ).scalar_one_or_none()
            if not consent:
                return None
        return self.practice.view(educator, sid)

    # -- debrief --------------------------------------------------------------------------
    def debrief(
        self, educator: User, class_id: str, *, top: int = 5, labels: dict[str, str] | None = None
    ) -> Debrief:
        """Anonymised best moments and common pitfalls of the whole class.

        Best moments: the practitioner turns after which trust rose most, and turns the
        coach cited as evidence *for* a principle. Pitfalls: the counter-indicators the
        coach found most often, and the citizen's triggers (what made them close up).
        ``labels`` maps indicator / trigger ids to readable text.
        """
        labels = labels or {}
        with self.db.Session() as s:
            self._own_class(s, educator, class_id)
            sessions = self._class_sessions(s, educator, class_id)
            ids = [r.id for r in sessions]
            owner_of = {r.id: r.owner_id for r in sessions}
            turns_by: dict[str, list[TurnRow]] = {}
            for t in s.execute(
                select(TurnRow)
                .where(TurnRow.session_id.in_(ids))
                .order_by(TurnRow.session_id, TurnRow.idx)
            ).scalars():
                turns_by.setdefault(t.session_id, []).append(t)
            reports = latest_reports(s, ids)

        trust_moments: list[Moment] = []
        evidence_moments: list[Moment] = []
        against: Counter[str] = Counter()
        against_students: dict[str, set[str]] = {}
        against_example: dict[str, str] = {}
        triggers: Counter[str] = Counter()
        trigger_students: dict[str, set[str]] = {}
        trigger_example: dict[str, str] = {}
        seen_evidence: set[tuple[str, int]] = set()
        for sid, turns in turns_by.items():
            owner = owner_of[sid]
            by_idx = {t.idx: t for t in turns}
            last_trust: float | None = None
            for i, t in enumerate(turns):
                if t.speaker == "citizen":
                    for trig in (t.meta or {}).get("triggers") or []:
                        triggers[str(trig)] += 1
                        trigger_students.setdefault(str(trig), set()).add(owner)
                        prev = turns[i - 1] if i > 0 else None
                        if prev is not None and prev.speaker == "practitioner":
                            trigger_example.setdefault(str(trig), prev.text)
                    if t.trust is not None:
                        last_trust = t.trust
                    continue
                nxt = turns[i + 1] if i + 1 < len(turns) else None
                before = turns[i - 1].text if i > 0 and turns[i - 1].speaker == "citizen" else None
                if (
                    nxt is not None
                    and nxt.speaker == "citizen"
                    and nxt.trust is not None
                    and last_trust is not None
                ):
                    delta = nxt.trust - last_trust
                    if delta > 0:
                        trust_moments.append(
                            Moment(
                                text=t.text,
                                before=before,
                                after=nxt.text,
                                trust_delta=delta,
                                reason="trust",
                            )
                        )
            report = reports.get(sid) or {}
            for p in report.get("principles", []):
                for ev in p.get("evidence", []):
                    turn = by_idx.get(ev.get("turn"))
                    if turn is None or turn.speaker != "practitioner":
                        continue
                    ind = str(ev.get("indicator"))
                    if ev.get("polarity") == "for":
                        if (sid, turn.idx) in seen_evidence:
                            continue
                        seen_evidence.add((sid, turn.idx))
                        prev = by_idx.get(turn.idx - 1)
                        nxt = by_idx.get(turn.idx + 1)
                        evidence_moments.append(
                            Moment(
                                text=turn.text,
                                before=prev.text if prev and prev.speaker == "citizen" else None,
                                after=nxt.text if nxt and nxt.speaker == "citizen" else None,
                                trust_delta=None,
                                reason="evidence",
                                indicator=labels.get(ind, ind),
                            )
                        )
                    elif ev.get("polarity") == "against":
                        against[ind] += 1
                        against_students.setdefault(ind, set()).add(owner)
                        against_example.setdefault(ind, str(ev.get("quote") or turn.text))

        trust_moments.sort(key=lambda m: -(m.trust_delta or 0))
        best = trust_moments[:top]
        shown = {m.text for m in best}
        for m in evidence_moments:
            if len(best) >= 2 * top:
                break
            if m.text not in shown:
                best.append(m)
                shown.add(m.text)
        pitfalls = [
            Pitfall(
                "counter_indicator",
                k,
                labels.get(k, k),
                n,
                len(against_students[k]),
                against_example.get(k),
            )
            for k, n in against.most_common()
        ] + [
            Pitfall(
                "trigger", k, labels.get(k, k), n, len(trigger_students[k]), trigger_example.get(k)
            )
            for k, n in triggers.most_common()
        ]
        pitfalls.sort(key=lambda p: (-p.students, -p.count))
        return Debrief(best_moments=best, pitfalls=pitfalls[: top * 2])

    # -- report ---------------------------------------------------------------------------
    def report_csv(self, educator: User, class_id: str, *, names: bool = False) -> bytes:
        """One row per student: status, turns, trust, overall and each principle's score."""
        board = self.dashboard(educator, class_id, names=names)
        pids = sorted({pid for st in board.students for pid in st.scores} | set(board.distribution))
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["student", "status", "practitioner_turns", "final_trust", "overall", *pids])
        for st in board.students:
            w.writerow(
                [
                    st.alias,
                    st.status,
                    st.turns,
                    "" if st.trust is None else f"{st.trust:.2f}",
                    "" if st.overall is None else f"{st.overall:.1f}",
                    *[st.scores.get(pid, "") for pid in pids],
                ]
            )
        return buf.getvalue().encode("utf-8-sig")  # BOM: Excel opens æøå correctly

    def report_pdf(
        self, educator: User, class_id: str, lang: str, *, labels: dict[str, str] | None = None
    ) -> bytes:
        board = self.dashboard(educator, class_id)
        debrief = self.debrief(educator, class_id, labels=labels)
        return class_report_pdf(board, debrief, lang)

    # -- guests: a signed token keeps a name-only student signed in -----------------------
    def _key(self) -> bytes:
        if self._secret is None:
            if self._secret_dir is None:
                self._secret = secrets.token_bytes(32)
            else:
                path = self._secret_dir / "classroom.key"
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        with path.open("xb") as fh:
                            fh.write(secrets.token_bytes(32))
                        path.chmod(0o600)
                    except FileExistsError:  # another process made it first
                        pass
                self._secret = path.read_bytes()
        return self._secret

    def guest_token(self, user: User) -> str:
        sig = hmac.new(self._key(), user.id.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{user.id}.{sig}"

    def user_from_token(self, token: str) -> User | None:
        """The guest account a token belongs to; None for a forged or foreign token.

        Only password-less accounts can be resumed this way: a token never signs anyone
        into a real account."""
        uid, _, sig = (token or "").partition(".")
        if not uid or not sig:
            return None
        good = hmac.new(self._key(), uid.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(good, sig):
            return None
        with self.db.Session() as s:
            user = s.get(User, uid)
            if (
                user is None
                or user.password_hash is not None
                or not user.username.startswith("guest-")
            ):
                return None
            return user


def score_summary(board: Dashboard) -> dict[str, dict[str, float]]:
    """Per principle: mean and median of the students' scores (for the report)."""
    out: dict[str, dict[str, float]] = {}
    for pid in board.distribution:
        vals = [st.scores[pid] for st in board.students if pid in st.scores]
        if vals:
            out[pid] = {
                "mean": statistics.fmean(vals),
                "median": statistics.median(vals),
                "n": len(vals),
            }
    return out


def rubric_labels(language: str) -> dict[str, str]:
    """Readable text for indicator, counter-indicator and principle ids (best effort)."""
    try:
        rubric = load_rubric(language)
    except Exception:
        return {}
    labels: dict[str, str] = {}
    for p in rubric.principles:
        labels[p.id] = p.title
        for ind in [*p.indicators, *p.counter_indicators]:
            labels[ind.id] = ind.text
    return labels


# --------------------------------------------------------------------------- PDF

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)

PDF_TEXT = {
    "title": {"da": "Klasserapport", "en": "Class report"},
    "joined": {"da": "Deltagere", "en": "Students"},
    "ended": {"da": "Afsluttede samtaler", "en": "Finished conversations"},
    "turns": {"da": "Replikker i alt", "en": "Turns in total"},
    "scores": {
        "da": "Scorer pr. princip (antal studerende pr. score 1-5)",
        "en": "Scores per principle (students per score 1-5)",
    },
    "mean": {"da": "gns.", "en": "mean"},
    "students": {"da": "Studerende (anonymiseret)", "en": "Students (anonymised)"},
    "student": {"da": "Studerende", "en": "Student"},
    "status": {"da": "Status", "en": "Status"},
    "overall": {"da": "Samlet", "en": "Overall"},
    "trust": {"da": "Tillid", "en": "Trust"},
    "best": {"da": "Gode øjeblikke", "en": "Best moments"},
    "pitfalls": {"da": "Almindelige faldgruber", "en": "Common pitfalls"},
    "times": {"da": "{n} gange hos {k} studerende", "en": "{n} times, {k} students"},
    "trust_up": {"da": "tilliden steg {d:+.2f}", "en": "trust rose {d:+.2f}"},
    "coach_good": {"da": "coachen: {ind}", "en": "coach: {ind}"},
    "none": {"da": "Ingen endnu.", "en": "None yet."},
    "joined_status": {"da": "tilmeldt", "en": "joined"},
    "active_status": {"da": "i gang", "en": "practising"},
    "ended_status": {"da": "afsluttet", "en": "ended"},
}


def _pdf_t(key: str, lang: str, **fmt: Any) -> str:
    entry = PDF_TEXT[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text


def _unicode_font(pdf: Any) -> str:
    """A Unicode TrueType font if the system has one (DejaVu), else the core Helvetica."""
    try:
        found = find_unicode_font()
    except ImportError:  # pragma: no cover - coach.export is part of the app
        found = None
    if found is None:
        for d in FONT_DIRS:
            if (d / "DejaVuSans.ttf").exists():
                bold = d / "DejaVuSans-Bold.ttf"
                found = (str(d / "DejaVuSans.ttf"), str(bold) if bold.exists() else None)
                break
    if found is None:
        return "Helvetica"
    regular, bold = found
    pdf.add_font("Uni", "", regular)
    pdf.add_font("Uni", "B", bold or regular)
    return "Uni"


def _latin1(text: str) -> str:
    text = text.translate(
        {
            0x2013: "-",
            0x2014: "-",
            0x2018: "'",
            0x2019: "'",
            0x201C: '"',
            0x201D: '"',
            0x2026: "...",
        }
    )
    return text.encode("latin-1", "replace").decode("latin-1")


def class_report_pdf(board: Dashboard, debrief: Debrief, lang: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    font = _unicode_font(pdf)
    clean = (lambda s: s) if font != "Helvetica" else _latin1

    def line(text: str, size: int = 10, style: str = "", h: float = 5.5) -> None:
        pdf.set_font(font, style, size)
        pdf.multi_cell(0, h, clean(text), new_x="LMARGIN", new_y="NEXT")

    line(f"{_pdf_t('title', lang)}: {board.info.title}", 16, "B", 9)
    line(f"{board.info.code} · {board.info.scenario_id} · {board.info.created_at:%Y-%m-%d}", 9)
    pdf.ln(2)
    line(
        f"{_pdf_t('joined', lang)}: {board.joined}   {_pdf_t('ended', lang)}: {board.ended}   "
        f"{_pdf_t('turns', lang)}: {board.total_turns}"
    )
    pdf.ln(3)
    line(_pdf_t("scores", lang), 12, "B", 7)
    means = board.mean_scores()
    if not board.distribution:
        line(_pdf_t("none", lang))
    for pid, dist in board.distribution.items():
        counts = "  ".join(f"{k}: {dist.get(k, 0)}" for k in range(1, 6))
        line(
            f"{board.principle_titles.get(pid, pid)} — {counts}  ({_pdf_t('mean', lang)} {means.get(pid, 0):.1f})"
        )
    pdf.ln(3)
    line(_pdf_t("students", lang), 12, "B", 7)
    for st in board.students:
        bits = [
            f"{_pdf_t('student', lang)} {st.alias}",
            _pdf_t(f"{st.status}_status", lang),
            f"{st.turns} turns" if lang == "en" else f"{st.turns} replikker",
        ]
        if st.trust is not None:
            bits.append(f"{_pdf_t('trust', lang)} {st.trust:.2f}")
        if st.overall is not None:
            bits.append(f"{_pdf_t('overall', lang)} {st.overall:.0f}")
        line(" · ".join(bits), 9)
    pdf.ln(3)
    line(_pdf_t("best", lang), 12, "B", 7)
    if not debrief.best_moments:
        line(_pdf_t("none", lang))
    for m in debrief.best_moments:
        why = (
            _pdf_t("trust_up", lang, d=m.trust_delta or 0)
            if m.reason == "trust"
            else _pdf_t("coach_good", lang, ind=m.indicator or "")
        )
        line(f"“{m.text}” ({why})", 9)
    pdf.ln(3)
    line(_pdf_t("pitfalls", lang), 12, "B", 7)
    if not debrief.pitfalls:
        line(_pdf_t("none", lang))
    for p in debrief.pitfalls:
        line(f"{p.label} — {_pdf_t('times', lang, n=p.count, k=p.students)}", 9)
    return bytes(pdf.output())
