"""The Scenario studio's service: check, draft, duplicate, translate and publish scenarios.

Drafts are private to their author (``<data>/studio/drafts/<user>/``). Publishing writes
the file to the shared user library (``<data>/scenarios/``), which the app loads next to
the shipped library. Only educators, supervisors and admins may publish; before accounts
exist the setting ``RELPRACTICE_ALLOW_PUBLISH=1`` opens it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from base.datafiles import Problem, parse_yaml_text
from citizen.library import load_scenario_text
from citizen.schema import Scenario
from citizen.validate import content_problems

LOCAL_HEADER = "# yaml-language-server: $schema=../schema/scenario.schema.json\n"
TEMPLATES = Path(__file__).resolve().parent / "templates"
PUBLISH_ROLES = frozenset({"educator", "supervisor", "admin"})
_ID_SAFE = re.compile(r"[^a-z0-9_-]+")


class StudioError(Exception):
    """Something the author can fix. The message is safe to show."""


@dataclass
class Check:
    scenario: Scenario | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not self.errors


def check_text(text: str, file: str = "studio") -> Check:
    """Schema validation, then the content checks the validator CLI runs."""

    scenario, problems = load_scenario_text(text, file)
    if scenario is None:
        return Check(None, errors=problems)
    warnings = content_problems(scenario, file)
    return Check(scenario, errors=[], warnings=warnings)


def template(language: str) -> str:
    path = TEMPLATES / f"new-{language}.yaml"
    if not path.exists():
        raise StudioError(f"no template for language {language!r}")
    return path.read_text(encoding="utf-8")


def _load(text: str) -> dict[str, Any]:
    data, problems = parse_yaml_text(text, "studio")
    if data is None:
        raise StudioError("; ".join(p.reason for p in problems))
    return data


def dump(data: dict[str, Any]) -> str:
    body = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    return LOCAL_HEADER + body


def slug(text: str) -> str:
    return _ID_SAFE.sub("-", text.lower()).strip("-")[:60] or "scenario"


def set_fields(text: str, **fields: Any) -> str:
    """Update top-level or dotted fields (``persona.name``) of a scenario text."""
    data = _load(text)
    for dotted, value in fields.items():
        parts = dotted.split(".")
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StudioError(f"{dotted}: {part} is not a section")
        node[parts[-1]] = value
    return dump(data)


def duplicate(text: str, new_id: str | None = None, *, author: str | None = None) -> str:
    data = _load(text)
    old_id = str(data.get("id", "scenario"))
    data["id"] = slug(new_id or f"{old_id}-copy")
    if "title" in data:
        data["title"] = f"{data['title']} (2)"
    data.pop("translation_of", None)
    if author:
        data["author"] = author
    data["created"] = dt.date.today()
    return dump(data)


def start_translation(text: str, target: str, *, author: str | None = None) -> str:
    """A copy in the other language, linked by ``translation_of``. The text is still in
    the source language: the language check keeps warning until every line is translated."""
    if target not in ("da", "en"):
        raise StudioError("translations are into 'da' or 'en'")
    data = _load(text)
    source_id = str(data.get("id", "scenario"))
    if data.get("language") == target:
        raise StudioError(f"the scenario is already in {target!r}")
    base = re.sub(r"-(da|en)$", "", source_id)
    data["id"] = slug(f"{base}-{target}")
    data["language"] = target
    data["translation_of"] = source_id
    if author:
        data["author"] = author
    data["created"] = dt.date.today()
    return dump(data)


def can_publish(role: str | None, allow_publish_setting: bool) -> bool:
    return allow_publish_setting or (role in PUBLISH_ROLES)


def _stamp(text: str, author: str) -> str:
    data = _load(text)
    data["author"] = author
    data["created"] = dt.date.today()
    return dump(data)


def save_draft(text: str, drafts_dir: Path, author: str) -> Path:
    """Save a draft (valid or not: authors save work in progress)."""
    data = _load(text)
    sid = slug(str(data.get("id") or "untitled"))
    drafts_dir.mkdir(parents=True, exist_ok=True)
    path = drafts_dir / f"{sid}.yaml"
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def list_drafts(drafts_dir: Path) -> list[Path]:
    return sorted(drafts_dir.glob("*.yaml")) if drafts_dir.is_dir() else []


def publish(
    text: str,
    publish_dir: Path,
    *,
    author: str,
    role: str | None,
    allow_publish_setting: bool,
    shipped_ids: set[str],
) -> Path:
    """Validate and write the scenario to the shared library. Refuses invalid files,
    unauthorised authors, and ids of shipped scenarios."""
    if not can_publish(role, allow_publish_setting):
        raise StudioError(
            "only educators, supervisors and admins can publish to the shared library"
        )
    stamped = _stamp(text, author)
    check = check_text(stamped)
    if not check.ok or check.scenario is None:
        raise StudioError("; ".join(p.line() for p in check.errors) or "the scenario is not valid")
    sid = check.scenario.id
    if sid in shipped_ids:
        raise StudioError(
            f"the id {sid!r} belongs to a shipped scenario; duplicate it and give it a new id"
        )
    publish_dir.mkdir(parents=True, exist_ok=True)
    path = publish_dir / f"{sid}.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(stamped, encoding="utf-8")
    tmp.replace(path)  # atomic: the library never sees half a file
    return path
