"""Command line: ``python -m citizen {chat,validate,schema} ...``.

``chat`` is implemented in ``citizen.cli_chat``; ``validate`` and ``schema`` dispatch to
``citizen.validate.main_validate(argv)`` / ``main_schema(argv)`` when that module exists.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from base.i18n import t
from citizen.cli_chat import main_chat


def _delegate(command: str, argv: list[str]) -> int:
    try:
        module = importlib.import_module("citizen.validate")
    except ModuleNotFoundError as exc:
        if exc.name != "citizen.validate":
            raise
        print(t("citizen.cli.no_module", "en", command=command), file=sys.stderr)
        return 2
    fn = getattr(module, f"main_{command}")
    return int(fn(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m citizen", description="Simulated citizens")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("chat", help="talk to a simulated citizen (turns on stdin)", add_help=False)
    sub.add_parser("validate", help="check scenario files", add_help=False)
    sub.add_parser("schema", help="print or write the scenario JSON schema", add_help=False)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in ("chat", "validate", "schema"):
        parser.parse_args(argv)  # prints help or the error and exits
        return 2
    command, rest = argv[0], argv[1:]
    if command == "chat":
        return main_chat(rest)
    return _delegate(command, rest)


if __name__ == "__main__":
    sys.exit(main())
