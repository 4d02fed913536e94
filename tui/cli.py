"""The `switchboard` command line: a thin layer over db/ services and the app.

Errors are one line on stderr with exit code 1 (2 for wrong usage); a traceback only with
--debug. Heavy imports (textual, Faker) happen only in the commands that need them, so
`switchboard --version` and `switchboard db status` start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from db.errors import SwitchboardError
from tui.cli_common import say, where, with_connect_timeout
from tui.cli_server import cmd_server

# The modes of tui.app.MODE_FACTORIES that `--screen` may name (kept here: no textual import).
SCREENS = ("accounts", "my_day", "pipeline", "console", "cases", "forecast", "kpis", "trash",
           "admin")


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("switchboard-crm")
    except PackageNotFoundError:
        return "0+unknown"


class UsageError(Exception):
    """Wrong usage: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


TARGET_OPTIONS = ("dsn", "schema")


def _add_target(p: argparse.ArgumentParser, top: bool = False) -> None:
    """--dsn and --schema, before or after the command: a subcommand's own copies land in
    `sub_dsn`/`sub_schema` (absent unless given), and `_merge_targets` reconciles them."""
    prefix = "" if top else "sub_"
    default = None if top else argparse.SUPPRESS
    p.add_argument("--dsn", dest=f"{prefix}dsn", default=default,
                   help="libpq connection string or URI (else SWITCHBOARD_DSN, config)")
    p.add_argument("--schema", dest=f"{prefix}schema", default=default,
                   help="schema name (default switchboard, or SWITCHBOARD_SCHEMA)")  # fmt: skip


def _merge_targets(args: argparse.Namespace) -> None:
    """`switchboard --schema acme user list` and `switchboard user list --schema acme` are the
    same command; two different values are refused rather than one silently winning."""
    for name in TARGET_OPTIONS:
        top, sub = getattr(args, name, None), getattr(args, f"sub_{name}", None)
        if top is not None and sub is not None and top != sub:
            raise UsageError(f"switchboard: --{name} is given twice with different values")
        setattr(args, name, sub if sub is not None else top)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="switchboard",
        description="A keyboard-first CRM for the terminal, on one shared PostgreSQL database.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--demo", action="store_true", help="open the demo workspace")
    parser.add_argument("--screen", help=f"open on a screen: {', '.join(SCREENS)}")
    _add_target(parser, top=True)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    server = sub.add_parser("server", help="the embedded PostgreSQL server")
    server.add_argument("action", choices=["start", "stop", "status"])

    dbp = sub.add_parser("db", help="schema: init, migrate, status")
    dbp.add_argument("action", choices=["init", "migrate", "status"])
    _add_target(dbp)
    dbp.add_argument("--admin", help="first admin login to create with init (default: you)")
    prefix_help = "names a new installation's roles PREFIX_owner, PREFIX_rep... (default: schema)"
    dbp.add_argument("--role-prefix", help=prefix_help)
    dbp.add_argument("--allow-privileged-admin", action="store_true",
                     help="let --admin name an existing login with CREATEROLE, SUPERUSER...")

    demo = sub.add_parser("demo", help="fill an empty database with realistic demo data")
    _add_target(demo)
    demo.add_argument("--scale", type=float, default=None, help="size (1.0 = benchmark data)")
    demo.add_argument("--seed", type=int, default=None, help="random seed (default fixed)")
    demo.add_argument("--role-prefix", help=prefix_help)

    server.set_defaults(func=cmd_server)
    dbp.set_defaults(func=cmd_db)
    demo.set_defaults(func=cmd_demo)
    from tui.cli_user import add_user_parser

    add_user_parser(sub, _add_target)
    from tui.cli_export import add_export_parser

    add_export_parser(sub, _add_target)
    from tui.cli_console import add_console_parser

    add_console_parser(sub, _add_target)
    return parser


def _target(args: argparse.Namespace):
    from db.config import resolve_target

    return resolve_target(dsn=args.dsn, schema=args.schema, demo=getattr(args, "demo", False))


def _installer_dsn(args: argparse.Namespace) -> tuple[str, str]:
    """The DSN for schema work: the given one, else the embedded server's superuser (on the
    demo database with --demo, else the private work database)."""
    from db import workspace

    target = _target(args)
    if target.dsn:
        return with_connect_timeout(target.dsn), target.schema
    srv = workspace.server()
    srv.start()
    dbname = workspace.DEMO_DB if target.demo else workspace.WORK_DB
    srv.ensure_database(dbname)
    return with_connect_timeout(srv.dsn(dbname)), target.schema


