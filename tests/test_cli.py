"""The command line: every error is one line on stderr with exit code 1 (2 for wrong usage)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator

import psycopg2
import pytest

from db import connection, embedded
from db.config import resolve_target
from db.connection import configure, database
from db.embedded import free_port
from db.services import users
from tests import hostile
from tests.records_data import run as run_sql
from tui.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert "Traceback" not in err
    return lines[0]


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("switchboard ")


@pytest.mark.parametrize(
    "argv",
    [["db", "frobnicate"], ["--screen", "nowhere"], ["demo", "--scale", "abc"], ["--bogus"]],
)
def test_wrong_usage_is_exit_2_with_one_line(capsys, argv, admin_dsn):
    code, _, err = run(capsys, *argv, *(["--dsn", admin_dsn] if argv[0] == "--screen" else []))
    assert code == 2
    one_line(err)


def test_unreachable_server(capsys):
    dsn = f"host=127.0.0.1 port={free_port()} dbname=x user=nobody connect_timeout=2"
    code, _, err = run(capsys, "--dsn", dsn)
    assert code == 1
    assert "cannot reach the database" in one_line(err)


def test_wrong_password(capsys, pg, db_name):
    pg.execute("DROP ROLE IF EXISTS cli_pw_user; CREATE ROLE cli_pw_user LOGIN PASSWORD 'right'")
    code, _, err = run(capsys, "--dsn", pg.tcp_dsn(db_name, "cli_pw_user", "wrong"))
    assert code == 1
    assert "wrong user name or password" in one_line(err)


def test_missing_schema(capsys, pg):
    code, _, err = run(capsys, "--dsn", pg.dsn("postgres"))
    assert code == 1
    assert "switchboard db init" in one_line(err)


def test_missing_server_binaries(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SWITCHBOARD_DSN", raising=False)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SWITCHBOARD_PG_BINDIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded, "SEARCH_GLOB", str(tmp_path / "none" / "*"))
    code, _, err = run(capsys, "server", "start")
    assert code == 1
    assert "apt-get install postgresql" in one_line(err)


def test_debug_shows_the_traceback(capsys):
    dsn = f"host=127.0.0.1 port={free_port()} dbname=x user=nobody connect_timeout=2"
    with pytest.raises(Exception, match="cannot reach"):
        main(["--debug", "--dsn", dsn])


def test_db_init_then_again_changes_nothing(capsys, pg):
    name = "cli_init"
    pg.drop(name)
    pg.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.dsn(name)
    try:
        code, out, _ = run(capsys, "db", "init", "--dsn", dsn, "--admin", "cli_admin",
                           "--role-prefix", name)
        assert code == 0 and "applied 0001_schema" in out and "created admin login cli_admin" in out
        code, out, _ = run(capsys, "db", "init", "--dsn", dsn)
        assert code == 0 and "up to date" in out and "created" not in out
        code, out, _ = run(capsys, "db", "status", "--dsn", dsn)
        assert code == 0 and "up to date" in out and f"in database {name} on " in out
        conn = psycopg2.connect(dsn)
        with conn.cursor() as cur:
            cur.execute("SELECT username, role FROM switchboard.app_user")
            assert cur.fetchall() == [("cli_admin", "admin")]
        conn.close()
    finally:
        pg.drop(name)


def test_server_start_status_stop(capsys, monkeypatch):
    home = tempfile.mkdtemp(prefix="sbcli-")
    os.chmod(home, 0o755)
    monkeypatch.setenv("SWITCHBOARD_HOME", home)
    code, out, _ = run(capsys, "server", "status")
    assert code == 0 and "not initialised" in out
    try:
        code, out, _ = run(capsys, "server", "start")
        assert code == 0 and "running" in out
        code, out, _ = run(capsys, "server", "status")
        assert "running" in out
        from db import workspace

        workspace.server().ensure_database(workspace.WORK_DB)
        code, out, _ = run(capsys, "server", "status")
        assert "database switchboard: switchboard, db ..., user ... (without --demo)" in out
        assert "dbname=switchboard user=" in out and "no password" in out
        assert "switchboard_demo" not in out  # not created yet: not offered
    finally:
        code, out, _ = run(capsys, "server", "stop")
    assert code == 0 and "stopped" in out
    shutil.rmtree(home, ignore_errors=True)


def test_a_home_the_server_user_cannot_reach_is_explained(capsys, monkeypatch, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root hands the data directory to the postgres user")
    tmp_path.chmod(0o700)
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path / "ws"))
    code, _, err = run(capsys, "server", "start")
    assert code == 1
    assert "cannot reach" in one_line(err) and "SWITCHBOARD_HOME" in err


def test_configuration_precedence(monkeypatch, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[database]\ndsn = "dbname=fromfile"\nschema = "filed"\n')
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(cfg))
    monkeypatch.delenv("SWITCHBOARD_DSN", raising=False)
    monkeypatch.delenv("SWITCHBOARD_SCHEMA", raising=False)
    assert resolve_target().dsn == "dbname=fromfile"
    assert resolve_target().schema == "filed"
    monkeypatch.setenv("SWITCHBOARD_DSN", "dbname=fromenv")
    assert resolve_target().dsn == "dbname=fromenv"
    assert resolve_target(dsn="dbname=fromflag").dsn == "dbname=fromflag"
    assert resolve_target(demo=True).embedded
    cfg.write_text("")
    monkeypatch.delenv("SWITCHBOARD_DSN")
    assert resolve_target().embedded


def test_bad_schema_name_is_refused(capsys, admin_dsn):
    code, _, err = run(capsys, "--dsn", admin_dsn, "--schema", "Robert'); DROP")
    assert code == 1
    assert "schema name" in one_line(err)


# ------------------------------------------------------------ issue 9 parts 6, 11 and 12
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_user_list_prints_hostile_names_cleaned(capsys, installer_dsn, admin_dsn):
    teams = run_sql(installer_dsn, "INSERT INTO team (name) SELECT unnest(%s::text[]) "
                    "RETURNING id", (hostile.ALL,))  # fmt: skip
    configure(admin_dsn, "switchboard")
    with database.connection_context():
        for i, (value, (team_id,)) in enumerate(zip(hostile.ALL, teams, strict=True)):
            users.create_user(f"hostile_{os.getpid()}_{i}", value, "rep", team_id)
    code, out, err = run(capsys, "user", "list", "--dsn", admin_dsn)
    assert code == 0, err
    assert out.count("hostile_") == len(hostile.ALL)
    assert not UNSAFE.search(out), [m for m in UNSAFE.findall(out)]
    assert "\x1b" not in out and "\u202e" not in out and "\x9b" not in out
    lines = [line for line in out.splitlines() if line.startswith("hostile_")]
    from rich.cells import cell_len

    # every row's role column starts at the same terminal cell (CJK and emoji included)
    assert {cell_len(line.split(" rep ")[0]) for line in lines} == {20 + 1 + 24}


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A local TCP port that accepts connections and never answers (QA case 56)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.parametrize(
    "argv", [["db", "status"], ["db", "migrate"], ["demo"], ["user", "list"]]
)
def test_every_cli_connection_gives_up_on_a_silent_server(monkeypatch, argv):
    monkeypatch.setattr(connection, "CONNECT_TIMEOUT_S", 1)
    result: list = []
    with silent_server() as port:
        dsn = f"host=127.0.0.1 port={port} dbname=x user=nobody sslmode=disable"
        thread = threading.Thread(target=lambda: result.append(main([*argv, "--dsn", dsn])),
                                  daemon=True)  # fmt: skip
        thread.start()
        thread.join(20)  # the timeout is 1 s: 20 s means it never gave up
        hung = thread.is_alive()
    assert not hung, f"switchboard {' '.join(argv)} waited for ever"
    assert result == [1]


def test_schema_before_the_command_is_used(capsys, admin_dsn):
    code, out, err = run(capsys, "--schema", "acme", "db", "status", "--dsn", admin_dsn)
    assert code == 0 and out.startswith("schema acme in database "), out
    assert "version 0" in out
    code, _, err = run(capsys, "--schema", "acme", "user", "list", "--dsn", admin_dsn)
    assert code == 1 and "no Switchboard schema" in one_line(err)
    code, _, err = run(capsys, "--dsn", admin_dsn, "user", "list", "--schema", "acme")
    assert code == 1 and "no Switchboard schema" in one_line(err)
    code, _, err = run(capsys, "--schema", "acme", "user", "list", "--schema", "other")
    assert code == 2 and "--schema" in one_line(err)


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    from db import workspace

    def broken() -> None:
        raise KeyError("boom")

    monkeypatch.setattr(workspace, "server", broken)
    code, _, err = run(capsys, "server", "status")
    assert code == 1
    line = one_line(err)
    assert "unexpected error (KeyError" in line and "--debug" in line
    with pytest.raises(KeyError):
        main(["--debug", "server", "status"])


def test_a_database_error_keeps_every_line_of_libpq(capsys):
    dsn = f"host=127.0.0.1 port={free_port()} dbname=x user=nobody connect_timeout=2"
    code, _, err = run(capsys, "db", "status", "--dsn", dsn)
    assert code == 1
    line = one_line(err)
    assert "Connection refused" in line or "refused" in line.lower(), line
    assert "\t" not in line
