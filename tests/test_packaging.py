"""Our top-level packages must be ours: PyPI has distributions named `coach` and
`practice`, and an installed one must never shadow the code in this repository."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

import pytest

OUR_PACKAGES = ("base", "reading", "citizen", "coach", "practice", "app_pages")


@pytest.mark.parametrize("name", OUR_PACKAGES)
def test_package_resolves_to_this_repository(name: str, repo: Path) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(repo)


def test_no_installed_distribution_provides_our_package_names() -> None:
    provided = importlib.metadata.packages_distributions()
    clashes = {name: provided[name] for name in OUR_PACKAGES if name in provided}
    assert clashes == {}, f"installed distributions shadow our packages: {clashes}"


def test_guard_reports_a_clash(monkeypatch: pytest.MonkeyPatch) -> None:
    from practice import guard

    monkeypatch.setattr(importlib.metadata, "packages_distributions", lambda: {"coach": ["coach"]})
    problems = guard.shadowing_problems()
    assert any("coach" in p and "pip uninstall coach" in p for p in problems)


def test_requirements_pin_no_hub_downloads(repo: Path) -> None:
    text = (repo / "requirements.txt").read_text()
    # sentence-transformers/fastembed fetch models from a hub at run time; we never use them
    for banned in ("sentence-transformers", "fastembed", "huggingface"):
        assert banned not in text
