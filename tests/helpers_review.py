"""Test helpers for accounts, access, review, upload and progress (a plain module).

Sessions are written straight into the database here (turns + a stored report), so
these tests exercise the access rules and review services without the citizen engine
or the coach's trained model. The report is the JSON shape of ``coach.schema.CoachReport``
that the review code reads (principles with score/raw/evidence, behaviours, notes).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from practice.accounts import AccountService
from practice.db import Classroom, PracticeSession, ReportRow, TurnRow, User
from practice.services import Services, build_services
from practice.settings import load_settings

PASSWORD = "correct horse battery"
TURNS = [
    ("citizen", "Jeg ved ikke, hvorfor jeg skal være her."),
    ("practitioner", "Hvad tænker du selv, vi skal bruge tiden på i dag?"),
    ("citizen", "Måske det med huslejen."),
    ("practitioner", "Du skal udfylde skemaet inden fredag."),
    ("citizen", "Okay."),
]
PRINCIPLES = {  # id -> (rounded score, raw score)
    "meet_where_they_are": (4, 3.8),
    "stand_beside": (2, 2.3),
    "trust_not_suspicion": (3, 3.4),
}


def fast_hashing(monkeypatch) -> None:
    """Cheap argon2 parameters for tests (the real ones cost ~0.1-1 s per hash). The
    stored format is still argon2id; production parameters are tested in test_accounts."""
    from argon2 import PasswordHasher

    from practice import accounts

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", fast)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", fast.hash("dummy password"))
    monkeypatch.setattr(accounts, "_throttle", accounts._Throttle())


def services() -> Services:
    return build_services(load_settings())


def make_user(
    svc: Services,
    username: str,
    role: str = "practitioner",
    *,
    supervisor: User | None = None,
    password: str | None = PASSWORD,
) -> User:
    return AccountService(svc.db).create_user(
        None,
        username,
        password,
        role=role,
        display_name=username.title(),
        supervisor_id=supervisor.id if supervisor else None,
    )


def report_dict(
    turns: list[tuple[str, str]] = TURNS,
    principles: dict[str, tuple[int, float]] = PRINCIPLES,
    *,
    next_goal: str = "Spørg til borgerens egne ord for problemet.",
    overall: float = 55.0,
) -> dict[str, Any]:
    practitioner = [i for i, (sp, _) in enumerate(turns) if sp == "practitioner"]
    behaviours: list[str | None] = [None] * len(turns)
    for n, i in enumerate(practitioner):
        behaviours[i] = "open_question" if n % 2 == 0 else "advice"
    return {
        "schema_version": 1,
        "language": "da",
        "rubric_id": "relational-da",
        "rubric_version": "1.0.0",
        "coder": "test",
        "status": "ok",
        "practitioner_turns": len(practitioner),
        "overall": overall,
        "principles": [
            {
                "id": pid,
                "title": pid.replace("_", " ").title(),
                "score": score,
                "raw": raw,
                "confidence": 0.8,
                "insufficient_evidence": False,
                "rationale": "",
                "evidence": [
                    {
                        "turn": practitioner[0],
                        "quote": turns[practitioner[0]][1][:20],
                        "polarity": "for",
                        "indicator": "open_question",
                    }
                ]
                if practitioner
                else [],
            }
            for pid, (score, raw) in principles.items()
        ],
        "behaviours": behaviours,
        "turn_flags": [[] for _ in turns],
        "notes": {
            "language": "da",
            "summary": "",
            "went_well": [],
            "growth_points": [],
            "turning_points": [],
            "citizen_voice": None,
            "reflective_questions": ["Hvem ejede problemet?"],
            "next_goal": next_goal,
        },
    }


def make_session(
    svc: Services,
    owner: User,
    *,
    turns: list[tuple[str, str]] = TURNS,
    report: dict[str, Any] | bool | None = True,
    class_id: str | None = None,
    created: dt.datetime | None = None,
    title: str = "Samtale",
    parent_id: str | None = None,
    branch_turn: int | None = None,
) -> str:
    with svc.db.Session() as s:
        row = PracticeSession(
            owner_id=owner.id,
            scenario_id="test-scenario",
            language="da",
            title=title,
            status="ended",
            class_id=class_id,
            parent_id=parent_id,
            branch_turn=branch_turn,
        )
        if created is not None:
            row.created_at = created
            row.updated_at = created
        s.add(row)
        s.flush()
        for i, (speaker, text) in enumerate(turns):
            s.add(TurnRow(session_id=row.id, idx=i, speaker=speaker, text=text, meta={}))
        if report:
            data = report_dict(turns) if report is True else report
            s.add(
                ReportRow(
                    session_id=row.id,
                    rubric_version="1.0.0",
                    overall=float(data.get("overall") or 0),
                    report_json=json.dumps(data),
                )
            )
        s.commit()
        return row.id


def make_class(svc: Services, educator: User) -> str:
    with svc.db.Session() as s:
        c = Classroom(
            code=uuid.uuid4().hex[:6].upper(),
            educator_id=educator.id,
            scenario_id="test-scenario",
            title="Hold A",
        )
        s.add(c)
        s.commit()
        return c.id
