"""The call console in a real terminal, monochrome, 80x24: from number entry to a logged
outcome by keyboard alone (`switchboard --screen console`, NO_COLOR=1: switchboard-mono)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid

import psycopg2
import pytest

from tests.activity_data import seed
from tests.tui.test_log_activity import rows
from tests.tui.test_tmux import keys, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_number_to_logged_outcome_by_keyboard_in_monochrome(installer_dsn, admin_dsn):
    s = seed(installer_dsn)
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO contact_phone (contact_id, raw, e164) VALUES "
                    "(%s, '070-123 45 67', '+46701234567')", (s.contact_id,))  # fmt: skip
        cur.execute("UPDATE contact SET do_not_email = true WHERE id = %s", (s.contact_id,))
    conn.close()
    session = f"console-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m tui.cli --dsn '{admin_dsn}' --screen console"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
         "-e", "TERM=xterm-256color", "-e", "NO_COLOR=1", command],
        check=True,
    )  # fmt: skip
    try:
        wait_for(session, "Call console")
        wait_for(session, "queue: 0 due")
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "0046 70-123 45 67"],
                       check=True)  # fmt: skip
        keys(session, "Enter")
        screen = wait_for(session, "Anna Lind · Volvo Group")
        assert "DO NOT EMAIL" in screen and "on call" in screen
        assert "Open deals" in screen and "Fleet renewal" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "left a message"], check=True)
        keys(session, "Escape", "v")
        screen = wait_for(session, "Logged: voicemail · Anna Lind")
        assert "no call" in screen
        raw = subprocess.run(["tmux", "capture-pane", "-p", "-e", "-t", session],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert re.findall(r"\x1b\[[0-9;]*[34]8;[25];[0-9;]*m", raw) == []  # no colour at all
        assert all(len(line) <= 80 for line in screen.splitlines())
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert rows(installer_dsn, "SELECT kind, direction, outcome, body, contact_id "
                "FROM activity") == [("call", "in", "voicemail", "left a message", s.contact_id)]
