"""`switchboard user add|list|disable|enable|passwd|set-role|set-team`: people from the shell.

Runs as the person's own login (an admin): the database's admin API decides, so this is as
safe as the admin screen. Passwords are read with getpass (never echoed) or, for scripts,
one line from stdin with --password-stdin; they are hashed to SCRAM on this machine.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from tui.cli_common import say

ROLES = ("agent", "rep", "manager", "admin")
WIDTHS = (20, 24, 8, 16)  # user, name, role, team; the state comes last


def row(*cells: str) -> str:
    """One line of `user list`: each value cleaned (tui/text.py) and cut or padded to its
    column in terminal cells, so CJK and emoji names keep the columns in line."""
    from rich.cells import cell_len, set_cell_size

    from tui.text import clean

    out = []
    for value, width in zip(cells, (*WIDTHS, 0), strict=True):
        text = clean(value, single_line=True)
        if width and cell_len(text) > width:
            text = set_cell_size(text, width - 1) + "…"
        out.append(set_cell_size(text, width) if width else text)
    return " ".join(out)


def add_user_parser(sub, add_target: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `switchboard user ...` on the subparsers `sub` of tui/cli.py."""
    user = sub.add_parser(
        "user", help="people: add, list, disable, enable, passwd, set-role, set-team"
    )
    verbs = user.add_subparsers(dest="verb", required=True, parser_class=type(user))

    add = verbs.add_parser("add", help="create a login and its person")
    add.add_argument("username")
    add.add_argument("--name", help="display name (default: the user name)")
    add.add_argument("--role", choices=ROLES, default="rep")
    add.add_argument("--team", help="team name")
    add.add_argument("--email")
    pw = add.add_mutually_exclusive_group()
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    pw.add_argument("--no-password", action="store_true",
                    help="no database password (peer or certificate authentication)")  # fmt: skip

    lst = verbs.add_parser("list", help="list people")
    lst.add_argument("--query", default="", help="filter by user or display name")

    for verb in ("disable", "enable"):
        p = verbs.add_parser(verb, help=f"{verb} a login")
        p.add_argument("username")
    passwd = verbs.add_parser("passwd", help="set a new password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    role = verbs.add_parser("set-role", help="change a person's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    team = verbs.add_parser("set-team", help="move a person to a team ('-' for none)")
    team.add_argument("username")
    team.add_argument("team")
    for verb_parser in verbs.choices.values():
        add_target(verb_parser)
    user.set_defaults(func=cmd_user)


def _password(args: argparse.Namespace, username: str) -> str:
    from db.errors import ValidationError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Again: ") != first:
        raise ValidationError("password", "the two entries differ")
    return first


def _connect(args: argparse.Namespace) -> None:
    from db import workspace
    from db.config import resolve_target
    from db.connection import configure

    target = resolve_target(dsn=args.dsn, schema=args.schema, demo=getattr(args, "demo", False))
    dsn = workspace.prepare(target.schema, demo=target.demo) if target.embedded else target.dsn
    if target.embedded:  # say which one: the demo's people are in the other database
        name = workspace.DEMO_DB if target.demo else workspace.WORK_DB
        other = "" if target.demo else "; the demo company's: switchboard --demo user ..."
        print(f"(database {name} of your private workspace{other})", file=sys.stderr)
    configure(dsn, target.schema)


def cmd_user(args: argparse.Namespace) -> int:
    from db.connection import database
    from db.services import users

    _connect(args)
    with database.connection_context():
        if args.verb == "list":
            after = None
            say(row("user", "name", "role", "team", "state"))
            while True:
                page = users.list_users(after=after, query=args.query)
                for u in page.users:
                    state = "active" if u.active else "disabled"
                    say(row(u.username, u.display_name, u.role, u.team or "-", state))
                if page.next_after is None:
                    return 0
                after = page.next_after
        if args.verb == "add":
            team_id = users.team_id_by_name(args.team) if args.team else None
            password = None if args.no_password else _password(args, args.username)
            users.create_user(args.username, args.name or args.username, args.role, team_id,
                              args.email, password)  # fmt: skip
            say(f"created {args.role} {args.username}")
        elif args.verb == "disable":
            users.disable_user(args.username)
            say(f"disabled {args.username} (open sessions ended)")
        elif args.verb == "enable":
            users.enable_user(args.username)
            say(f"enabled {args.username}")
        elif args.verb == "passwd":
            users.set_password(args.username, _password(args, args.username))
            say(f"password of {args.username} changed")
        elif args.verb == "set-role":
            users.set_role(args.username, args.role)
            say(f"{args.username} is now {args.role}")
        elif args.verb == "set-team":
            team_id = None if args.team == "-" else users.team_id_by_name(args.team)
            users.set_team(args.username, team_id)
            say(f"{args.username} moved to {args.team if team_id else 'no team'}")
    return 0
