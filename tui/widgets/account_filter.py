"""The account tree's name filter: applies a quarter second after typing stops, or on enter."""

from __future__ import annotations

from textual import on
from textual.message import Message
from textual.widgets import Input

SETTLE = 0.25  # seconds after the last key before the filter applies by itself


class AccountFilter(Input):
    DEFAULT_CSS = "AccountFilter { height: 1; border: none; padding: 0 1; }"

    class Applied(Message):
        """Filter by `text` (stripped; empty: no filter). `done`: enter ended the typing."""

        def __init__(self, text: str, done: bool) -> None:
            super().__init__()
            self.text = text
            self.done = done

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_timer(SETTLE, lambda value=event.value: self._settled(value))

    def _settled(self, value: str) -> None:
        if value == self.value:
            self.post_message(self.Applied(value.strip(), done=False))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(event.value.strip(), done=True))
