"""The offline outbox: writes made while the database is unreachable, kept on this machine.

One append-only JSON-lines file per (login, database) in the user's state directory
(`platformdirs.user_state_path("switchboard")`, 0700; the file 0600, opened with O_APPEND).
Every line is one event, written whole and fsynced before the call returns:

    {"op": "append", "uuid": ..., "kind": ..., "payload": {...}, "created_at": ...}
    {"op": "done" | "discarded", "uuid": ...}           # tombstones: the entry is finished
    {"op": "failed", "uuid": ..., "reason": ...}         # kept, shown, not replayed again

Nothing is rewritten in place. When every entry is finished the file is compacted (an empty
temp file renamed over it, then the directory fsynced). A torn last line (the app killed in
the middle of a write) is ignored, never fatal: the entry it held was never acknowledged.

`replay(outbox)` sends what waits, in order, through the same services the forms use, each
with its client UUID: activity.client_uuid is UNIQUE and the other kinds claim their UUID in
applied_write (migration 0014) in the same transaction, so a replay after a lost COMMIT
acknowledgement stores nothing twice. See docs/outbox.md.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid as uuid_module
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from db.errors import Conflict, DatabaseUnavailable, StaleRecord, SwitchboardError

KINDS = ("log_activity", "edit_contact", "complete_followup", "reschedule_followup")
KIND_WORDS = {
    "log_activity": "log activity",
    "edit_contact": "edit contact",
    "complete_followup": "follow-up done",
    "reschedule_followup": "reschedule",
}
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def state_dir() -> Path:
    import platformdirs

    return platformdirs.user_state_path("switchboard", appauthor=False)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, uuid_module.UUID):
        return str(value)
    raise TypeError(f"the outbox cannot store {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$datetime" in obj:
            return datetime.fromisoformat(obj["$datetime"])
        if "$date" in obj:
            return date.fromisoformat(obj["$date"])
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_encode, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


@dataclass(frozen=True)
class Entry:
    """One write that waits (or failed); `reason` says why a failed one was not stored."""

    uuid: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    failed: str | None = None

    @property
    def state(self) -> str:
        return "failed" if self.failed else "waiting"

    @property
    def summary(self) -> str:
        """One line a person recognises the write by (plain text: the view cleans it)."""
        p = self.payload
        if self.kind == "log_activity":
            text = (p.get("subject") or p.get("body") or "").strip().splitlines()
            about = p.get("about") or ""
            what = text[0] if text else "(no notes)"
            return f"{p.get('kind', 'activity')}: {what}" + (f" · {about}" if about else "")
        if self.kind == "edit_contact":
            names = ", ".join(p.get("fields") or ()) or "details"
            return f"{p.get('about') or 'contact'}: {names}"
        if self.kind == "complete_followup":
            verb = "done" if p.get("done", True) else "open again"
            return f"{p.get('about') or 'follow-up'}: {verb}"
        if self.kind == "reschedule_followup":
            due = p.get("due")
            day = due.date().isoformat() if isinstance(due, datetime) else str(due)
            return f"{p.get('about') or 'follow-up'}: due {day}"
        return self.kind


class Outbox:
    """The outbox file of one login on one database; safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()

    @classmethod
    def for_login(cls, login: str, database: str, directory: Path | None = None) -> Outbox:
        name = f"outbox-{_SAFE.sub('_', login)}@{_SAFE.sub('_', database)}.jsonl"
        return cls((directory or state_dir()) / name)

    @classmethod
    def for_connection(cls, dsn: str, schema: str, directory: Path | None = None) -> Outbox:
        """The outbox of whoever `dsn` logs in as, on its database and schema (known without
        reaching the server: an app started while it is down still finds what waits)."""
        import getpass
        import hashlib

        from psycopg2.extensions import parse_dsn

        params = parse_dsn(dsn)
        login = params.get("user") or os.environ.get("PGUSER") or getpass.getuser()
        where = f"{params.get('host') or 'local'}:{params.get('port') or 5432}"
        database = f"{params.get('dbname') or login}.{schema}"
        # The server in the name too: the same database name on two servers is two outboxes.
        digest = hashlib.sha256(where.encode()).hexdigest()[:8]
        return cls.for_login(login, f"{database}-{digest}", directory)

    # -- writing ------------------------------------------------------------------------------

    def _ensure_dir(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            _fsync_dir(directory.parent)
        os.chmod(directory, 0o700)

    def _write(self, event: Mapping[str, Any]) -> None:
        line = (dumps(event) + "\n").encode("utf-8")
        with self._lock:
            self._ensure_dir()
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)
                if not created and self._torn_tail(fd):
                    os.write(fd, b"\n")  # end a torn line so this event starts on its own
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.path.parent)

    def _torn_tail(self, fd: int) -> bool:
        size = os.fstat(fd).st_size
        if size == 0:
            return False
        with open(self.path, "rb") as f:
            f.seek(size - 1)
            return f.read(1) != b"\n"

    def add(self, kind: str, payload: Mapping[str, Any], uuid: str | None = None) -> Entry:
        """Store one write durably (fsynced) and return it; `uuid` is the write's client UUID."""
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        key = str(uuid_module.UUID(str(uuid))) if uuid else str(uuid_module.uuid4())
        created = datetime.now().astimezone()
        self._write({"op": "append", "uuid": key, "kind": kind, "payload": dict(payload),
                     "created_at": created})  # fmt: skip
        return Entry(key, kind, loads(dumps(dict(payload))), created)

    def done(self, uuid: str) -> None:
        self._finish(uuid, "done")

    def discard(self, uuid: str) -> None:
        self._finish(uuid, "discarded")

    def fail(self, uuid: str, reason: str) -> None:
        self._write({"op": "failed", "uuid": uuid, "reason": reason})

    def _finish(self, uuid: str, op: str) -> None:
        with self._lock:
            self._write({"op": op, "uuid": uuid})
            self.compact()

    def compact(self) -> bool:
        """Empty the file when nothing waits or failed (atomic rename); True when it did."""
        with self._lock:
            if not self.path.exists() or self.entries() or self.path.stat().st_size == 0:
                return False
            temp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
            _fsync_dir(self.path.parent)
            return True

    # -- reading ------------------------------------------------------------------------------

    def _events(self) -> Iterator[dict[str, Any]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                event = loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue  # a torn line (killed mid-write): never acknowledged, so never lost
            if isinstance(event, dict) and isinstance(event.get("uuid"), str):
                yield event

    def entries(self) -> list[Entry]:
        """What waits or failed, in the order it was written."""
        with self._lock:
            found: dict[str, Entry] = {}
            for event in self._events():
                key, op = event["uuid"], event.get("op")
                if op == "append" and key not in found and event.get("kind") in KINDS:
                    created = event.get("created_at")
                    if not isinstance(created, datetime):
                        created = datetime.now().astimezone()
                    found[key] = Entry(key, event["kind"], event.get("payload") or {}, created)
                elif op in ("done", "discarded"):
                    found.pop(key, None)
                    found[key] = None  # type: ignore[assignment]  # a later append is a replay
                elif op == "failed" and found.get(key) is not None:
                    entry = found[key]
                    found[key] = Entry(entry.uuid, entry.kind, entry.payload, entry.created_at,
                                       str(event.get("reason") or "not stored"))  # fmt: skip
            return [e for e in found.values() if e is not None]

    def waiting(self) -> list[Entry]:
        """The entries a replay sends: not failed, in order."""
        return [e for e in self.entries() if not e.failed]

    def count(self) -> int:
        return len(self.entries())


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Replay


def unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached (the write must wait): a lost or
    refused connection, a terminated backend, a statement timeout. Not a lock timeout (someone
    holds the record: the form says who) nor any refusal of the database."""
    from db.services.failures import explain

    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, SwitchboardError):
        return False
    return isinstance(explain(exc), DatabaseUnavailable)


def _tuples(rows: Any) -> tuple:
    return tuple(tuple(r) for r in rows or ())


def apply(entry: Entry) -> Any:
    """Send one entry through the service the form uses (idempotent by its UUID)."""
    from db.services import activities, contact_edit

    p = dict(entry.payload)
    if entry.kind == "log_activity":
        values = {k: p[k] for k in activities.LOG_FIELDS if k in p}
        return activities.log(**values, client_uuid=entry.uuid)
    if entry.kind == "complete_followup":
        return activities.complete(
            p["activity_id"], p["version"], p.get("done", True), client_uuid=entry.uuid
        )
    if entry.kind == "reschedule_followup":
        return activities.reschedule(
            p["activity_id"], p["version"], p["due"], client_uuid=entry.uuid
        )
    if entry.kind == "edit_contact":
        original = dict(p["original"])
        for key in ("phones", "emails"):
            original[key] = _tuples(original.get(key))
        form = dict(p["form"])
        return contact_edit.update(
            p["contact_id"], original, form, _tuples(p.get("phones")), _tuples(p.get("emails")),
            client_uuid=entry.uuid,
        )  # fmt: skip
    raise ValueError(f"unknown outbox kind {entry.kind!r}")


@dataclass
class ReplayResult:
    sent: list[Entry] = field(default_factory=list)
    failed: list[tuple[Entry, str]] = field(default_factory=list)
    conflicts: list[tuple[Entry, Conflict]] = field(default_factory=list)
    stopped: str | None = None  # the database went away again: the rest waits
    left: int = 0  # entries still in the outbox afterwards (waiting or failed)


_replaying = threading.Lock()


def replay(
    outbox: Outbox,
    send: Callable[[Entry], Any] = apply,
) -> ReplayResult:
    """Send what waits, oldest first; the caller holds a database connection context.

    Stored → a `done` tombstone. Unreachable database → stop, the rest waits for the next
    reconnect. A conflict on a contact edit → the entry is marked failed ("someone else
    changed …") and returned in `conflicts` with the person's values, for the conflict dialog.
    Any other refusal (validation, permission, gone) → marked failed with the reason, kept and
    shown, never silently dropped. One replay at a time per process.
    """
    result = ReplayResult()
    with _replaying:
        for entry in outbox.waiting():
            try:
                send(entry)
            except Exception as exc:
                if unavailable(exc):
                    result.stopped = str(exc) or type(exc).__name__
                    break
                if isinstance(exc, Conflict):
                    reason = f"conflict: {exc}"
                    result.conflicts.append((entry, exc))
                elif isinstance(exc, StaleRecord):
                    reason = f"conflict: {exc}"
                else:
                    from db.services.failures import explain

                    reason = (
                        str(explain(exc)) if not isinstance(exc, SwitchboardError) else str(exc)
                    )
                outbox.fail(entry.uuid, reason)
                result.failed.append((entry, reason))
                continue
            outbox.done(entry.uuid)
            result.sent.append(entry)
        result.left = outbox.count()
    return result
