"""Issue 10 part 8 (files): run as root, the embedded server's log was world-readable (it shows
failing statements with their data) and any OS user could flock the launcher's lock file, so
`server start/stop` hung. The workspace's files are private to their owner."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from db.embedded import EmbeddedServer, free_port

STRANGER = "nobody"
# The stranger needs an interpreter it may run (root's own may live under a closed /root).
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@pytest.fixture
def server():
    base = Path(tempfile.mkdtemp(prefix="sbw-"))
    os.chmod(base, 0o755)
    srv = EmbeddedServer(base / "server", port=free_port(), fast_unsafe=True)
    yield srv
    try:
        srv.stop(mode="immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_log_and_the_lock_file_are_private(server):
    server.start()
    assert server.log_file.stat().st_size > 0  # the server still writes its log
    assert _mode(server.log_file) & 0o077 == 0
    assert _mode(server.lock_file) & 0o077 == 0
    assert _mode(server.home) & 0o066 == 0  # others may at most traverse (root: the server user)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another OS user")
def test_another_os_user_can_neither_read_the_log_nor_hold_the_lock(server):
    server.start()
    probe = (
        "import fcntl, sys\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        fh = open(path)\n"
        "        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "        print('OPENED', path)\n"
        "    except PermissionError:\n"
        "        print('DENIED', path)\n"
    )
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    result = subprocess.run(
        [runuser, "-u", STRANGER, "--", PYTHON, "-c", probe,
         str(server.log_file), str(server.lock_file)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.skip(f"{STRANGER} cannot run {PYTHON}: {result.stderr.strip()[-200:]}")
    assert result.stdout.split("\n")[:2] == [f"DENIED {server.log_file}",
                                            f"DENIED {server.lock_file}"]  # fmt: skip
    server.stop()  # not held by anyone else: returns
    assert not server.running()


def test_an_older_workspace_with_open_files_is_closed_on_start(server):
    server.start()
    server.stop()
    os.chmod(server.log_file, 0o644)
    os.chmod(server.lock_file, 0o666)
    if os.geteuid() == 0:
        os.chmod(server.home, 0o755)
    server.start()
    assert _mode(server.log_file) & 0o077 == 0
    assert _mode(server.lock_file) & 0o077 == 0
    assert _mode(server.home) & 0o066 == 0
