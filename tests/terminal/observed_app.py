"""The real `switchboard` command, plus a way for a test to ask what the app means to draw.

Run as `python -m tests.terminal.observed_app SWITCHBOARD-ARGS...` in a pseudo-terminal, with
SWITCHBOARD_MODEL_FD naming an inherited pipe: on each SIGUSR1 the app writes one JSON line to
it, once the screen has painted: the sequence number, the size, the screen's name and its rows
(tests/terminal/model.py). Nothing else about the app changes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys

from tests.terminal.model import model
from tui import cli
from tui.app import SwitchboardApp

_sequence = itertools.count(1)


def _install(app: SwitchboardApp) -> None:
    fd = int(os.environ["SWITCHBOARD_MODEL_FD"])

    def dump() -> None:
        seen = model(app)
        line = json.dumps({
            "seq": next(_sequence),
            "size": list(app.size),
            "screen": type(app.screen).__name__,
            "rows": seen.rows,
            "faults": seen.faults,
        })  # fmt: skip
        os.write(fd, line.encode() + b"\n")

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: app.call_after_refresh(dump))
    os.write(fd, b'{"ready": true}\n')


def _on_ready(self: SwitchboardApp) -> None:
    _install(self)


# A handler of the Ready event (SwitchboardApp has none of its own): the loop runs by then.
SwitchboardApp.on_ready = _on_ready  # type: ignore[attr-defined]

if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # a request before the app is ready
    sys.exit(cli.main(sys.argv[1:]))
