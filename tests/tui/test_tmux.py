"""The real `switchboard` in a real terminal (tmux, TERM=vt100, 80x24): tree, keys, detail."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tests import fixtures_crm

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def capture(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=True
    ).stdout


def wait_for(session: str, text: str, deadline: float = 20.0) -> str:
    end = time.monotonic() + deadline
    screen = ""
    while time.monotonic() < end:
        screen = capture(session)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not appear; screen was:\n{screen}")


def keys(session: str, *names: str) -> None:
    for name in names:
        subprocess.run(["tmux", "send-keys", "-t", session, name], check=True)
        time.sleep(0.15)


def test_tree_and_contact_in_a_real_terminal(installer_dsn, admin_dsn):
    fixtures_crm.load(installer_dsn)
    session = f"sb-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m tui.cli --dsn '{admin_dsn}'"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
         "-e", "TERM=vt100", command],
        check=True,
    )  # fmt: skip
    try:
        screen = wait_for(session, "Volvo Group")
        assert "Big Holding" in screen and "Accounts" in screen
        to_volvo_cars(session)
        keys(session, "c", "End", "Enter")
        screen = wait_for(session, "Anna Lind · CFO · Volvo Cars Sverige AB")
        assert "[4 of 4]" in screen and "reports to" in screen
        keys(session, "[")
        wait_for(session, "Maja Holm · Assistant")
        keys(session, "Escape")
        wait_for(session, "Subtree: 3 accounts")
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def start(session: str, admin_dsn: str, *env: str) -> None:
    command = f"{sys.executable} -m tui.cli --dsn '{admin_dsn}'"
    env_args = [arg for pair in env for arg in ("-e", pair)]
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", *env_args, command],
        check=True,
    )

def to_volvo_cars(session: str, first: bool = True) -> None:
    """From the tree (as it opens when `first`): filter to V, open Volvo Group, down to Volvo
    Cars Sverige AB, whose panel shows."""
    if first:
        wait_for(session, "Subtree: 251 accounts")
    keys(session, "V")
    wait_for(session, "Subtree: 5 accounts")  # Volvo Group's panel
    keys(session, "Enter")
    wait_for(session, "Volvo Cars Sverige AB  4")
    keys(session, "j")
    wait_for(session, "43,000 staff")



def test_no_color_is_truly_monochrome(installer_dsn, admin_dsn):
    fixtures_crm.load(installer_dsn)
    session = f"sb-{uuid.uuid4().hex[:8]}"
    start(session, admin_dsn, "TERM=xterm-256color", "NO_COLOR=1")
    try:
        wait_for(session, "Subtree: 251 accounts")
        raw = subprocess.run(
            ["tmux", "capture-pane", "-p", "-e", "-t", session],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        colours = re.findall(r"\x1b\[[0-9;]*[34]8;[25];[0-9;]*m", raw)
        assert colours == [], colours[:5]
        assert "\x1b[7m" in raw  # the cursor line still stands out, in reverse video
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_quick_call_typed_in_one_burst_is_logged_whole(installer_dsn, admin_dsn):
    fixtures_crm.load(installer_dsn)
    session = f"sb-{uuid.uuid4().hex[:8]}"
    start(session, admin_dsn, "TERM=vt100")
    try:
        to_volvo_cars(session)
        keys(session, "c", "End", "Enter")
        wait_for(session, "Anna Lind · CFO")
        # One burst, as a fast typist or a laggy SSH link delivers it.
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "lcpromised quote"],
                       check=True)  # fmt: skip
        subprocess.run(["tmux", "send-keys", "-t", session, "C-s"], check=True)
        end = time.monotonic() + 20
        screen = capture(session)
        while time.monotonic() < end and not (
            "promised quote" in screen and "Log activity" not in screen
        ):  # saved, the form closed, and the call shows among the latest
            time.sleep(0.1)
            screen = capture(session)
        assert "promised quote" in screen and "Log activity" not in screen, screen
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    import psycopg2

    conn = psycopg2.connect(admin_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT kind, body FROM switchboard.activity WHERE body LIKE 'promised%%'")
        assert cur.fetchall() == [("call", "promised quote")]
    conn.close()


def test_new_account_typed_in_one_burst_keeps_every_letter(installer_dsn, admin_dsn):
    fixtures_crm.load(installer_dsn)
    session = f"sb-{uuid.uuid4().hex[:8]}"
    start(session, admin_dsn, "TERM=vt100")
    try:
        wait_for(session, "Subtree: 251 accounts")
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "nAardvark Consulting"],
                       check=True)  # fmt: skip
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        wait_for(session, "Aardvark Consulting  0")  # saved, back in the tree, first root
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def raw_line(session: str, text: str, below: int = 0) -> str:
    """The first line of the pane holding `text` (or the `below`-th line under it), with its
    attributes (capture-pane -e)."""
    raw = subprocess.run(["tmux", "capture-pane", "-p", "-e", "-t", session],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    raw = raw.splitlines()
    plain = re.compile(r"\x1b\[[0-9;]*m")
    for index, line in enumerate(raw):
        if text in plain.sub("", line) and index + below < len(raw):
            return raw[index + below]
    return ""


def attributes(line: str) -> set[str]:
    """Every SGR attribute turned on in `line` ("1" bold, "4" underline, "7" reverse)."""
    return {p for codes in re.findall(r"\x1b\[([0-9;]*)m", line) for p in codes.split(";")}


def wait_attr(
    session: str, text: str, wanted: set[str], below: int = 0, deadline: float = 10.0
) -> str:
    """Wait until the line with `text` shows every attribute of `wanted` (a cursor blinks)."""
    end = time.monotonic() + deadline
    line = ""
    while time.monotonic() < end:
        line = raw_line(session, text, below)
        if wanted <= attributes(line):
            return line
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never showed {wanted}: {line!r}")


def test_monochrome_forms_show_focus_cursor_and_state(installer_dsn, admin_dsn):
    """NO_COLOR=1 TERM=vt100: the focused field is underlined and its cursor in reverse video,
    a checkbox reads [ ] or [x] and is marked when focused, the contact list cursor is more
    than bold (issue 9, part 9)."""
    fixtures_crm.load(installer_dsn)
    session = f"sb-{uuid.uuid4().hex[:8]}"
    start(session, admin_dsn, "TERM=vt100", "NO_COLOR=1")
    try:
        to_volvo_cars(session)
        keys(session, "c", "Down")  # a contact is highlighted (the first or the second)
        end = time.monotonic() + 10
        rows: list[str] = []
        while time.monotonic() < end:
            rows = [raw_line(session, " Contacts", below) for below in (1, 2, 3, 4)]
            if any({"1", "4"} <= attributes(row) for row in rows):
                break  # the highlighted contact is bold and underlined, not bold only
            time.sleep(0.05)
        assert any({"1", "4"} <= attributes(row) for row in rows), rows
        keys(session, "n")
        wait_for(session, "New contact")
        wait_attr(session, "First name", {"4", "7"})  # focused (underline), cursor (reverse)
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "Ann"], check=True)
        wait_for(session, "Ann")
        keys(session, "Tab")
        wait_attr(session, "Last name", {"4", "7"})
        assert "4" not in attributes(raw_line(session, "First name"))
        keys(session, "BTab")  # back into "Ann": its text is selected, the next key replaces it
        line = wait_attr(session, "First name", {"4", "7"})
        selected = re.search(r"\x1b\[([0-9;]*)mAnn", line)
        assert selected and "7" in selected.group(1).split(";"), line
        keys(session, "Tab")
        keys(session, "BTab", "BTab", "BTab")  # round the form: notes, then the last flag
        screen = wait_for(session, "[ ] Do not email")
        assert "[ ] Do not call" in screen
        wait_attr(session, "Do not email", {"1", "4"})
        keys(session, "Space")
        wait_for(session, "[x] Do not email")
        assert "[ ] Do not call" in capture(session)
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_whole_forms_typed_in_one_burst_land_field_by_field(installer_dsn, admin_dsn):
    """One send-keys call per form, the opening key included, as SSH or a paste delivers it:
    Tab, a picker's Enter and arrows and the final ctrl+s all land as if typed slowly
    (issue 9, part 2)."""
    fixtures_crm.load(installer_dsn)
    session = f"sb-{uuid.uuid4().hex[:8]}"
    start(session, admin_dsn, "TERM=vt100")
    burst = ["tmux", "send-keys", "-t", session]
    try:
        wait_for(session, "Subtree: 251 accounts")
        subprocess.run([*burst, "n", "Nordic Pumps", "Tab", "Machinery", "Tab", "3599", "Tab",
                        "120", "C-s"], check=True)  # fmt: skip
        wait_for(session, "Nordic Pumps  0")  # saved, back in the tree
        to_volvo_cars(session, first=False)
        keys(session, "c", "End", "Enter")
        wait_for(session, "Anna Lind · CFO")
        subprocess.run([*burst, "l", "c", "Send quote", "Tab", "Enter", "Down", "Enter",
                        "Tab", "Tab", "Tab", "Tab", "tomorrow", "C-s"], check=True)  # fmt: skip
        screen = wait_for(session, "call reached  Send quote")  # saved: among the latest
        assert "Log activity" not in screen
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    import psycopg2

    conn = psycopg2.connect(admin_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT name, industry, sic_code, employees FROM switchboard.account "
                    "WHERE name LIKE 'Nordic%%'")  # fmt: skip
        assert cur.fetchall() == [("Nordic Pumps", "Machinery", "3599", 120)]
        cur.execute("SELECT kind, body, outcome, due_at IS NOT NULL FROM switchboard.activity "
                    "WHERE body LIKE 'Send%%'")  # fmt: skip
        assert cur.fetchall() == [("call", "Send quote", "reached", True)]
    conn.close()
