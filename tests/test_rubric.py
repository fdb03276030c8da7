"""The rubric files: both languages load, agree on structure, read practitioner turns only
through the reading (behaviour codes and moves, no regular expressions), and bad files are
reported with file, field path and reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from coach.rubric import load_rubric, load_rubric_file, rubric_path
from coach.schema import PRINCIPLE_IDS, RUBRIC_SCHEMA_VERSION, Hook, Rubric
from reading import BEHAVIOURS, MOVES


@pytest.fixture(scope="module")
def rubrics() -> dict[str, Rubric]:
    return {lang: load_rubric(lang) for lang in ("da", "en")}


def test_both_languages_load_with_all_principles(rubrics: dict[str, Rubric]) -> None:
    for lang, r in rubrics.items():
        assert r.language == lang
        assert [p.id for p in r.principles] == list(PRINCIPLE_IDS)
        assert re.fullmatch(r"\d+\.\d+\.\d+", r.version)
    assert rubrics["da"].version == rubrics["en"].version == "2.0.0"
    assert rubrics["da"].id == rubrics["en"].id
    assert rubrics["da"].schema_version == RUBRIC_SCHEMA_VERSION == 2


def test_languages_share_indicator_ids_signals_and_weights(rubrics: dict[str, Rubric]) -> None:
    da, en = rubrics["da"], rubrics["en"]
    for pda, pen in zip(da.principles, en.principles, strict=True):
        assert [i.id for i in pda.indicators] == [i.id for i in pen.indicators], pda.id
        assert [c.id for c in pda.counter_indicators] == [c.id for c in pen.counter_indicators]
        assert pda.signals == pen.signals
        assert pda.weight == pen.weight
        # the hooks name codes and moves of the reading, not words: identical in both languages
        for a, b in zip(
            [*pda.indicators, *pda.counter_indicators],
            [*pen.indicators, *pen.counter_indicators],
            strict=True,
        ):
            assert a.detect == b.detect, a.id
    assert da.miti == en.miti
    for field in ("practitioner_problem", "practitioner_plan", "practitioner_plan_labels"):
        assert getattr(da.ownership, field) == getattr(en.ownership, field), field


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


def test_practitioner_turns_are_read_only_through_the_reading(rubrics: dict[str, Rubric]) -> None:
    assert set(Hook.model_fields) == {"labels", "moves", "unless_moves"}  # no regex fields
    for r in rubrics.values():
        for p in r.principles:
            for ind in [*p.indicators, *p.counter_indicators]:
                assert ind.detect is not None, (p.id, ind.id)
                assert set(ind.detect.labels) <= set(BEHAVIOURS)
                assert set(ind.detect.moves) | set(ind.detect.unless_moves) <= set(MOVES)
        assert set(r.ownership.practitioner_problem) <= set(MOVES)
        assert set(r.ownership.practitioner_plan) <= set(MOVES)
        for cat in ("seek_collaboration", "affirm", "emphasize_autonomy", "confront", "persuade"):
            assert getattr(r.miti, cat), cat
            assert set(getattr(r.miti, cat)) <= set(MOVES), cat
    # the suggested mapping of the indicators that matter most
    da = rubrics["da"]

    def hook(pid: str, ind: str) -> Hook:
        p = da.principle(pid)
        found = next(i for i in [*p.indicators, *p.counter_indicators] if i.id == ind).detect
        assert found is not None
        return found

    assert hook("citizen_shapes_solution", "prescribes_plan").moves == ["directive"]
    assert hook("citizen_shapes_solution", "advice_without_permission").unless_moves == [
        "asks_permission"
    ]
    assert hook("meet_where_they_are", "closed_questions").unless_moves == ["asks_permission"]
    assert hook("citizen_defines_problem", "defines_for_them").moves == ["labelling"]
    assert hook("trust_not_suspicion", "threatens_sanction").moves == ["sanction"]
    assert hook("person_not_case", "jargon").moves == ["jargon"]


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
    raw_da["ownership"]["citizen_problem"].append("(unclosed")  # citizen cues are still regexes
    raw_da["principles"][1]["anchors"] = {1: "a", 2: "b", 3: "c", 4: "d"}
    path = _write(tmp_path, raw_da)
    rubric, problems = load_rubric_file(path)
    assert rubric is None
    by_path = {p.path: p for p in problems}
    assert "invalid regular expression" in by_path["ownership.citizen_problem"].reason
    assert "anchors" in by_path["principles[1].anchors"].reason
    assert all(p.file == str(path) for p in problems)


def test_regex_cues_in_a_hook_are_refused(tmp_path: Path, raw_da: dict) -> None:
    raw_da["principles"][0]["indicators"][0]["detect"]["cues"] = [r"\bhvad tænker du\b"]
    raw_da["principles"][2]["counter_indicators"][1]["detect"]["unless_cues"] = [r"\bmå jeg\b"]
    rubric, problems = load_rubric_file(_write(tmp_path, raw_da))
    assert rubric is None
    paths = {p.path for p in problems if p.code == "schema.extra_forbidden"}
    assert paths == {
        "principles[0].indicators[0].detect.cues",
        "principles[2].counter_indicators[1].detect.unless_cues",
    }


def test_unknown_label_move_and_version(tmp_path: Path, raw_da: dict) -> None:
    raw_da["principles"][0]["indicators"][1]["detect"]["labels"] = ["open_questoin"]
    raw_da["principles"][0]["indicators"][0]["detect"]["moves"] = ["asks_what_matter"]
    raw_da["ownership"]["practitioner_plan"] = [r"\bplanen er\b"]  # a regex is not a move
    raw_da["miti"]["affirm"] = ["affirm"]
    _, problems = load_rubric_file(_write(tmp_path, raw_da))
    paths = {p.path for p in problems}
    assert "principles[0].indicators[1].detect.labels[0]" in paths
    assert "principles[0].indicators[0].detect.moves[0]" in paths
    assert "ownership.practitioner_plan[0]" in paths
    assert "miti.affirm[0]" in paths
    raw_da["schema_version"] = 1  # a rubric with regex cues
    _, problems = load_rubric_file(_write(tmp_path, raw_da))
    assert [p.code for p in problems] == ["schema.version_unsupported"]
    assert problems[0].path == "schema_version"


def test_a_hook_needs_codes_or_moves_and_cannot_contradict_itself(
    tmp_path: Path, raw_da: dict
) -> None:
    raw_da["principles"][0]["indicators"][0]["detect"] = {"unless_moves": ["asks_permission"]}
    raw_da["principles"][2]["counter_indicators"][0]["detect"] = {
        "moves": ["directive"],
        "unless_moves": ["directive"],
    }
    raw_da["principles"][3]["indicators"][0]["detect"] = {"moves": ["transparency", "transparency"]}
    _, problems = load_rubric_file(_write(tmp_path, raw_da))
    by_path = {p.path: p.reason for p in problems}
    assert "at least one of labels or moves" in by_path["principles[0].indicators[0].detect"]
    assert "in both moves and unless_moves" in by_path["principles[2].counter_indicators[0].detect"]
    assert "more than once" in by_path["principles[3].indicators[0].detect.moves"]


def test_language_must_match_file_name(tmp_path: Path, raw_da: dict) -> None:
    rubric, problems = load_rubric_file(_write(tmp_path, raw_da, "relational-en.yaml"))
    assert rubric is None
    assert problems[0].code == "rubric.language_mismatch"


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        load_rubric("sv")
