"""Command line: ``python -m practice <command>``.

    python -m practice create-admin --username anna [--display-name "Anna Berg"] [--password-stdin]

Add a command by writing ``def cmd_x(args) -> int`` plus ``def add_x(parser)`` and one
line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from practice.accounts import AccountError, AccountService
from practice.services import build_services


def add_create_admin(p: argparse.ArgumentParser) -> None:
    p.add_argument("--username", required=True)
    p.add_argument("--display-name", default=None)
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )


def cmd_create_admin(args: argparse.Namespace) -> int:
    """Create the first admin (refused if an admin exists)."""

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    services = build_services()
    try:
        user = AccountService(services.db).create_first_admin(
            args.username, password, display_name=args.display_name
        )
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        services.db.dispose()
    print(f"created admin {user.username!r} in {services.settings.database_url}")
    return 0


# name -> (help, add arguments, run)
COMMANDS: dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {
    "create-admin": ("create the first admin account", add_create_admin, cmd_create_admin),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m practice")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add, _run) in COMMANDS.items():
        add(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
