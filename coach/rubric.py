"""Loading the rubric files (``rubric/relational-<lang>.yaml``) through ``base.datafiles``.

load_rubric("da") -> Rubric            cached; raises DataFileError on a bad file
load_rubric_file(path) -> (Rubric | None, [Problem])
"""

from __future__ import annotations

import functools
from pathlib import Path

from base.datafiles import DataFileError, Problem, load_model_file
from coach.schema import SUPPORTED_RUBRIC_VERSIONS, Rubric

RUBRIC_DIR = Path(__file__).resolve().parent.parent / "rubric"
DEFAULT_RUBRIC = "relational"


def rubric_path(language: str, name: str = DEFAULT_RUBRIC) -> Path:
    return RUBRIC_DIR / f"{name}-{language}.yaml"


def load_rubric_file(path: Path) -> tuple[Rubric | None, list[Problem]]:
    rubric, problems = load_model_file(path, Rubric, SUPPORTED_RUBRIC_VERSIONS)
    if rubric is not None:
        expected = path.stem.rsplit("-", 1)[-1]
        if expected in ("da", "en") and rubric.language != expected:
            return None, [
                Problem(
                    str(path),
                    "language",
                    f"the file name says {expected!r} but the rubric says {rubric.language!r}",
                    "rubric.language_mismatch",
                )
            ]
    return rubric, problems


@functools.cache
def load_rubric(language: str, name: str = DEFAULT_RUBRIC) -> Rubric:
    """The rubric for `language` ('da' or 'en'). Cached for the process."""
    if language not in ("da", "en"):
        raise ValueError(f"unsupported language {language!r}")
    rubric, problems = load_rubric_file(rubric_path(language, name))
    if rubric is None:
        raise DataFileError(problems)
    return rubric
