"""Keys in order: each key is handled to the end before the next one is routed.

Why: Textual's App routes every key the moment it takes it from its queue, to the widget that
has focus *then* (`App.on_event` → `focused._forward_event`). A burst (a paste, SSH, a fast
typist) is taken from the queue at once, so every key of it is queued on the same widget before
the first has been handled: a Tab inside the burst moves focus only after the characters that
follow it went to the old field ("Name Tab Industry" became the name "NameIndustry"). Focus
also moves in reply to messages (a Select's pick, a form's "kind chosen"), one or two queue hops
after the key.

So the App holds keys that arrive while one is still being handled and lets the next one go
only when the app is quiet: no message pump of the app or of the active screen has a message
queued other than a repaint or a tick (waiting for repaints too made a burst crawl at 50-100
ms a key on a busy machine), for two turns of the event loop, and the active screen does not
ask to hold keys (a form that is still loading: `holds_keys`). A key thus goes where it would
have gone had it been typed slowly. Nothing waits on the clock except a safety valve: a key
is never held longer than `MAX_HOLD` seconds.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from textual import events, messages
from textual.app import App
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea

MAX_HOLD = 2.0  # seconds: a busy or stuck screen never swallows keys for good
QUIET_TURNS = 2
# Messages that only repaint or tick: a key need not wait for them.
_IDLE_KINDS = (messages.Prompt, messages.Update, messages.Layout, events.Timer, events.Idle)
_RELEASED = "_switchboard_released"


def _pending(pump: MessagePump) -> bool:
    """True when `pump` has a message queued that is more than a repaint or a tick."""
    return any(not isinstance(m, _IDLE_KINDS) for m in pump._message_queue.values)


def screen_holds_keys(screen: Screen[Any]) -> bool:
    """A screen that is not ready for keys yet (a form still loading) says so."""
    return bool(getattr(screen, "holds_keys", False))


def keys_belong_to_form(screen: Screen[Any]) -> bool:
    """Inside a form or a dialog, printable keys are the form's: no screen switching."""
    return isinstance(screen, ModalScreen) or bool(getattr(screen, "IS_FORM", False))


class OrderedKeysApp(App[Any]):
    """An App that routes keys one at a time, in order (Switchboard's App derives from it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_keys: deque[events.Key | events.Paste] = deque()
        self._key_in_flight = False
        self._flight = 0  # which key is in flight (a counter)
        self._holding_since: float | None = None
        self._text_unsettled = False  # text was sent that may not have been handled yet

    @property
    def keys_pending(self) -> bool:
        """True while a key is being handled or waiting its turn (tests wait on this)."""
        return self._key_in_flight or bool(self._held_keys)

    async def on_event(self, event: events.Event) -> None:
        # A paste keeps its place among the keys too (it is text for the focused field).
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if getattr(event, _RELEASED, False):
                setattr(event, _RELEASED, False)
                await super().on_event(event)
                if self._key_in_flight:
                    self._watch_for_quiet()
                return
            self._held_keys.append(event)
            if not self._key_in_flight:
                self._release_next()
            return
        await super().on_event(event)

    def _release_next(self) -> None:
        """Route the next held key (posting it back to the app, so it is handled in turn).

        A character typed into a text field moves nothing: it and the characters after it go
        at once, at full speed; the first other key (tab, enter, a letter on a list) waits
        until they and it have been handled."""
        while self._held_keys:
            event = self._held_keys[0]
            text = isinstance(event, events.Paste) or event.is_printable
            typed = text and isinstance(self.focused, (Input, TextArea))
            if self._text_unsettled and not typed:  # first let the text sent be handled
                self._key_in_flight = True
                self._flight = flight = self._flight + 1
                asyncio.get_running_loop().call_later(MAX_HOLD, self._let_go, flight)
                self._watch_for_quiet()
                return
            if self._screen_waits(typed):
                self._key_in_flight = True  # the next key waits for the screen
                self._flight = flight = self._flight + 1
                asyncio.get_running_loop().call_later(0.005, self._screen_ready, flight)
                return
            self._held_keys.popleft()
            setattr(event, _RELEASED, True)
            if not typed:
                self._key_in_flight = True
                self._flight = flight = self._flight + 1
                asyncio.get_running_loop().call_later(MAX_HOLD, self._let_go, flight)
            if not self.post_message(event):  # closing: nothing will handle keys any more
                self._held_keys.clear()
                self._key_in_flight = False
                return
            if not typed:
                return
            self._text_unsettled = True
        self._key_in_flight = False

    def _screen_ready(self, flight: int) -> None:
        if self._key_in_flight and flight == self._flight and self.is_running:
            self._release_next()

    def _screen_waits(self, typed: bool) -> bool:
        """True while the active screen asks to hold keys, or keys other than text (`typed`),
        say while a search runs whose results the keys will move in (not over MAX_HOLD)."""
        try:
            holds = screen_holds_keys(self.screen) or (
                not typed and bool(getattr(self.screen, "holds_moves", False))
            )
        except Exception:  # no screen yet
            return False
        if not holds:
            self._holding_since = None
            return False
        if self._holding_since is None:
            self._holding_since = asyncio.get_running_loop().time()
        return asyncio.get_running_loop().time() - self._holding_since < MAX_HOLD

    def _let_go(self, flight: int) -> None:
        """The safety valve: a key whose handling never ends (a pump closed under it, a
        screen that never gets ready) stops holding the others after MAX_HOLD."""
        if self._key_in_flight and flight == self._flight and self.is_running:
            self._key_in_flight = self._text_unsettled = False
            self._release_next()

    def _pumps(self) -> list[MessagePump]:
        try:
            return [self, *self.screen.walk_children(with_self=True)]
        except Exception:  # no screen (starting or stopping)
            return [self]

    def _watch_for_quiet(self) -> None:
        asyncio.get_running_loop().call_soon(self._check_quiet, self._flight, 0)

    def _check_quiet(self, flight: int, quiet_turns: int) -> None:
        """(a loop callback, outside every pump) Let the next key go once the key in flight
        and every message it set off have been handled: no queue of the app or the active
        screen holds a message that matters, for QUIET_TURNS turns of the event loop in a
        row (a handler that awaits leaves its queue empty for a turn)."""
        if not self._key_in_flight or flight != self._flight or not self.is_running:
            return  # this key was already let go (by the safety valve)
        loop = asyncio.get_running_loop()
        if any(_pending(pump) for pump in self._pumps()):
            loop.call_soon(self._check_quiet, flight, 0)
        elif quiet_turns + 1 < QUIET_TURNS:
            loop.call_soon(self._check_quiet, flight, quiet_turns + 1)
        else:
            self._key_in_flight = self._text_unsettled = False
            self._release_next()
