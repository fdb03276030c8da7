"""Bring the database schema up to date. (Alembic migrations replace create_all here.)"""

from __future__ import annotations

from practice.db import Database


def upgrade(db: Database) -> None:
    db.create_all()
