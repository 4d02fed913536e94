"""The pipeline board in a real terminal (tmux, TERM=vt100, 80x24): a burst of stage moves,
shift+right as tmux sends it and `>`, lands in order in the database."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest

from tests import fixtures_crm
from tests.records_data import run
from tests.tui.test_tmux import capture, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def stage_of(dsn: str, name: str) -> tuple[str, int]:
    return tuple(run(dsn, "SELECT s.name, o.probability FROM opportunity o JOIN stage s "
                     "ON s.id = o.stage_id WHERE o.name = %s", (name,))[0])  # fmt: skip


def test_a_burst_of_moves_in_a_real_terminal(installer_dsn, admin_dsn):
    import sys

    fixtures_crm.load(installer_dsn)
    session = f"deals-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m tui.cli --dsn '{admin_dsn}' --screen pipeline"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    "-e", "TERM=vt100", command], check=True)  # fmt: skip
    try:
        screen = wait_for(session, "Service deal")
        assert "Qualify 1 · 100k" in screen and "4 deals" in screen
        # one send-keys call: one burst, as a fast typist or a laggy link delivers it
        subprocess.run(["tmux", "send-keys", "-t", session, "S-Right", ">", ">"], check=True)
        end = time.monotonic() + 20
        while stage_of(installer_dsn, "Service deal") != ("Negotiate", 75):
            assert time.monotonic() < end, capture(session)
            time.sleep(0.1)
        screen = wait_for(session, "Negotiate 2")
        assert "Left Proposal" in screen
        history = run(installer_dsn, "SELECT s.name FROM audit_log l JOIN stage s ON s.id = "
                      "(l.new_values->>'stage_id')::bigint JOIN opportunity o ON o.id = l.row_id "
                      "WHERE l.table_name = 'opportunity' AND o.name = 'Service deal' "
                      "ORDER BY l.id")  # fmt: skip
        assert [h[0] for h in history] == ["Qualify", "Discover", "Proposal", "Negotiate"]
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_the_board_in_true_monochrome(installer_dsn, admin_dsn):
    import re
    import sys

    fixtures_crm.load(installer_dsn)
    session = f"deals-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m tui.cli --dsn '{admin_dsn}' --screen pipeline"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    "-e", "TERM=xterm-256color", "-e", "NO_COLOR=1", command],
                   check=True)  # fmt: skip
    try:
        wait_for(session, "Service deal")
        raw = subprocess.run(["tmux", "capture-pane", "-p", "-e", "-t", session],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        colours = re.findall(r"\x1b\[[0-9;]*[34]8;[25];[0-9;]*m", raw)
        assert colours == [], colours[:5]
        card = next(line for line in raw.splitlines() if "Service deal" in line)
        # the selected card stands out in reverse video (SGR 7), its neighbours do not
        reverse = r"\x1b\[(?:[0-9]+;)*7m(?:\x1b\[[34]9m)*\? "
        assert re.search(reverse + "Service deal", card), card
        assert not re.search(reverse + "Plant robots", card), card
        assert "? Service deal" in capture(session)  # markers are characters
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
