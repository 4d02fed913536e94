"""Going back with Esc is immediate at a real terminal (issue 9, part 10).

Textual's Linux driver handed over a lone Esc only on its next 100 ms select tick, after a
100 ms ESCDELAY: about 115 ms from key to repaint in a pty. Our driver (tui/driver.py) wakes
when its 20 ms deadline is due. Measured in a real pseudo-terminal from the key's write to the
first byte of the repaint: help opened with `?` and closed with Esc, against the same help
closed with `q` (the same work without the wait), so the machine's load cancels out."""

from __future__ import annotations

import os
import statistics

import pytest

from tests import fixtures_crm
from tests.tui.pty_run import PtyApp

pytestmark = pytest.mark.tmux  # a real terminal (a pty), like the tmux tests

ROUNDS = 15
TEXTUAL_DRIVER = {"TEXTUAL_DRIVER": "textual.drivers.linux_driver:LinuxDriver"}


def close_help_latencies(dsn: str, env: dict | None = None) -> dict[bytes, list[float]]:
    """Seconds from key to repaint when closing help with Esc and with `q`, alternately."""
    app = PtyApp(dsn, env=env)
    took: dict[bytes, list[float]] = {b"\x1b": [], b"q": []}
    try:
        app.wait_for(b"Subtree")
        app.wait_quiet()
        for _ in range(ROUNDS):
            for key in took:
                app.key_to_repaint(b"?")
                app.wait_quiet(0.2)
                took[key].append(app.key_to_repaint(key))
                app.wait_quiet(0.2)
        return took
    finally:
        app.close()


def esc_overhead(took: dict[bytes, list[float]]) -> tuple[float, float, float]:
    esc, q = statistics.median(took[b"\x1b"]), statistics.median(took[b"q"])
    return esc, q, esc - q


def test_escape_goes_back_at_once(installer_dsn, admin_dsn):
    fixtures_crm.load(installer_dsn)
    esc, q, extra = esc_overhead(close_help_latencies(admin_dsn))
    print(f"ours: esc {esc * 1000:.1f} ms, q {q * 1000:.1f} ms, esc costs {extra * 1000:.1f} ms")
    assert extra < 0.050  # Textual's driver: 100 ms or more (ESCDELAY alone is 100 ms)


@pytest.mark.skipif(not os.environ.get("SWITCHBOARD_MEASURE_TEXTUAL_DRIVER"),
                    reason="the before figure, by hand: it fails, that is the point")
def test_textual_driver_for_comparison(installer_dsn, admin_dsn):
    fixtures_crm.load(installer_dsn)
    esc, q, extra = esc_overhead(close_help_latencies(admin_dsn, TEXTUAL_DRIVER))
    print(f"textual: esc {esc * 1000:.1f} ms, q {q * 1000:.1f} ms, esc costs {extra * 1000:.1f}")
    assert extra < 0.050
