"""Keys delivered the way a terminal delivers a burst: all posted at once, before any is handled.

`Pilot.press` waits for the app to go idle after every key, so it never shows what a paste, a
fast typist or an SSH link does; `burst` posts every key event to the app in one go, as the
driver's input thread does, and then waits until they have all been handled.
"""

from __future__ import annotations

import unicodedata

from textual import events
from textual.keys import _character_to_key, _get_unicode_name_from_key

CHARACTERS = {"tab": "\t", "enter": "\r", "escape": "\x1b", "space": " "}


def key_event(key: str) -> events.Key:
    if len(key) == 1:  # a character: its key name ("@" is "at") and itself
        return events.Key(key if key.isalnum() else _character_to_key(key), key)
    if key in CHARACTERS:
        return events.Key(key, CHARACTERS[key])
    if key.startswith("ctrl+") and len(key) == 6:
        return events.Key(key, chr(ord(key[-1]) - 96))
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(key))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def burst(app, pilot, *keys: str) -> None:
    """Post `keys` to `app` in one go, then wait until the app has handled them."""
    for key in keys:
        app.post_message(key_event(key))
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()
