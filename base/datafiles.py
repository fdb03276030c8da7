"""Loading YAML data files safely and reporting problems as `file: field.path: reason`.

Shared by the scenario loader (citizen), the rubric loader (coach) and the
upload importers (practice). Problems carry a stable `code` so must-fail
fixtures can assert on it and so the UI can explain them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 1_000_000  # a scenario is a few tens of kB; anything near this is a mistake


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one data file."""

    file: str
    path: str
    reason: str
    code: str
    severity: Literal["error", "warning"] = "error"

    def line(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.file}: {self.path or '<file>'}: {prefix}{self.reason} [{self.code}]"

    def __str__(self) -> str:
        return self.line()


class DataFileError(Exception):
    """Raised when a data file cannot be used. Carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.line() for p in problems))


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases: they are never needed in our files and
    they are the vehicle of 'billion laughs' style expansion bombs."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "YAML aliases (*name) are not allowed in data files", event.start_mark
            )
        return super().compose_node(parent, index)


REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The writable data folder: ``$RELPRACTICE_DATA_DIR``, default ``./data`` in the
    repository (the database, the search index, caches, published scenarios)."""
    return Path(os.environ.get("RELPRACTICE_DATA_DIR") or REPO_ROOT / "data").expanduser()


def parse_yaml_text(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text. Returns (data, problems); data is None when there are problems."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        return None, [
            Problem(file, "", f"file is larger than {MAX_FILE_BYTES} bytes", "file.too_large")
        ]
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        code = "yaml.alias" if "aliases" in str(exc.problem) else "yaml.syntax"
        return None, [Problem(file, "", f"{exc.problem} ({where})", code)]
    except yaml.YAMLError as exc:
        return None, [Problem(file, "", f"YAML could not be read: {exc}", "yaml.syntax")]
    except RecursionError:  # e.g. "[[[[…]]]]" thousands deep (issue 7, hostile input)
        return None, [
            Problem(file, "", "the YAML is nested too deeply to be a data file", "yaml.too_deep")
        ]
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "an empty file"
        return None, [
            Problem(
                file, "", f"expected a mapping at the top level, found {kind}", "yaml.not_mapping"
            )
        ]
    return data, []


def read_text(path: Path) -> tuple[str | None, list[Problem]]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Problem(
                    str(path), "", f"file is larger than {MAX_FILE_BYTES} bytes", "file.too_large"
                )
            ]
        return path.read_text(encoding="utf-8"), []
    except UnicodeDecodeError:
        return None, [Problem(str(path), "", "file is not UTF-8 text", "file.encoding")]
    except OSError as exc:
        return None, [
            Problem(str(path), "", f"cannot read file: {exc.strerror}", "file.unreadable")
        ]


def format_loc(loc: Iterable[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def validation_problems(exc: ValidationError, file: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        # tagged unions and functional validators add noise to loc; keep it readable
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see the schema for allowed fields)"
        problems.append(Problem(file, format_loc(loc), msg, f"schema.{err['type']}"))
    return problems


def validate_data(
    data: dict, model: type[M], file: str, supported_versions: tuple[int, ...]
) -> tuple[M | None, list[Problem]]:
    version = data.get("schema_version")
    if version is None:
        return None, [
            Problem(
                file,
                "schema_version",
                "missing: every data file states its schema_version",
                "schema.version_missing",
            )
        ]
    if version not in supported_versions:
        return None, [
            Problem(
                file,
                "schema_version",
                f"unsupported version {version!r}; this app reads {', '.join(map(str, supported_versions))}",
                "schema.version_unsupported",
            )
        ]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, file)


def load_model_file(
    path: Path, model: type[M], supported_versions: tuple[int, ...]
) -> tuple[M | None, list[Problem]]:
    text, problems = read_text(path)
    if text is None:
        return None, problems
    return load_model_text(text, str(path), model, supported_versions)


def load_model_text(
    text: str, file: str, model: type[M], supported_versions: tuple[int, ...]
) -> tuple[M | None, list[Problem]]:
    data, problems = parse_yaml_text(text, file)
    if data is None:
        return None, problems
    return validate_data(data, model, file, supported_versions)
