"""Alembic migrations: ``upgrade head`` on an empty database yields exactly the models'
metadata (Alembic's own autogenerate comparison), an old create_all database is adopted
safely, and a broken database URL gives a clear error. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL too (see conftest)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from practice import migrate
from practice.db import Base, Database, PracticeSession, TurnRow, User
from practice.settings import load_settings


@pytest.fixture
def db():
    database = Database(load_settings().database_url)
    yield database
    database.dispose()


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_upgrade_head_on_an_empty_database_matches_the_models(db) -> None:
    assert _tables(db) == set()
    migrate.upgrade(db)
    assert _tables(db) == {*Base.metadata.tables, "alembic_version"}
    assert migrate.schema_differences(db) == []
    with db.engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()


def test_compare_metadata_notices_a_missing_index(db) -> None:
    """The comparison the test above relies on can fail: drop an index and it reports it."""
    migrate.upgrade(db)
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX IF EXISTS ix_classrooms_educator_id"))
    diffs = migrate.schema_differences(db)
    assert diffs, "compare_metadata must report the dropped index"
    assert "ix_classrooms_educator_id" in repr(diffs)


def test_upgrade_is_idempotent_and_keeps_data(db) -> None:
    migrate.upgrade(db)
    with db.Session() as s:
        u = User(username="anna", display_name="Anna")
        s.add(u)
        s.commit()
    migrate.upgrade(db)
    migrate.upgrade(db)
    with db.Session() as s:
        assert [x.username for x in s.query(User).all()] == ["anna"]


def test_downgrade_to_base_and_up_again(db) -> None:
    from alembic import command

    migrate.upgrade(db)
    with db.engine.begin() as conn:
        command.downgrade(migrate.alembic_config(connection=conn), "base")
    assert _tables(db) == {"alembic_version"}
    migrate.upgrade(db)
    assert migrate.schema_differences(db) == []


def test_a_create_all_database_is_stamped_and_keeps_its_data(db) -> None:
    """A data folder from before Alembic: tables from create_all, no alembic_version."""
    Base.metadata.create_all(db.engine)
    with db.Session() as s:
        u = User(username="old", display_name="Old")
        s.add(u)
        s.flush()
        row = PracticeSession(owner_id=u.id, scenario_id="x", language="da")
        s.add(row)
        s.flush()
        s.add(TurnRow(session_id=row.id, idx=0, speaker="citizen", text="Hej", meta={}))
        s.commit()
    assert "alembic_version" not in _tables(db)
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
    assert migrate.schema_differences(db) == []
    with db.Session() as s:
        assert s.query(TurnRow).one().text == "Hej"


def test_a_partial_create_all_database_gets_its_missing_tables(db) -> None:
    Base.metadata.create_all(db.engine, tables=[Base.metadata.tables["users"]])
    migrate.upgrade(db)
    assert migrate.schema_differences(db) == []


def test_build_services_migrates(tmp_path) -> None:
    from practice.services import build_services

    svc = build_services(load_settings())
    try:
        with svc.db.engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
    finally:
        svc.db.dispose()


def test_one_migration_head() -> None:
    assert migrate.head_revision() == "0001_initial"


def test_unreachable_database_gives_a_clear_error() -> None:
    from llm_server import closed_port

    url = f"postgresql+psycopg://u:secretpw@127.0.0.1:{closed_port()}/nothing?connect_timeout=3"
    db = Database(url)
    try:
        with pytest.raises(migrate.MigrationError) as err:
            migrate.upgrade(db)
    finally:
        db.dispose()
    message = str(err.value)
    assert "cannot be opened" in message
    assert "DATABASE_URL" in message
    assert "secretpw" not in message  # the password is never shown


def test_cli_check_and_current(db, capsys) -> None:
    assert load_settings().database_url == db.url  # the CLI opens the same database
    migrate.upgrade(db)
    assert migrate.main(["current"]) == 0
    assert migrate.head_revision() in capsys.readouterr().out
    assert migrate.main(["check"]) == 0


def test_the_backend_is_what_the_test_id_says(db_backend: str, db) -> None:
    """With TEST_DATABASE_URL set, the [postgres] runs really use PostgreSQL (in their own
    schema), so a passing suite means the same code works on both."""
    expected = {"sqlite": "sqlite", "postgres": "postgresql"}[db_backend]
    assert db.engine.dialect.name == expected
    if db_backend == "postgres":
        with db.engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        assert schema.startswith("t_")