def cmd_db(args: argparse.Namespace) -> int:
    import psycopg2

    from db import migrate
    from db.bootstrap import ensure_login, os_login_name

    dsn, schema = _installer_dsn(args)
    if args.action == "status":
        version, latest = migrate.status(dsn, schema)
        state = "up to date" if version == latest else (
            "not initialised" if version == 0 else
            "newer than this client" if version > latest else "needs 'switchboard db migrate'"
        )
        say(f"schema {schema} in {where(dsn)}: version {version} (this client: {latest}) "
            f"{state}")
        return 0
    try:
        applied = migrate.migrate(dsn, schema, role_prefix=args.role_prefix)
    except psycopg2.OperationalError as exc:
        from db.connection import explain_connect_error

        raise explain_connect_error(exc, dsn) from exc
    print(
        f"applied {', '.join(f'{m.version:04d}_{m.name}' for m in applied)}"
        if applied
        else f"schema {schema} is up to date (version {migrate.latest_version()})"
    )
    if args.action == "init":
        admin = args.admin or os_login_name()
        conn = psycopg2.connect(dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    f"SELECT count(*) FROM {schema}.app_user WHERE role = 'admin' AND active"
                )
                if cur.fetchone()[0] == 0 or args.admin:
                    if ensure_login(cur, schema, admin, role="admin",
                                    allow_privileged=args.allow_privileged_admin):
                        print(f"created admin login {admin}")
        finally:
            conn.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from db import demo

    dsn, schema = _installer_dsn(args)
    scale = args.scale if args.scale is not None else demo.DEFAULT_SCALE
    if scale <= 0 or scale > 10:
        raise UsageError("switchboard demo: --scale must be greater than 0 and at most 10")
    summary = demo.load(dsn, schema, scale=scale, seed=args.seed, progress=print,
                        role_prefix=args.role_prefix)
    print(summary)
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    from db import workspace
    from db.connection import configure

    if args.screen and args.screen not in SCREENS:
        raise UsageError(
            f"switchboard: unknown screen {args.screen!r}; choose from {', '.join(SCREENS)}"
        )
    target = _target(args)
    if target.embedded:
        dsn = workspace.prepare(target.schema, demo=target.demo)
    else:
        assert target.dsn is not None
        dsn = target.dsn
    from db.errors import AuthenticationFailed
    from tui.screens.login import LoginRequest

    login = None
    try:
        configure(dsn, target.schema)
    except AuthenticationFailed as exc:
        # A person at a terminal is asked for the password (needed or wrong); a script or a
        # pipe gets the one-line error and exit code 1 instead of a screen it cannot answer.
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise
        login = LoginRequest(dsn, target.schema, str(exc))
    from tui.app import SwitchboardApp

    SwitchboardApp(start_screen=args.screen or "accounts", login=login).run()
    return 0


def _database_error(exc: Exception) -> str:
    """One line for an error psycopg2 raised outside the paths that explain their own."""
    import psycopg2

    if isinstance(exc, psycopg2.OperationalError):
        text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        return f"cannot reach the database: {text or 'unknown error'}"
    pgerror = getattr(exc, "pgerror", None) or str(exc)
    return f"database error: {pgerror.strip().splitlines()[0]}"


def _error(text: str) -> None:
    from tui.text import clean

    print(clean(text, limit=2000, single_line=True), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        _merge_targets(args)
        if args.version:
            print(f"switchboard {app_version()}")
            return 0
        handler: Callable[[argparse.Namespace], int] = getattr(args, "func", cmd_open)
        return handler(args)
    except UsageError as exc:
        if debug:
            raise
        _error(str(exc))
        return 2
    except SwitchboardError as exc:
        if debug:
            raise
        _error(f"switchboard: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, as promised; --debug shows the rest
        import psycopg2

        from db.services._pgerrors import original

        if debug:
            raise
        driver = original(exc)
        if isinstance(driver, psycopg2.Error):
            _error(f"switchboard: {_database_error(driver)}")
        else:
            _error(f"switchboard: unexpected error ({type(exc).__name__}: {exc}); "
                   "--debug shows the traceback")  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
