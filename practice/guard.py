"""Refuse to run with another distribution's `coach`/`practice`/`citizen` on the path."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

OUR_PACKAGES = ("base", "reading", "citizen", "coach", "practice", "app_pages")
REPO = Path(__file__).resolve().parent.parent


def shadowing_problems() -> list[str]:
    provided = importlib.metadata.packages_distributions()
    problems = []
    for name in OUR_PACKAGES:
        for dist in provided.get(name, []):
            problems.append(
                f"The installed distribution {dist!r} also provides a package named {name!r}, "
                f"which can shadow this app's own code. Remove it: pip uninstall {dist}"
            )
    return problems
