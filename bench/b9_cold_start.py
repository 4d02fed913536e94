"""B9 cold_start: process start -> first interactive screen with its data, and peak RSS.

Each run spawns a fresh interpreter in a pseudo-terminal of 80x24 and waits for it to exit:
the app with SWITCHBOARD_EXIT_ON_READY=1 (exits once the session and the first screen's data
are painted), and the floors: a bare Textual app that exits once painted, `import textual`,
and `psycopg2.connect` (in-process, as the rep). RSS is the child's peak (ru_maxrss from
wait4), an upper bound of the idle RSS right after the first screen.
"""

from __future__ import annotations

import fcntl
import os
import pty
import statistics
import struct
import sys
import termios
import threading
import time
from pathlib import Path

import psycopg2

from bench.common import Row, measure, percentile
from bench.dataset import Dataset


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def spawn(argv: list[str], env: dict[str, str], timeout: float = 30.0) -> tuple[float, float]:
    """Run argv in an 80x24 pty; (seconds from spawn to exit, peak RSS in MB)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: the pty is its terminal
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.execve(argv[0], argv, env)
    os.close(slave)
    reader = threading.Thread(target=_drain, args=(master,), daemon=True)
    reader.start()
    deadline = started + timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, 9)
            os.wait4(pid, 0)
            raise RuntimeError(f"{argv} did not exit within {timeout:.0f} s")
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    os.close(master)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} exited with {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss / 1024


def _series(argv: list[str], env: dict[str, str], reps: int) -> tuple[list[float], list[float]]:
    spawn(argv, env)  # warm-up: page cache, .pyc files
    times, rss = [], []
    for _ in range(reps):
        seconds, mb = spawn(argv, env)
        times.append(seconds * 1000)
        rss.append(mb)
    return times, rss


def run(ds: Dataset, reps: int = 10) -> list[Row]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(TERM="xterm-256color", COLUMNS="80", LINES="24")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)  # for -m bench.bare_app
    py = sys.executable
    app_env = {**env, "SWITCHBOARD_EXIT_ON_READY": "1"}
    app_argv = [py, "-m", "tui.cli", "--dsn", ds.user_dsn, "--schema", ds.schema]
    app_t, app_rss = _series(app_argv, app_env, reps)
    bare_t, bare_rss = _series([py, "-m", "bench.bare_app"], env, reps)
    imp_t, _ = _series([py, "-c", "import textual.app"], env, reps)
    noop_t, _ = _series([py, "-c", "pass"], env, reps)
    connect = measure(lambda: psycopg2.connect(ds.user_dsn).close(), max(reps, 20), warmup=2)
    app_med, bare_med = statistics.median(app_t), statistics.median(bare_t)
    detail = {"app_ms": app_t, "bare_ms": bare_t, "app_p95": percentile(app_t, 0.95),
              "import_textual_ms": imp_t, "python_noop_ms": noop_t, "user": ds.rep}  # fmt: skip
    app_mb, bare_mb = statistics.median(app_rss), statistics.median(bare_rss)
    return [
        Row("B9.cold_start", "spawn -> first screen with data (median)", app_med, bare_med,
            "ms", "<= bare app + 150 ms and <= 1 s",
            app_med <= bare_med + 150 and app_med <= 1000, detail),
        Row("B9.idle_rss", "peak RSS at first screen (median)", app_mb, bare_mb, "MB",
            "<= 1.5x bare app", app_mb <= 1.5 * bare_mb, {"app_mb": app_rss, "bare_mb": bare_rss}),
        Row("B9.import_textual", "floor: python -c 'import textual.app'", statistics.median(imp_t),
            statistics.median(noop_t), "ms", "floor (python -c pass as base)", None),
        Row("B9.pg_connect", "floor: psycopg2.connect as the rep", connect.median, None, "ms",
            "floor", None, connect.as_dict()),
    ]  # fmt: skip
