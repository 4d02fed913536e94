"""The forecast in a real terminal at 80x24 without colour (tmux, NO_COLOR=1): the bars are
characters, so they still read, and no colour code is sent."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid

import psycopg2
import pytest

from tests.forecast_data import LOGIN, seed
from tests.tui.test_tmux import capture, keys, start, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_forecast_bars_read_in_monochrome(pg, db_name, installer_dsn):
    org = seed(installer_dsn)
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:  # whatever today is, ray has pipeline closing this month
        cur.execute("INSERT INTO switchboard.opportunity (account_id, name, amount, stage_id, "
                    "probability, expected_close, forecast_category, owner_id) SELECT %s, "
                    "'Today deal', 50000, id, 10, current_date, 'pipeline', %s "
                    "FROM switchboard.stage WHERE name = 'Qualify'",
                    (org.accounts["ray"], org.users["ray"]))  # fmt: skip
    conn.close()
    session = f"forecast-{uuid.uuid4().hex[:8]}"
    start(session, pg.dsn(db_name, user=LOGIN + "mia"), "TERM=xterm-256color", "NO_COLOR=1")
    try:
        wait_for(session, "Accounts")
        keys(session, "7")
        screen = wait_for(session, "Ray Rep")
        assert "Forecast ·" in screen and "█ closed" in screen and "░ pipeline" in screen
        ray = next(line for line in screen.splitlines() if "Ray Rep" in line)
        assert "░" in ray and len(ray.rstrip()) <= 80
        north = next(line for line in screen.splitlines() if "▸ North" in line)
        assert "░" in north  # the team rolls ray up
        raw = subprocess.run(["tmux", "capture-pane", "-p", "-e", "-t", session],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        colours = re.findall(r"\x1b\[[0-9;]*[34]8;[25];[0-9;]*m", raw)
        assert colours == [], colours[:5]
        assert "adj" not in capture(session)
        keys(session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
