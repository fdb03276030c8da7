"""Bring the database schema up to date with Alembic (``practice/migrations``).

Configured in code: no ``alembic.ini`` is needed at run time.

    from practice.migrate import upgrade
    upgrade(db)                      # what build_services() does on every start

    python -m practice.migrate upgrade            # DATABASE_URL or the default SQLite file
    python -m practice.migrate current
    python -m practice.migrate revision -m "add x" # autogenerate a new migration (developers)

Rules:
- an empty database is migrated to ``head``;
- a database created by the old ``create_all`` (tables but no ``alembic_version``) is
  stamped at the initial revision (whose schema it has), any table it lacks is created,
  and it is then upgraded to ``head``;
- several replicas starting at once against PostgreSQL take an advisory lock, so only one
  of them runs the migrations; the others wait and find the schema current.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from practice.db import Base, Database
from practice.settings import load_settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
INITIAL_REVISION = "0001_initial"
_ADVISORY_KEY = 7_424_631_001  # any constant: "relpractice migrations"
_local_lock = threading.Lock()


class MigrationError(RuntimeError):
    """The schema could not be brought up to date. The message says what to do."""


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise MigrationError(f"expected one migration head, found {heads}: merge them")
    return heads[0]


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate ``db`` to ``revision`` (default: the newest). Idempotent and cheap when the
    schema is already current (one query)."""
    try:
        with db.engine.connect() as conn:
            if revision == "head" and current_revision(conn) == head_revision():
                return
    except Exception as exc:
        raise MigrationError(_unavailable(db.url, exc)) from exc
    try:
        with _local_lock, db.engine.begin() as conn:
            _lock(conn)  # released at the end of this transaction (PostgreSQL)
            current = current_revision(conn)
            if current is None and "users" in inspect(conn).get_table_names():
                log.warning("database created before migrations: stamping %s", INITIAL_REVISION)
                # the tables of the initial revision; anything newer is added by the upgrade
                Base.metadata.create_all(conn, checkfirst=True, tables=_initial_tables())
                command.stamp(alembic_config(connection=conn), INITIAL_REVISION)
            command.upgrade(alembic_config(connection=conn), revision)
    except Exception as exc:
        # another process (a second replica on SQLite, which has no advisory lock) may have
        # migrated at the same moment: fine if the schema is now current
        try:
            with db.engine.connect() as conn:
                if revision == "head" and current_revision(conn) == head_revision():
                    return
        except Exception:
            pass
        raise MigrationError(
            f"The database schema could not be brought up to date ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:300] if str(exc) else ''}). Run "
            "`python -m practice.migrate upgrade` to see the details."
        ) from exc


def _initial_tables() -> list:
    names = {
        "users",
        "practice_sessions",
        "turns",
        "reports",
        "session_shares",
        "comments",
        "score_overrides",
        "classrooms",
        "class_members",
    }
    return [t for t in Base.metadata.sorted_tables if t.name in names]


def _unavailable(url: str, exc: Exception) -> str:
    from sqlalchemy.engine import make_url

    try:
        safe = make_url(url).render_as_string(hide_password=True)
    except Exception:
        safe = "<unparseable DATABASE_URL>"
    return (
        f"The database at {safe} cannot be opened ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0][:200] if str(exc) else ''}). Check DATABASE_URL, that the "
        "database server is running, and that the data folder is writable."
    )


def schema_differences(db: Database) -> list:
    """Alembic's autogenerate comparison of the live schema with ``practice.db``'s models:
    an empty list means they match."""
    from alembic.autogenerate import compare_metadata

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def main(argv: list[str] | None = None) -> int:

    parser = argparse.ArgumentParser(prog="python -m practice.migrate", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("upgrade", help="migrate to the newest revision")
    sub.add_parser("current", help="show the database's revision")
    sub.add_parser("check", help="exit 1 if the schema differs from practice/db.py")
    rev = sub.add_parser("revision", help="autogenerate a new migration from practice/db.py")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    url = load_settings().database_url
    db = Database(url)
    try:
        if args.cmd == "upgrade":
            upgrade(db)
            print(f"database at revision {head_revision()}")
        elif args.cmd == "current":
            with db.engine.connect() as conn:
                print(current_revision(conn) or "(none)")
        elif args.cmd == "check":
            diffs = schema_differences(db)
            for d in diffs:
                print(d)
            return 1 if diffs else 0
        else:
            upgrade(db)
            command.revision(alembic_config(url), message=args.message, autogenerate=True)
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
