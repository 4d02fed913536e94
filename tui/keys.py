"""Keys in order: each key is handled to the end before the next one is routed.

Why: Textual's App routes every key the moment it takes it from its queue, to the widget that
has focus *then* (`App.on_event` → `focused._forward_event`). A burst (a paste, SSH, a fast
typist) is taken from the queue at once, so every key of it is queued on the same widget before
the first has been handled: a Tab inside the burst moves focus only after the characters that
follow it went to the old field ("Name Tab Industry" became the name "NameIndustry"). Focus
also moves in reply to messages (a Select's pick, a form's "kind chosen"), one or two queue hops
after the key.

So the App holds keys that arrive while one is still being handled and lets the next one go
only when the app is quiet: every message pump of the app and of the active screen has handled
all it was given (the same test Textual's Pilot uses between two `press`es), and the active
screen does not ask to hold keys (a form that is still loading: `holds_keys`). A key thus goes
where it would have gone had it been typed slowly. Nothing waits on the clock except a safety
valve: a key is never held longer than `MAX_HOLD` seconds.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen

MAX_HOLD = 2.0  # seconds: a busy or stuck screen never swallows keys for good
_RELEASED = "_switchboard_released"


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
        self._held_keys: deque[events.Key] = deque()
        self._key_in_flight = False
        self._flight = 0  # which key is in flight (a counter)

    @property
    def keys_pending(self) -> bool:
        """True while a key is being handled or waiting its turn (tests wait on this)."""
        return self._key_in_flight or bool(self._held_keys)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if getattr(event, _RELEASED, False):
                setattr(event, _RELEASED, False)
                await super().on_event(event)
                self._watch_for_quiet()
                return
            self._held_keys.append(event)
            if not self._key_in_flight:
                self._release_next()
            return
        await super().on_event(event)

    def _release_next(self) -> None:
        """Route the next held key (posting it back to the app, so it is handled in turn)."""
        if not self._held_keys:
            self._key_in_flight = False
            return
        event = self._held_keys.popleft()
        setattr(event, _RELEASED, True)
        self._key_in_flight = True
        self._flight = flight = self._flight + 1
        asyncio.get_running_loop().call_later(MAX_HOLD, self._let_go, flight)
        if not self.post_message(event):  # closing: nothing will handle keys any more
            self._held_keys.clear()
            self._key_in_flight = False

    def _let_go(self, flight: int) -> None:
        """The safety valve: a key whose handling never ends (a pump closed under it, a
        screen that never gets ready) stops holding the others after MAX_HOLD."""
        if self._key_in_flight and flight == self._flight and self.is_running:
            self._key_in_flight = False
            self._release_next()

    def _pumps(self) -> list[MessagePump]:
        try:
            return [self, *self.screen.walk_children(with_self=True)]
        except Exception:  # no screen (starting or stopping)
            return [self]

    def _watch_for_quiet(self) -> None:
        """Start a round: every pump gets a marker behind what it holds now. When all markers
        have run and no queue has anything new, the key and what it set off are handled."""
        flight = self._flight
        pumps = self._pumps()
        waiting = 0

        def marker_ran() -> None:
            nonlocal waiting
            waiting -= 1
            if waiting == 0:
                asyncio.get_running_loop().call_soon(self._round_done, flight)

        for pump in pumps:
            if pump.call_later(marker_ran):
                waiting += 1
        if waiting == 0:
            self._round_done(flight)

    def _round_done(self, flight: int) -> None:
        if not self._key_in_flight or flight != self._flight or not self.is_running:
            return  # this key was already let go (by the safety valve)
        if any(pump._message_queue.qsize() for pump in self._pumps()):
            self._watch_for_quiet()  # new messages came up meanwhile: another round
        elif screen_holds_keys(self.screen):
            asyncio.get_running_loop().call_later(0.005, self._round_done, flight)
        else:
            self._key_in_flight = False
            self._release_next()
