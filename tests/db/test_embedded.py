"""The embedded launcher: init once, start/stop/status, lock, stale pid, missing binaries."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
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


def test_two_terminals_starting_at_once_start_one_server(server):
    errors: list[Exception] = []

    def start() -> None:
        try:
            server.start()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert server.running()
    assert server.lock_file.exists()


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
