"""Two real `switchboard` processes in two terminals (tmux, 80x24), two people on one contact:
each sees the other; one app is killed (no goodbye) and the other's sweep makes it disappear
within seconds. The other's screen follows both through presence notices, no key pressed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid

import psycopg2
import pytest

from db.presence import SWEEP_INTERVAL_S
from tests import fixtures_crm
from tests.tui.test_presence import other_person
from tests.tui.test_tmux import capture, keys, to_volvo_cars, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def start(session: str, dsn: str) -> None:
    command = f"{sys.executable} -m tui.cli --dsn '{dsn}'"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    "-e", "TERM=vt100", command], check=True)  # fmt: skip


def to_anna(session: str) -> None:
    to_volvo_cars(session)
    keys(session, "c", "End", "Enter")
    wait_for(session, "Anna Lind · CFO · Volvo Cars Sverige AB")


def people_present(installer_dsn: str) -> list[str]:
    conn = psycopg2.connect(installer_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT u.display_name FROM switchboard.presence p JOIN "
                        "switchboard.app_user u ON u.id = p.app_user_id "
                        "WHERE p.table_name = 'contact' ORDER BY 1")  # fmt: skip
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def test_two_apps_see_each_other_and_a_killed_one_disappears(pg, db_name, installer_dsn, admin_dsn):
    fixtures_crm.load(installer_dsn)
    erik = other_person(pg, db_name, installer_dsn)  # for his login only
    ada_s, erik_s = f"sb-{uuid.uuid4().hex[:8]}", f"sb-{uuid.uuid4().hex[:8]}"
    start(ada_s, admin_dsn)
    start(erik_s, erik.dsn)
    try:
        to_anna(ada_s)
        to_anna(erik_s)
        # Erik came second: his screen asked on opening; Ada's follows without a key (the
        # presence notice of his arrival)
        top = wait_for(erik_s, "Ada Admin also here").splitlines()[0]
        assert "● live" in top
        wait_for(ada_s, "Erik also here")
        assert people_present(installer_dsn) == ["Ada Admin", "Erik"]

        # Erik's app dies without a word
        pid = subprocess.run(
            ["tmux", "display", "-p", "-t", erik_s, "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        killed = time.monotonic()
        subprocess.run(["kill", "-9", pid], check=True)
        deadline = killed + SWEEP_INTERVAL_S + 5
        while people_present(installer_dsn) != ["Ada Admin"]:
            assert time.monotonic() < deadline, people_present(installer_dsn)
            time.sleep(0.1)
        # the sweep's delete is a notice too: Ada's line follows, no key pressed
        end = time.monotonic() + 5
        while "Erik" in capture(ada_s).splitlines()[0]:
            assert time.monotonic() < end, capture(ada_s).splitlines()[0]
            time.sleep(0.1)
        assert "Anna Lind · CFO" in capture(ada_s)
        keys(ada_s, "C-q")
        end = time.monotonic() + 10
        while people_present(installer_dsn):  # Ada closed: her presence went with her
            assert time.monotonic() < end, people_present(installer_dsn)
            time.sleep(0.1)
    finally:
        for s in (ada_s, erik_s):
            subprocess.run(["tmux", "kill-session", "-t", s], capture_output=True)
        erik.close()
