"""The scenario validator: must-fail fixtures, content checks, the CLI, the JSON Schema, and
every shipped scenario under ``--strict``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from base.datafiles import MAX_FILE_BYTES
from citizen.library import load_scenario_file, load_scenario_text
from citizen.schema import Scenario
from citizen.validate import (
    DEFAULT_PRINCIPLES,
    KEY_OPENERS,
    TRIGGER_KINDS,
    content_problems,
    guess_language,
    main_schema,
    main_validate,
    rubric_principles,
    schema_text,
    validate_paths,
)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "must_fail"
MUST_FAIL = sorted(FIXTURES.glob("*.yaml"))
SHIPPED = sorted((REPO / "scenarios").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (?P<code>[a-z_.]+) at (?P<path>\S+)\s*$", re.MULTILINE)
LINE = re.compile(r"^(?P<file>[^:]+): (?P<path>[^:]+): (?P<reason>.+) \[(?P<code>[a-z_.]+)\]$")

# The must-fail fixtures are this scenario with one edit each; it must itself be valid.
MINIMAL = (FIXTURES / "content_too_little.yaml").read_text(encoding="utf-8")


def expectation(path: Path) -> tuple[str, str]:
    header = path.read_bytes().decode("utf-8", errors="replace")
    m = EXPECT.search(header)
    assert m is not None, f"{path.name} has no '# expect: <code> at <path>' header"
    return m["code"], "" if m["path"] == "<file>" else m["path"]


def minimal_data() -> dict:
    return yaml.safe_load(MINIMAL)


def scenario_from(data: dict) -> Scenario:
    return Scenario.model_validate(data)


# -- must-fail fixtures --------------------------------------------------------------------
def test_there_are_enough_fixtures() -> None:
    assert len(MUST_FAIL) >= 10


@pytest.mark.parametrize("path", MUST_FAIL, ids=lambda p: p.stem)
def test_must_fail_fixture_reports_expected_problem(path: Path) -> None:
    code, field = expectation(path)
    _lib, problems = validate_paths([path], strict=True)
    errors = [(p.code, p.path) for p in problems if p.severity == "error"]
    assert (code, field) in errors, f"{path.name}: expected {code} at {field!r}, got {errors}"
    if not code.startswith("content."):
        scenario, _ = load_scenario_file(path)
        assert scenario is None


@pytest.mark.parametrize(
    "path", [p for p in MUST_FAIL if p.stem.startswith("content_")], ids=lambda p: p.stem
)
def test_content_fixtures_are_only_warnings_without_strict(path: Path) -> None:
    lib, problems = validate_paths([path], strict=False)
    assert len(lib.scenarios) == 1
    assert problems
    assert all(p.severity == "warning" for p in problems)


def test_minimal_base_is_schema_valid() -> None:
    scenario, problems = load_scenario_text(MINIMAL)
    assert problems == []
    assert scenario is not None


def test_huge_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "huge.yaml"
    big.write_text(MINIMAL + "# " + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    _lib, problems = validate_paths([big])
    assert [(p.code, p.path) for p in problems] == [("file.too_large", "")]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(MINIMAL, encoding="utf-8")
    lib, problems = validate_paths([tmp_path])
    dupes = [p for p in problems if p.code == "library.duplicate_id"]
    assert len(dupes) == 1
    assert dupes[0].file.endswith("b.yaml")
    assert dupes[0].path == "id"
    assert list(lib.scenarios) == ["minimal-test"]


def test_translation_pointing_nowhere_is_a_warning(tmp_path: Path) -> None:
    data = minimal_data()
    data["translation_of"] = "no-such-scenario"
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    _lib, problems = validate_paths([tmp_path], strict=True)
    found = [p for p in problems if p.code == "library.translation_missing"]
    assert len(found) == 1
    assert found[0].severity == "warning"


def test_translation_drift_and_language_are_warnings(tmp_path: Path) -> None:
    original = minimal_data()
    translation = minimal_data()
    translation.update(id="minimal-test-copy", translation_of="minimal-test", difficulty=3)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(original), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(translation), encoding="utf-8")
    _lib, problems = validate_paths([tmp_path], strict=True)
    found = {(p.code, p.path, p.severity) for p in problems if p.code.startswith("library.")}
    assert found == {
        ("library.translation_language", "translation_of", "warning"),
        ("library.translation_drift", "difficulty", "warning"),
    }


# -- content checks -----------------------------------------------------------------------
def rich_data() -> dict:
    """The minimal scenario grown until it passes every content check."""
    data = minimal_data()
    topics = []
    for i in range(9):
        topics.append(
            {
                "id": f"topic-{i}",
                "examples": [
                    f"Tell me about the garden, part {i}, question {k}." for k in range(4)
                ],
                "replies": {
                    band: [
                        f"The {band} answer number {k} about the garden and the flat, part {i}."
                        for k in range(2)
                    ]
                    for band in ("low", "mid", "high")
                },
            }
        )
    data["topics"] = topics
    data["reactions"] = {
        kind: {"low": ["That is not what I meant."], "mid": ["Well, I see what you are saying."]}
        for kind in (*TRIGGER_KINDS, *KEY_OPENERS)
    }
    data["plan_responses"] = {
        name: {band: [f"{name} at {band}: not like that."] for band in ("low", "mid", "high")}
        for name in ("too_early", "not_mine")
    }
    return data


def codes(data: dict) -> set[str]:
    return {
        p.code
        for p in content_problems(scenario_from(data), "x.yaml", frozenset(DEFAULT_PRINCIPLES))
    }


def test_rich_scenario_has_no_content_problems() -> None:
    assert codes(rich_data()) == set()


def test_content_problems_are_warnings_with_file() -> None:
    problems = content_problems(scenario_from(minimal_data()), "m.yaml")
    assert problems
    assert {p.severity for p in problems} == {"warning"}
    assert {p.file for p in problems} == {"m.yaml"}
    assert all(p.code.startswith("content.") for p in problems)


def test_too_little_when_topics_are_thin() -> None:
    data = rich_data()
    for t in data["topics"][:4]:
        t["replies"]["high"] = t["replies"]["high"][:1]
    assert "content.too_little" in codes(data)
    data = rich_data()
    data["topics"][0]["replies"]["high"] = data["topics"][0]["replies"]["high"][:1]
    assert "content.too_little" not in codes(data)  # one thin topic of nine is fine


def test_missing_reaction_names_the_trigger() -> None:
    data = rich_data()
    del data["reactions"]["sanction"]
    problems = content_problems(scenario_from(data), "x.yaml")
    assert [(p.code, p.path) for p in problems] == [
        ("content.missing_reaction", "reactions.sanction")
    ]


def test_too_few_topics_and_examples() -> None:
    data = rich_data()
    data["topics"] = data["topics"][:8]
    assert "content.too_little" in codes(data)
    data = rich_data()
    data["topics"][2]["examples"] = data["topics"][2]["examples"][:3]
    problems = content_problems(scenario_from(data), "x.yaml")
    assert [(p.code, p.path) for p in problems] == [("content.too_little", "topics")]
    assert "topic-2" in problems[0].reason


def test_missing_opener_reaction_and_guarded_lines() -> None:
    data = rich_data()
    del data["reactions"]["validation"]
    data["topics"][4]["depth"] = 1
    problems = content_problems(scenario_from(data), "x.yaml")
    assert sorted((p.code, p.path) for p in problems) == [
        ("content.missing_guarded", "topics[4].guarded"),
        ("content.missing_reaction", "reactions.validation"),
    ]


def test_unreachable_depth_cascades_to_later_depths_and_plans() -> None:
    data = rich_data()
    data["disclosure"][2]["unlock"] = {"min_trust": 0.95, "any_of": ["validation"]}
    data["acceptable_plans"][0]["min_depth"] = 2
    data["topics"][1]["depth"] = 3
    data["topics"][1]["guarded"] = ["Not now."]
    problems = [
        (p.code, p.path)
        for p in content_problems(scenario_from(data), "x.yaml")
        if p.code == "content.unreachable_depth"
    ]
    assert ("content.unreachable_depth", "disclosure[2].unlock.min_trust") in problems
    assert ("content.unreachable_depth", "disclosure[3].unlock") in problems
    assert ("content.unreachable_depth", "acceptable_plans[0]") in problems
    assert ("content.unreachable_depth", "acceptable_plans") in problems
    assert ("content.unreachable_depth", "topics[1].depth") in problems
    assert ("content.unreachable_depth", "topics[0].depth") not in problems


def test_lower_min_trust_than_previous_depth_is_fine() -> None:
    data = rich_data()
    data["disclosure"][3]["unlock"] = {"min_trust": 0.3, "any_of": ["reflection"]}
    assert codes(data) == set()


def test_unknown_principle_uses_rubric_files(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        yaml.safe_dump({"principles": [{"id": "only_this_one", "name": "x"}]}), encoding="utf-8"
    )
    known = rubric_principles(tmp_path)
    assert known == frozenset({"only_this_one"})
    problems = content_problems(scenario_from(rich_data()), "x.yaml", known)
    assert [p.code for p in problems] == ["content.unknown_principle"]
    assert rubric_principles(tmp_path / "missing") == frozenset(DEFAULT_PRINCIPLES)


def test_language_guess() -> None:
    assert guess_language("I don't know what you want from me, it is not that simple.") == "en"
    assert guess_language("Jeg ved ikke hvad du vil have mig til, det er ikke så nemt.") == "da"
    assert guess_language("Hm.") is None


def test_single_line_in_the_wrong_language_is_flagged() -> None:
    data = rich_data()
    data["topics"][3]["replies"]["mid"][1] = (
        "Jeg ved ikke hvad du vil have mig til at sige, det er ikke nemt."
    )
    problems = content_problems(scenario_from(data), "x.yaml")
    assert [(p.code, p.path) for p in problems] == [
        ("content.language_mismatch", "topics[3].replies.mid[1]")
    ]


def test_real_names_from_seed_texts_are_flagged() -> None:
    data = rich_data()
    data["case_file"] = "Meeting held with Helle Øbo present."
    assert "content.real_name" in codes(data)


# -- CLI ----------------------------------------------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citizen", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_reports_one_line_per_problem_and_fails() -> None:
    files = [
        str(FIXTURES / "unknown_key.yaml"),
        str(FIXTURES / "missing_field.yaml"),
        str(FIXTURES / "yaml_syntax.yaml"),
    ]
    proc = run_cli("validate", *files)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["path"], m["code"]) for m in parsed if m] == [
        ("persona.nickname", "schema.extra_forbidden"),
        ("briefing", "schema.missing"),
        ("<file>", "yaml.syntax"),
    ]
    assert "3 file(s), 0 valid scenario(s), 3 error(s)" in proc.stderr


def test_cli_warnings_pass_but_strict_fails(tmp_path: Path) -> None:
    path = tmp_path / "minimal.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    loose = run_cli("validate", str(path))
    assert loose.returncode == 0
    assert loose.stdout
    assert all(": warning: " in line for line in loose.stdout.splitlines())
    strict = run_cli("validate", "--strict", str(path))
    assert strict.returncode == 1
    assert all(
        LINE.match(line) and ": warning: " not in line for line in strict.stdout.splitlines()
    )


def test_cli_valid_file_exits_zero_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rich.yaml"
    path.write_text(yaml.safe_dump(rich_data(), allow_unicode=True), encoding="utf-8")
    assert main_validate(["--strict", str(path)]) == 0
    out = capsys.readouterr()
    assert out.out == ""
    assert "1 valid scenario(s), 0 error(s), 0 warning(s)" in out.err


def test_cli_empty_folder_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_validate([str(tmp_path)]) == 1
    assert "[file.none]" in capsys.readouterr().out


def test_cli_missing_path_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_validate([str(tmp_path / "nope.yaml")]) == 1
    assert "[file.missing]" in capsys.readouterr().out


def test_cli_all_must_fail_fixtures_fail_in_subprocess() -> None:
    proc = run_cli("validate", "--strict", str(FIXTURES))
    assert proc.returncode == 1
    reported = {
        (m["file"], m["path"], m["code"])
        for line in proc.stdout.splitlines()
        if (m := LINE.match(line))
    }
    for path in MUST_FAIL:
        code, field = expectation(path)
        assert (str(path), field or "<file>", code) in reported, path.name


# -- JSON Schema --------------------------------------------------------------------------
def test_committed_schema_is_up_to_date() -> None:
    committed = (REPO / "schema" / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), (
        "run: python -m citizen schema --output schema/scenario.schema.json"
    )


def test_schema_command_writes_file(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert main_schema(["--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert '"additionalProperties": false' in text
    assert main_schema(["--check", "--output", str(out)]) == 0
    out.write_text(text.replace("persona", "personae"), encoding="utf-8")
    assert main_schema(["--check", "--output", str(out)]) == 1


def test_scenario_files_point_editors_at_the_schema() -> None:
    for path in SHIPPED:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/scenario.schema.json", path.name


# -- the shipped library ------------------------------------------------------------------
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_passes_strict(path: Path) -> None:
    _lib, problems = validate_paths([path], strict=True)
    errors = [p.line() for p in problems if p.severity == "error"]
    assert errors == []


def test_shipped_library_has_no_cross_file_problems() -> None:
    if not SHIPPED:
        pytest.skip("no scenarios shipped yet")
    _lib, problems = validate_paths([REPO / "scenarios"], strict=True)
    assert [p.line() for p in problems] == []
