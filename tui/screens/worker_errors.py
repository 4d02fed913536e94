"""Screens hand their failed workers to the app's one funnel (`SwitchboardApp.worker_failed`).

Textual posts `Worker.StateChanged` to the node that started the worker and it does not
bubble, so the App's handler only ever saw its own workers: a screen whose load failed stayed
on "loading …" with no word (issue 9 part 12). Every screen that runs workers mixes this in.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState


class ForwardWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            funnel = getattr(self.app, "worker_failed", None)  # type: ignore[attr-defined]
            if funnel is not None:
                funnel(event.worker)
