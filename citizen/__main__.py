"""``python -m citizen validate|schema|chat ...``: dispatch to the sub-commands."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m citizen")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", help="check scenario files", add_help=False)
    sub.add_parser("schema", help="write the JSON Schema of scenario files", add_help=False)
    sub.add_parser("chat", help="talk to a scenario in the terminal", add_help=False)
    args, rest = parser.parse_known_args(argv[:1])
    rest = argv[1:]
    if args.command == "validate":
        from citizen.validate import main_validate

        return main_validate(rest)
    if args.command == "schema":
        from citizen.validate import main_schema

        return main_schema(rest)
    from citizen.cli_chat import main as chat_main

    return chat_main(rest)


if __name__ == "__main__":
    sys.exit(main())
