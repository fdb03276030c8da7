"""Hold an adaptive conversation with an offline citizen, one turn per call.

For authors of held-out conversations (``bench/heldout/citizen/``): they see only what a
practitioner sees (the briefing, the case file, the opening line) and the replies.

    python bench/citizen_talk.py list
    python bench/citizen_talk.py brief SCENARIO_ID
    python bench/citizen_talk.py say CONV.json SCENARIO_ID "What matters most to you?"
    python bench/citizen_talk.py show CONV.json

``say`` replays the conversation so far (the engine is deterministic), adds the new turn,
prints the citizen's reply and saves the file. Ratings are added to the file by its author.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from citizen.engine import start
from citizen.library import load_library


def _load(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


def brief(scenario_id: str) -> str:
    sc = load_library().get(scenario_id)
    view = sc.public_view()
    goals = "\n".join(f"- {g['goal']}" for g in view["learning_goals"])  # type: ignore[index]
    return (
        f"# {view['title']} ({view['language']})\n\n{view['summary']}\n\n"
        f"## Briefing\n{view['briefing']}\n\n## Case file\n{view['case_file']}\n\n"
        f"## Learning goals\n{goals}\n\n## Opening line of {view['name']} ({view['age']})\n"
        f"{sc.opening_line}\n"
    )


def say(conv_path: Path, scenario_id: str, text: str) -> str:
    conv = _load(conv_path)
    if conv and conv.get("scenario") != scenario_id:
        raise SystemExit(f"{conv_path} is a conversation with {conv.get('scenario')!r}")
    sc = load_library().get(scenario_id)
    citizen = start(sc)
    turns = conv.get("turns", [])
    for t in turns:
        citizen.respond(t["practitioner"])
    result = citizen.respond(text)
    turns.append({"practitioner": text, "citizen": result.reply})
    conv.setdefault("scenario", scenario_id)
    conv.setdefault("opening", sc.opening_line)
    conv["turns"] = turns
    conv_path.parent.mkdir(parents=True, exist_ok=True)
    conv_path.write_text(json.dumps(conv, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result.reply


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("list", "brief", "say", "show"):
        print(__doc__)
        return 2
    cmd = argv[0]
    if cmd == "list":
        for sid, sc in sorted(load_library().scenarios.items()):
            print(f"{sid}\t{sc.language}\t{sc.title}")
    elif cmd == "brief":
        print(brief(argv[1]))
    elif cmd == "say":
        print(say(Path(argv[1]), argv[2], " ".join(argv[3:])))
    else:
        conv = _load(Path(argv[1]))
        print(f"CITIZEN: {conv.get('opening', '')}")
        for i, t in enumerate(conv.get("turns", []), 1):
            print(f"[{i}] YOU: {t['practitioner']}\n[{i}] CITIZEN: {t['citizen']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
