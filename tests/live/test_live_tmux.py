"""Two real `switchboard` processes in tmux as two people (issue 11 "done"): a save typed in
one appears in the other within 1 s with no key pressed there; the other person's private
account never shows."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tests.live.conftest import set_all_defaults
from tests.tui.test_tmux import capture

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def wait_for(session: str, text: str, deadline: float = 20.0) -> float:
    """Monotonic time at which `text` was first seen in the pane."""
    end = time.monotonic() + deadline
    screen = ""
    while time.monotonic() < end:
        screen = capture(session)
        if text in screen:
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"{text!r} did not appear; screen was:\n{screen}")


def start(session: str, dsn: str) -> None:
    command = f"{sys.executable} -m tui.cli --dsn '{dsn}'"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    "-e", "TERM=xterm-256color", command], check=True)  # fmt: skip


def keys(session: str, *names: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, *names], check=True)


def test_a_save_in_one_process_shows_in_the_other_within_a_second(world, pg, db_name):
    set_all_defaults(world, "private")
    rita, admin = f"sbl-r-{uuid.uuid4().hex[:6]}", f"sbl-a-{uuid.uuid4().hex[:6]}"
    try:
        start(rita, pg.dsn(db_name, user=world.users["rita"]))
        start(admin, pg.dsn(db_name, user="sb_admin"))
        wait_for(rita, "● live")
        wait_for(rita, "Acme of rita")
        wait_for(admin, "Acme of sam")
        assert "Acme of sam" not in capture(rita)  # private to sam
        keys(admin, "Down", "Down")  # Acme of mona, nate, rita: the cursor on rita's
        wait_for(admin, "Acme of rita", 5)
        time.sleep(0.5)  # the panel follows the cursor (a key burst would land in the form)
        keys(admin, "e")
        wait_for(admin, "Save")
        keys(admin, "End", " ", "A", "B")
        sent = time.monotonic()
        keys(admin, "C-s")  # the save commits within a few ms of this
        shown = wait_for(rita, "Acme of rita AB", deadline=5)  # no key pressed in rita's
        print(f"ctrl+s in one process -> visible in the other: {shown - sent:.3f} s")
        assert shown - sent < 1.0, f"took {shown - sent:.2f} s"
        keys(admin, "Up", "Up")  # mona's account: rita's screen never hears of it
        assert "mona" not in capture(rita)
    finally:
        for session in (rita, admin):
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
