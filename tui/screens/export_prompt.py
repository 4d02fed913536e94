"""ctrl+e on a view: ask where to write the CSV (a name in the current directory by default),
write it in a worker, say where it went (db/exports.py neutralises formulas)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from db import exports
from db.connection import database
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import clean, safe


class ExportFailed(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ExportPrompt(ForwardWorkerErrors, ModalScreen[str | None]):
    """Enter writes the file (replacing one of that name), escape cancels. `rows` is called in
    the worker: it may read the database page by page."""

    DEFAULT_CSS = """
    ExportPrompt { align: center middle; }
    ExportPrompt > Vertical { width: 70; height: auto; border: round $primary;
        background: $surface; padding: 0 1; }
    ExportPrompt #export-error { color: $text-error; }
    ExportPrompt .prompt-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Do not export", id="export-cancel"),
    ]

    def __init__(self, default: str, header: Sequence[str],
                 rows: Callable[[], Iterable[Sequence[object]]]) -> None:  # fmt: skip
        super().__init__()
        self.default = str(Path.cwd() / default)
        self.header = header
        self.rows = rows
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Export to CSV: file")
            yield Input(self.default, id="export-path", compact=True)
            yield Static("", id="export-error")
            yield Static("enter write · esc cancel", classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            self.query_one("#export-error", Static).update("File: type a file name")
            return
        if self.busy:
            return
        self.busy = True
        self.query_one("#export-error", Static).update("Writing…")
        self.write(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def write(self, path: str) -> None:
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / Path(self.default).name
        try:
            with database.connection_context():
                n = exports.write_file(target, self.header, self.rows())
        except OSError as exc:
            self.post_message(ExportFailed(f"File: {exc.strerror or exc}"))
            return
        text = f"Wrote {n} rows to {target.resolve()}"
        self.app.call_from_thread(self.app.notify, clean(text, single_line=True), markup=False,
                                  timeout=8)  # fmt: skip
        self.app.call_from_thread(self.dismiss, str(target.resolve()))

    def on_export_failed(self, message: ExportFailed) -> None:
        self.busy = False
        self.query_one("#export-error", Static).update(safe(message.text, single_line=True))

    def action_cancel(self) -> None:
        self.dismiss(None)
