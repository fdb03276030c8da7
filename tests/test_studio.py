"""Scenario studio: live validation, drafts, duplicate, translation, publishing rights."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from citizen import studio
from citizen.library import load_library
from practice.services import build_services
from practice.settings import load_settings


def test_templates_are_valid_in_both_languages() -> None:
    for lang in ("da", "en"):
        check = studio.check_text(studio.template(lang))
        assert check.ok, [p.line() for p in check.errors]
        assert check.scenario is not None
        assert check.scenario.language == lang
        # a template is deliberately thin: the content checks say so
        assert "content.too_little" in {w.code for w in check.warnings}


def test_live_validation_names_field_and_reason() -> None:
    text = studio.template("da").replace("age: 40", "age: fyrre")
    check = studio.check_text(text)
    assert not check.ok
    assert [(p.path, p.code) for p in check.errors] == [("persona.age", "schema.int_parsing")]


def test_unknown_field_is_reported() -> None:
    text = studio.set_fields(studio.template("en"), **{"persona.nickname": "Bo"})
    check = studio.check_text(text)
    assert ("persona.nickname", "schema.extra_forbidden") in [
        (p.path, p.code) for p in check.errors
    ]


def test_set_fields_and_duplicate() -> None:
    text = studio.set_fields(
        studio.template("da"), title="Poul på bænken", **{"persona.name": "Poul"}
    )
    copy = studio.duplicate(text, author="Lærer Lis")
    data = yaml.safe_load(copy)
    assert data["id"] == "nyt-scenarie-da-copy"
    assert data["title"].startswith("Poul på bænken")
    assert data["persona"]["name"] == "Poul"
    assert data["author"] == "Lærer Lis"
    assert studio.check_text(copy).ok


def test_translation_is_linked_and_flagged_until_translated() -> None:
    copy = studio.start_translation(studio.template("da"), "en")
    data = yaml.safe_load(copy)
    assert (data["id"], data["language"], data["translation_of"]) == (
        "nyt-scenarie-en",
        "en",
        "nyt-scenarie-da",
    )
    check = studio.check_text(copy)
    assert check.ok
    assert "content.language_mismatch" in {w.code for w in check.warnings}
    with pytest.raises(studio.StudioError):
        studio.start_translation(copy, "en")


def test_publish_permissions(tmp_path: Path) -> None:
    text = studio.template("en")
    with pytest.raises(studio.StudioError, match="only educators"):
        studio.publish(
            text,
            tmp_path,
            author="P",
            role="practitioner",
            allow_publish_setting=False,
            shipped_ids=set(),
        )
    path = studio.publish(
        text,
        tmp_path,
        author="Eddie",
        role="educator",
        allow_publish_setting=False,
        shipped_ids=set(),
    )
    assert yaml.safe_load(path.read_text())["author"] == "Eddie"
    # before accounts exist, a setting opens publishing
    studio.publish(
        text,
        tmp_path,
        author="P",
        role="practitioner",
        allow_publish_setting=True,
        shipped_ids=set(),
    )


def test_publish_refuses_invalid_and_shipped_ids(tmp_path: Path) -> None:
    bad = studio.template("da").replace("difficulty: 1", "difficulty: 7")
    with pytest.raises(studio.StudioError, match="difficulty"):
        studio.publish(
            bad, tmp_path, author="A", role="admin", allow_publish_setting=False, shipped_ids=set()
        )
    with pytest.raises(studio.StudioError, match="shipped"):
        studio.publish(
            studio.template("da"),
            tmp_path,
            author="A",
            role="admin",
            allow_publish_setting=False,
            shipped_ids={"nyt-scenarie-da"},
        )
    assert list(tmp_path.iterdir()) == []


def test_published_scenario_joins_the_library(tmp_path: Path) -> None:
    settings = load_settings()
    svc = build_services(settings)
    before = set(svc.library().scenarios)
    studio.publish(
        studio.template("da"),
        settings.user_scenario_dir,
        author="Supervisor Sif",
        role="supervisor",
        allow_publish_setting=False,
        shipped_ids=before,
    )
    after = svc.library()
    assert set(after.scenarios) == before | {"nyt-scenarie-da"}
    # and it can be practised
    user = svc.practice.local_user()
    view = svc.practice.start(user, "nyt-scenarie-da")
    assert view.turns[0].text == "Hej. Jeg ved ikke helt, hvorfor jeg er her."
    svc.db.dispose()
    assert (
        "nyt-scenarie-da"
        in load_library(settings.library_dir, settings.user_scenario_dir).scenarios
    )


def _studio_app() -> AppTest:
    from app_test_helpers import APP, sign_in

    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at)
    at.switch_page("app_pages/studio.py")
    return at


def test_studio_page_shows_problems_and_previews() -> None:
    at = _studio_app()
    at.run()
    assert not at.exception, at.exception
    text = at.text_area(key="studio.yaml").value
    at.text_area(key="studio.yaml").set_value(text.replace("difficulty: 1", "difficulty: 9")).run()
    errors = " ".join(e.value for e in at.error)
    assert "difficulty" in errors
    at.text_area(key="studio.yaml").set_value(text).run()
    assert not at.error
    at.chat_input(key="studio.preview_input").set_value(
        "Hej, velkommen. Hvordan har du det i dag?"
    ).run()
    assert not at.exception, at.exception
    assert len(at.chat_message) == 3  # opening, the practitioner's words, the reply
    # a practitioner cannot publish without the setting
    assert at.button(key="studio.publish").disabled


def test_studio_explains_problems_in_the_ui_language() -> None:
    at = _studio_app()
    at.run()
    text = at.text_area(key="studio.yaml").value
    at.text_area(key="studio.yaml").set_value(text.replace("age: 40", "age: fyrre")).run()
    errors = " ".join(e.value for e in at.error)
    assert "persona.age" in errors
    assert "Her skal stå et helt tal." in errors  # Danish UI: plain Danish words
    assert "valid integer" in errors  # and the exact reason, for the technically minded
