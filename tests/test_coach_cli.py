"""python -m coach score FILE... --json"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coach.__main__ import load_transcript, main
from reading import BEHAVIOURS, MOVES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "coach"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {
        "rel": FIXTURES / "da_relational.json",
        "sys": FIXTURES / "en_system.json",
        "bad_speaker": tmp_path / "bad_speaker.json",
        "bad_json": tmp_path / "bad_json.json",
        "not_object": tmp_path / "list.json",
        "missing": tmp_path / "missing.json",
        "empty": tmp_path / "citizen_only.json",
    }
    out["bad_speaker"].write_text(
        json.dumps({"language": "da", "turns": [{"speaker": "worker", "text": "hej"}]}),
        encoding="utf-8",
    )
    out["bad_json"].write_text('{"language": "da", "turns": [', encoding="utf-8")
    out["not_object"].write_text("[1, 2]", encoding="utf-8")
    out["empty"].write_text(
        json.dumps({"language": "en", "turns": [{"speaker": "citizen", "text": "Hello?"}]}),
        encoding="utf-8",
    )
    return out


def test_json_output_one_object_per_file_in_order(files, capsys) -> None:
    rc = main(["score", str(files["rel"]), str(files["sys"]), str(files["empty"]), "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0
    objs = [json.loads(line) for line in out]
    assert len(objs) == 3
    rel, sys_, empty = objs
    assert rel["language"] == "da"
    assert sys_["language"] == "en"
    for obj in (rel, sys_):
        assert set(obj) >= {"overall", "principles", "summary", "behaviours", "ownership"}
        for key in ("problem", "plan", "adopted_plan"):
            assert {"by", "turn", "quote"} <= set(obj["ownership"][key])
        # the calibrated overall's band holds it; patterns and signals are part of the output
        low, high = obj["overall_band"]
        assert low <= obj["overall"] <= high
        assert isinstance(obj["patterns"], list)
        assert 0 <= obj["signals"]["practitioner_word_share"] <= 1
        # the moves the reading found, per turn (none for citizen turns)
        assert len(obj["turn_flags"]) == len(obj["behaviours"])
        for label, flags in zip(obj["behaviours"], obj["turn_flags"], strict=True):
            assert set(flags) <= set(MOVES)
            assert label is not None or flags == []
            assert label is None or label in BEHAVIOURS
        assert obj["reader"].startswith("reader-")
        assert set(obj["principles"]) == {
            "meet_where_they_are",
            "citizen_defines_problem",
            "citizen_shapes_solution",
            "stand_beside",
            "resources_first",
            "trust_not_suspicion",
            "person_not_case",
        }
        for p in obj["principles"].values():
            assert 1 <= p["score"] <= 5
            assert isinstance(p["evidence"], list)
        assert "reflection_to_question" in obj["summary"]
    assert rel["overall"] > sys_["overall"]
    assert rel["ownership"]["plan"]["by"] == "citizen"
    assert sys_["ownership"]["plan"]["by"] == "practitioner"
    assert "directive" in {f for flags in sys_["turn_flags"] for f in flags}
    assert len(rel["behaviours"]) == 20
    assert rel["behaviours"][1] is None
    assert empty["overall"] is None
    assert empty["status"] == "no_practitioner_turns"


def test_bad_files_are_reported_and_the_rest_still_scored(files, capsys) -> None:
    args = ["score", str(files["bad_speaker"]), str(files["rel"]), str(files["bad_json"])]
    args += [str(files["not_object"]), str(files["missing"]), str(files["sys"]), "--json"]
    rc = main(args)
    cap = capsys.readouterr()
    assert rc == 1
    objs = [json.loads(line) for line in cap.out.strip().splitlines()]
    assert [o["language"] for o in objs] == ["da", "en"]  # the two good files, in order
    err = [line for line in cap.err.splitlines() if line.strip() and "scoring" not in line]
    assert any(line.startswith(f"{files['bad_speaker']}: turns[0].speaker: ") for line in err)
    assert any(line.startswith(f"{files['bad_json']}: <file>: not valid JSON") for line in err)
    assert any(
        line.startswith(f"{files['not_object']}: <file>: expected a JSON object") for line in err
    )
    assert any(line.startswith(f"{files['missing']}: <file>: cannot read file") for line in err)


def test_load_transcript_problem_codes(files) -> None:
    assert load_transcript(files["rel"])[0] is not None
    assert load_transcript(files["bad_json"])[1][0].code == "json.syntax"
    assert load_transcript(files["bad_speaker"])[1][0].code == "schema.literal_error"
    assert load_transcript(files["missing"])[1][0].code == "file.unreadable"


def test_text_output_and_notes(files, capsys) -> None:
    assert main(["score", str(files["rel"])]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{files['rel']}: overall ")
    assert "meet_where_they_are=" in line
    assert main(["score", str(files["rel"]), "--json", "--notes"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["notes"]["language"] == "da"
    assert len(obj["notes"]["reflective_questions"]) == 3


def test_export_writes_files(files, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["score", str(files["rel"]), "--export", "md", "--out", str(out)]) == 0
    md = (out / "da_relational.md").read_text(encoding="utf-8")
    assert md.startswith("# Feedback på samtalen")
    # the export carries the whole transcript the CLI read
    tr, _ = load_transcript(files["rel"])
    assert tr is not None
    assert "## Samtalen" in md
    for turn in tr.turns:
        assert turn.text in md


def test_module_runs_as_a_program(files) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "coach",
            "score",
            str(files["sys"]),
            str(files["bad_json"]),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 1, res.stderr
    assert len(res.stdout.strip().splitlines()) == 1
    assert json.loads(res.stdout)["language"] == "en"
    assert f"{files['bad_json']}: <file>: not valid JSON" in res.stderr


def test_judge_without_a_usable_model_is_a_clear_error(files, capsys, monkeypatch) -> None:
    monkeypatch.setenv("RELPRACTICE_LLM_BACKEND", "openai")  # blocked by the test suite
    rc = main(["score", str(files["rel"]), "--json", "--judge"])
    cap = capsys.readouterr()
    assert rc == 2
    assert cap.out == ""
    assert cap.err.startswith("coach: --judge needs a language model:")


def test_a_missing_reading_model_is_a_clear_error(files, capsys, monkeypatch) -> None:
    import coach.__main__ as cli
    from reading.model import ModelError

    def missing():
        raise ModelError("The reading model is missing (reading/models/reader-v1.npz).")

    monkeypatch.setattr(cli, "get_reader", missing)
    rc = main(["score", str(files["rel"]), "--json"])
    cap = capsys.readouterr()
    assert rc == 2
    assert cap.out == ""
    assert cap.err.startswith("coach: cannot load the reading model: The reading model is missing")
