"""A terminal for tests: the real app in a pseudo-terminal, its bytes read by pyte.

pyte is a VT100/xterm emulator in pure Python: what it shows is what a person's terminal shows
from the same bytes (a newline inside a row moves the cursor down, exactly as in a real
terminal in raw mode). The app is asked for what it means to draw (observed_app.py); `check`
waits until the emulated screen and the app's model agree and are stable, and fails with both
screens side by side when they never do.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "enter": "\r", "escape": "\x1b", "tab": "\t", "down": "\x1b[B", "up": "\x1b[A",
    "right": "\x1b[C", "left": "\x1b[D", "end": "\x1b[F", "home": "\x1b[H", "ctrl+l": "\x0c",
    "ctrl+q": "\x11", "backspace": "\x7f", "question_mark": "?", "slash": "/",
}  # fmt: skip
DEADLINE = 8.0  # seconds a check may take before it fails (it normally takes a few tenths)


class TerminalMismatch(AssertionError):
    pass


class Terminal:
    """`switchboard ARGS` in a pty of `size`, with an emulated screen of the same size."""

    def __init__(self, args: list[str], size: tuple[int, int] = (80, 24)) -> None:
        self.width, self.height = size
        self.screen = pyte.Screen(self.width, self.height)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        self.received = 0  # bytes of output so far
        self.home = tempfile.TemporaryDirectory(prefix="sb-term-")
        master, slave = os.openpty()
        self._set_size(master)
        read_model, write_model = os.pipe()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TEXTUAL", "NO_COLOR", "SWITCHBOARD", "COLUMNS", "LINES"))
        }
        env.update(
            TERM="xterm-256color", COLORTERM="truecolor", SWITCHBOARD_HOME=self.home.name,
            XDG_CONFIG_HOME=self.home.name, SWITCHBOARD_MODEL_FD=str(write_model),
            PYTHONPATH=str(ROOT),
        )  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.terminal.observed_app", *args],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
            pass_fds=(write_model,), start_new_session=True, preexec_fn=_take_terminal,
        )  # fmt: skip
        os.close(slave)
        os.close(write_model)
        self.master = master
        self.models = os.fdopen(read_model, "rb", buffering=0)
        self._model_buffer = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self._next_line(20.0)  # {"ready": true}: the app runs and answers

    # ----------------------------------------------------------------------------- the pty

    def _set_size(self, fd: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", self.height, self.width, 0, 0))

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.stream.feed(data)
                self.received += len(data)

    def press(self, *keys: str) -> None:
        """Type keys one at a time, as a person would (names from KEYS, or literal text)."""
        for key in keys:
            os.write(self.master, KEYS.get(key, key).encode())

    def resize(self, width: int, height: int) -> None:
        """Resize the terminal: the emulator first, then the pty (the kernel sends SIGWINCH)."""
        with self.lock:
            self.width, self.height = width, height
            self.screen.resize(height, width)
            self._set_size(self.master)

    def scribble(self, text: str) -> None:
        """Bytes from elsewhere land on the terminal (a `write` from another user, a stray
        background job): only a full repaint puts the screen right again."""
        with self.lock:
            self.stream.feed(text.encode())

    def shown(self) -> list[str]:
        with self.lock:
            return list(self.screen.display)

    # ----------------------------------------------------------------------------- the model

    def model(self, timeout: float = 5.0) -> dict:
        """Ask the app what it means to draw; its answer comes after its next paint."""
        os.kill(self.process.pid, signal.SIGUSR1)
        return self._next_line(timeout)

    def _next_line(self, timeout: float) -> dict:
        end = time.monotonic() + timeout
        while b"\n" not in self._model_buffer:
            left = end - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise TerminalMismatch(f"the app gave no model; screen:\n{self.render()}")
            ready, _, _ = select.select([self.models], [], [], left)
            if ready:
                self._model_buffer += self.models.read(1 << 20) or b""
        line, self._model_buffer = self._model_buffer.split(b"\n", 1)
        return json.loads(line)

    def check(
        self, step: str, expect: str | None = None, gone: str | None = None,
        timeout: float = DEADLINE,
    ) -> None:  # fmt: skip
        """Fail unless the terminal comes to show exactly what the app means (after `step`).

        Waits until the app's model has the terminal's size, contains `expect` and no longer
        contains `gone` (the step has taken effect), then until two models in a row are the
        same and the emulated screen equals them."""
        end = time.monotonic() + timeout
        previous = None
        while True:
            meant = self.model()
            rows = "\n".join(meant["rows"])
            if (
                meant["size"] != [self.width, self.height]
                or (expect is not None and expect not in rows)
                or (gone is not None and gone in rows)
            ):
                if time.monotonic() > end:
                    raise TerminalMismatch(
                        f"after {step}: the app never came to mean "
                        f"{expect!r} without {gone!r} at "
                        f"{self.width}x{self.height}:\n{rows}"
                    )
                previous = None
                time.sleep(0.03)
                continue
            shown = self.shown()
            if meant["rows"] == previous and shown == meant["rows"]:
                if meant["faults"]:  # right by luck: the next partial repaint goes wrong
                    raise TerminalMismatch(
                        f"after {step}: the app writes control characters "
                        "inside rows: " + "; ".join(meant["faults"][:5])
                    )
                return
            if time.monotonic() > end:
                faults = "\n".join(meant["faults"][:5])
                raise TerminalMismatch(f"after {step}: the terminal does not show what the "
                                       f"app means\n{side_by_side(meant['rows'], shown)}"
                                       + (f"\ncontrol characters in rows:\n{faults}" if faults
                                          else ""))  # fmt: skip
            previous = meant["rows"]
            time.sleep(0.03)

    def render(self) -> str:
        return "\n".join(self.shown())

    def close(self) -> None:
        if self.process.poll() is None:
            self.press("ctrl+q")
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self.master)
        self.models.close()
        self.home.cleanup()


def _take_terminal() -> None:
    """In the child, after setsid: make the pty its controlling terminal (for SIGWINCH)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def side_by_side(meant: list[str], shown: list[str]) -> str:
    """Rows that differ, the app's meaning above the terminal's, marked by row number."""
    out = []
    for y, (a, b) in enumerate(zip(meant, shown, strict=False)):
        if a != b:
            out.append(f"{y:2} meant |{a}|\n{y:2} shown |{b}|")
    if len(meant) != len(shown):
        out.append(f"rows: meant {len(meant)}, shown {len(shown)}")
    return "\n".join(out)
