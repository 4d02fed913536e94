"""Screens hand their failed workers to the app's one funnel (`SwitchboardApp.worker_failed`),
and a worker that was cancelled (the person moved on) has its running query cancelled too.

Textual posts `Worker.StateChanged` to the node that started the worker and it does not
bubble, so the App's handler only ever saw its own workers: a screen whose load failed stayed
on "loading …" with no word (issue 9 part 12). Every screen and widget that runs workers mixes
this in.

A cancelled thread worker keeps running in its thread until its statement returns: Textual
cannot stop a thread. `database.cancel_task` asks PostgreSQL to cancel that statement
(issue 11 part 5). Writes are never cancelled this way: a worker whose group names a write
(KEEP_WORDS) finishes, and its result is dropped if nobody waits for it.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from db.connection import database

KEEP_WORDS = ("save", "write", "change", "action", "purge", "restore", "delete")


def cancel_query(worker: Worker) -> bool:
    """Cancel the statement a cancelled read worker is still running (True if one was)."""
    if any(word in (worker.group or "") for word in KEEP_WORDS):
        return False
    return database.cancel_task(worker)


def cancel_abandoned() -> int:
    """Cancel the statements of cancelled read workers still holding a connection: a screen
    that was closed never hears its workers' StateChanged, so the app sweeps for them."""
    cancelled = 0
    for task in database.tasks():
        if isinstance(task, Worker) and task.is_cancelled and cancel_query(task):
            cancelled += 1
    return cancelled


class ForwardWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            funnel = getattr(self.app, "worker_failed", None)  # type: ignore[attr-defined]
            if funnel is not None:
                funnel(event.worker)
        elif event.state == WorkerState.CANCELLED:
            cancel_query(event.worker)
