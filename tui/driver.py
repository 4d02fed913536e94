"""A terminal driver that hands over a lone Esc at once (back and cancel feel immediate).

Why: a terminal sends Esc both as a key and as the first byte of a sequence (an arrow is
`ESC [ A`), so the parser waits `ESCDELAY` for more before it calls it a key. Textual's Linux
driver waits 100 ms and, worse, looks at that deadline only when its `select(0.1)` returns:
at a real terminal Esc took about 115 ms from key to repaint whatever ESCDELAY said. This
driver sleeps exactly until the parser's deadline, and the deadline is 20 ms unless the
person set ESCDELAY (in milliseconds, as for curses; raise it on a very slow link where an
arrow's bytes can arrive apart). Measured: docs/keymap.md.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual import constants
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

ESCAPE_DELAY_MS = 20
IDLE_WAIT = 0.1  # seconds: how often the input thread looks at the exit flag when idle


def escape_delay() -> float:
    """Seconds to wait after a lone Esc: ESCDELAY when set, else ESCAPE_DELAY_MS."""
    if os.environ.get("ESCDELAY"):
        return constants.ESCAPE_DELAY  # Textual read it already (with its own checks)
    return ESCAPE_DELAY_MS / 1000


class FastEscapeDriver(LinuxDriver):
    """LinuxDriver whose input thread wakes up when a pending Esc is due, not on a tick."""

    def run_input_thread(self) -> None:
        constants.ESCAPE_DELAY = escape_delay()  # type: ignore[misc]  (read at each Esc)
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def timeout() -> float:
            due = parser._timeout_time
            return IDLE_WAIT if due is None else max(0.0, min(IDLE_WAIT, due - get_time()))

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for index, (_key, mask) in enumerate(ready):
                if mask & selectors.EVENT_READ:
                    last = index == len(ready) - 1
                    data = decode(os.read(self.fileno, 1024 * 4), final=final and last)
                    if not data:
                        break
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(timeout()))
            selector.unregister(self.fileno)
            process(selector.select(IDLE_WAIT), final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass
