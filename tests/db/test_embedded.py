"""The embedded launcher: init once, start/stop/status, lock, stale pid, missing binaries."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

from db import embedded
from db.embedded import EmbeddedServer, find_bindir, free_port
from db.errors import ServerError


@pytest.fixture
def server():
    home = Path(tempfile.mkdtemp(prefix="sbe-"))
    srv = EmbeddedServer(home, port=free_port(), fast_unsafe=True)
    yield srv
    try:
        srv.stop(mode="immediate")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_start_initialises_once_and_listens_only_on_its_socket(server):
    server.start()
    assert server.running()
    assert "running" in server.status()
    conn = psycopg2.connect(server.dsn())
    with conn.cursor() as cur:
        cur.execute("SHOW listen_addresses")
        assert cur.fetchone()[0] == ""
        cur.execute("SHOW unix_socket_directories")
        assert cur.fetchone()[0] == str(server.socket_dir)
    conn.close()
    version_file = (server.data_dir / "PG_VERSION").stat().st_mtime
    server.start()  # already running: nothing happens
    server.init()  # already initialised: nothing happens
    assert (server.data_dir / "PG_VERSION").stat().st_mtime == version_file
    assert server.stop() is True
    assert server.stop() is False
    assert "stopped" in server.status()


def postmasters(data_dir: Path) -> list[int]:
    """Pids of the PostgreSQL servers running on `data_dir` (its children name no data dir)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"postgres") and str(data_dir).encode() in args:
            found.append(int(proc.name))
    return found


def test_two_terminals_starting_at_once_start_one_server(server):
    """Three processes (three terminals) start the same server at once: one server runs."""
    code = ("import sys; from pathlib import Path; from db.embedded import EmbeddedServer; "
            "EmbeddedServer(Path(sys.argv[1]), port=int(sys.argv[2]), fast_unsafe=True).start()")
    root = Path(__file__).resolve().parents[2]
    starts = [subprocess.Popen([sys.executable, "-c", code, str(server.home), str(server.port)],
                               cwd=root, stderr=subprocess.PIPE, text=True)
              for _ in range(3)]  # fmt: skip
    results = [(p.wait(120), p.stderr.read()) for p in starts]
    assert results == [(0, "")] * 3
    assert server.running()
    assert server.lock_file.exists()
    running = postmasters(server.data_dir)
    assert len(running) == 1, running
    pid = int((server.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    assert running == [pid]


def test_a_stale_pid_file_left_by_a_crash_does_not_block_start(server):
    server.start()
    server.stop()
    # A crash leaves postmaster.pid behind, naming a pid that is now some other process.
    (server.data_dir / "postmaster.pid").write_text(f"{os.getpid()}\n{server.data_dir}\n")
    assert not server.running()
    server.start()
    assert server.running()
    conn = psycopg2.connect(server.dsn())
    conn.close()


def test_missing_binaries_say_how_to_install_or_point_at_a_server(monkeypatch, tmp_path):
    monkeypatch.setenv("SWITCHBOARD_PG_BINDIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded, "SEARCH_GLOB", str(tmp_path / "none" / "*"))
    with pytest.raises(ServerError) as caught:
        find_bindir()
    message = str(caught.value)
    assert "apt-get install postgresql" in message and "--dsn" in message
    assert "\n" not in message


def test_binaries_are_found_on_this_machine():
    assert (find_bindir() / "initdb").is_file()


def test_root_runs_the_server_as_postgres(server):
    if os.geteuid() != 0:
        pytest.skip("only meaningful as root")
    server.start()
    conn = psycopg2.connect(server.dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    conn.close()
    assert Path(f"/proc/{pid}").stat().st_uid == shutil._get_uid("postgres")  # type: ignore[attr-defined]
