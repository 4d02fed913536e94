"""The real app in a pseudo-terminal: write keys, time how long until the screen changes."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time


class PtyApp:
    def __init__(self, dsn: str, *, cols: int = 80, rows: int = 24, env: dict | None = None):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {**os.environ, "TERM": "xterm-256color", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--dsn", dsn],
            stdin=slave, stdout=slave, stderr=slave, env=full_env, close_fds=True,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.output = b""

    def read_for(self, seconds: float) -> bytes:
        """Everything the app writes during the next `seconds`."""
        end = time.monotonic() + seconds
        got = b""
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                got += os.read(self.master, 65536)
        self.output += got
        return got

    def wait_for(self, text: bytes, deadline: float = 30.0) -> None:
        end = time.monotonic() + deadline
        while text not in self.output:
            if time.monotonic() > end:
                raise AssertionError(f"{text!r} never written; last: {self.output[-400:]!r}")
            self.read_for(0.05)

    def wait_quiet(self, quiet: float = 0.3, deadline: float = 10.0) -> None:
        """Until the app has written nothing for `quiet` seconds (it has finished drawing)."""
        end = time.monotonic() + deadline
        while self.read_for(quiet) and time.monotonic() < end:
            pass

    def key_to_repaint(self, key: bytes, deadline: float = 5.0) -> float:
        """Seconds from writing `key` to the first byte of the app's answer."""
        start = time.perf_counter()
        os.write(self.master, key)
        ready, _, _ = select.select([self.master], [], [], deadline)
        took = time.perf_counter() - start
        assert ready, f"no answer to {key!r} within {deadline} s"
        return took

    def close(self) -> None:
        try:
            os.write(self.master, b"\x11")  # ctrl+q
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        os.close(self.master)
