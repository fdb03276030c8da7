"""The rubric files: both languages load, agree on structure, and bad files are reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from coach.rubric import load_rubric, load_rubric_file, rubric_path
from coach.schema import PRINCIPLE_IDS, Rubric


@pytest.fixture(scope="module")
def rubrics() -> dict[str, Rubric]:
    return {lang: load_rubric(lang) for lang in ("da", "en")}


def test_both_languages_load_with_all_principles(rubrics: dict[str, Rubric]) -> None:
    for lang, r in rubrics.items():
        assert r.language == lang
        assert [p.id for p in r.principles] == list(PRINCIPLE_IDS)
        assert re.fullmatch(r"\d+\.\d+\.\d+", r.version)
    assert rubrics["da"].version == rubrics["en"].version == "1.0.0"
    assert rubrics["da"].id == rubrics["en"].id


def test_languages_share_indicator_ids_signals_and_weights(rubrics: dict[str, Rubric]) -> None:
    da, en = rubrics["da"], rubrics["en"]
    for pda, pen in zip(da.principles, en.principles, strict=True):
        assert [i.id for i in pda.indicators] == [i.id for i in pen.indicators], pda.id
        assert [c.id for c in pda.counter_indicators] == [c.id for c in pen.counter_indicators]
        assert pda.signals == pen.signals
        assert pda.weight == pen.weight
        # labels and flags (language-independent hooks) must agree too
        for a, b in zip(
            [*pda.indicators, *pda.counter_indicators],
            [*pen.indicators, *pen.counter_indicators],
            strict=True,
        ):
            assert (a.detect is None) == (b.detect is None)
            if a.detect and b.detect:
                assert a.detect.labels == b.detect.labels, a.id
                assert a.detect.flags == b.detect.flags, a.id
                assert a.detect.statements_only == b.detect.statements_only, a.id


def test_every_principle_is_fully_described(rubrics: dict[str, Rubric]) -> None:
    for r in rubrics.values():
        for p in r.principles:
            assert sorted(p.anchors) == [1, 2, 3, 4, 5]
            assert p.source
            assert p.definition
            assert p.reflective_question
            assert p.next_goal
            assert all(c.alternatives for c in p.counter_indicators)
            # machine hooks exist on both sides so scoring is data-driven
            assert any(i.detect for i in p.indicators), p.id
            assert any(c.detect for c in p.counter_indicators), p.id


def test_meet_where_they_are_cites_kierkegaard(rubrics: dict[str, Rubric]) -> None:
    src = rubrics["da"].principle("meet_where_they_are").source
    assert "Kierkegaard" in src
    assert "finde ham der, hvor han er, og begynde der" in src


def test_danish_cues_match_danish_phrasing(rubrics: dict[str, Rubric]) -> None:
    def fires(pid: str, ind: str, text: str) -> bool:
        p = rubrics["da"].principle(pid)
        hook = next(i for i in [*p.indicators, *p.counter_indicators] if i.id == ind).detect
        assert hook is not None
        return any(re.search(c, text, re.I) for c in hook.cues)

    assert fires("citizen_shapes_solution", "asks_permission", "Må jeg foreslå noget?")
    assert fires("person_not_case", "jargon", "Det er en foranstaltning efter § 52.")
    assert fires("trust_not_suspicion", "threatens_sanction", "Ellers mister du din ydelse.")
    assert not fires("trust_not_suspicion", "threatens_sanction", "Hvem kan ellers støtte dig?")
    assert fires("resources_first", "asks_strengths", "Hvad er du god til?")


def _write(tmp_path: Path, data: dict, name: str = "relational-da.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def raw_da() -> dict:
    return yaml.safe_load(rubric_path("da").read_text(encoding="utf-8"))


def test_unknown_field_is_reported_with_its_path(tmp_path: Path, raw_da: dict) -> None:
    raw_da["principles"][0]["wieght"] = 2
    rubric, problems = load_rubric_file(_write(tmp_path, raw_da))
    assert rubric is None
    assert any(
        p.code == "schema.extra_forbidden" and p.path == "principles[0].wieght" for p in problems
    )
    assert all(p.line().startswith(str(tmp_path)) for p in problems)


def test_missing_principle_is_an_error(tmp_path: Path, raw_da: dict) -> None:
    raw_da["principles"] = raw_da["principles"][:-1]
    rubric, problems = load_rubric_file(_write(tmp_path, raw_da))
    assert rubric is None
    assert any("person_not_case" in p.reason for p in problems)


def test_bad_regex_and_bad_anchor_are_errors(tmp_path: Path, raw_da: dict) -> None:
    raw_da["principles"][0]["indicators"][0]["detect"]["cues"].append("(unclosed")
    raw_da["principles"][1]["anchors"] = {1: "a", 2: "b", 3: "c", 4: "d"}
    rubric, problems = load_rubric_file(_write(tmp_path, raw_da))
    assert rubric is None
    reasons = " ".join(p.reason for p in problems)
    assert "invalid regular expression" in reasons
    assert "anchors" in reasons


def test_unknown_coder_label_and_version(tmp_path: Path, raw_da: dict) -> None:
    raw_da["principles"][0]["indicators"][1]["detect"]["labels"] = ["open_questoin"]
    _, problems = load_rubric_file(_write(tmp_path, raw_da))
    assert any(p.path.startswith("principles[0].indicators[1].detect.labels") for p in problems)
    raw_da["schema_version"] = 99
    _, problems = load_rubric_file(_write(tmp_path, raw_da))
    assert [p.code for p in problems] == ["schema.version_unsupported"]


def test_language_must_match_file_name(tmp_path: Path, raw_da: dict) -> None:
    rubric, problems = load_rubric_file(_write(tmp_path, raw_da, "relational-en.yaml"))
    assert rubric is None
    assert problems[0].code == "rubric.language_mismatch"


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        load_rubric("sv")
