"""Loading scenario files: each file on its own, then checks across files.

A broken file never stops the others from loading: the caller gets the valid
scenarios and a list of problems, each naming file, field path and reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from base.datafiles import Problem, load_model_file, load_model_text
from citizen.schema import SUPPORTED_VERSIONS, Scenario

DEFAULT_LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"


@dataclass
class Library:
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def by_language(self, language: str | None) -> list[Scenario]:
        items = [s for s in self.scenarios.values() if language in (None, s.language)]
        return sorted(items, key=lambda s: (s.difficulty, s.title))

    def get(self, scenario_id: str) -> Scenario:
        try:
            return self.scenarios[scenario_id]
        except KeyError:
            raise KeyError(f"no scenario with id {scenario_id!r}") from None

    def add(self, scenario: Scenario, path: Path) -> list[Problem]:
        """Add a loaded scenario; an id already in the library is refused with a problem."""
        if scenario.id in self.scenarios:
            return [
                Problem(
                    str(path),
                    "id",
                    f"id {scenario.id!r} is already used by {self.files[scenario.id]}",
                    "library.duplicate_id",
                )
            ]
        self.scenarios[scenario.id] = scenario
        self.files[scenario.id] = path
        return []

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load_scenario_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    return load_model_file(path, Scenario, SUPPORTED_VERSIONS)


def load_scenario_text(text: str, file: str = "<editor>") -> tuple[Scenario | None, list[Problem]]:
    return load_model_text(text, file, Scenario, SUPPORTED_VERSIONS)


def scenario_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(x for x in p.glob("*.yaml") if x.is_file())
            out += sorted(x for x in p.glob("*.yml") if x.is_file())
        else:
            out.append(p)
    return out


def load_library(*dirs: Path, extra: tuple[Path, ...] = ()) -> Library:
    """Load every scenario file in the given folders (default: the shipped library)."""
    paths = scenario_files(list(dirs or (DEFAULT_LIBRARY,)) + list(extra))
    lib = Library()
    for path in paths:
        scenario, problems = load_scenario_file(path)
        lib.problems += problems
        if scenario is None:
            continue
        lib.problems += lib.add(scenario, path)
    lib.problems += cross_file_problems(lib)
    return lib


def cross_file_problems(lib: Library) -> list[Problem]:
    problems = []
    for sid, s in lib.scenarios.items():
        if s.translation_of and s.translation_of not in lib.scenarios:
            problems.append(
                Problem(
                    str(lib.files[sid]),
                    "translation_of",
                    f"refers to {s.translation_of!r}, which is not in the library",
                    "library.translation_missing",
                    "warning",
                )
            )
    return problems
