"""Hostile record values (DESIGN.md section 5): every screen must show them literally."""

from __future__ import annotations

MARKUP_CLOSE = "Smith [/]"
MARKUP_STYLE = "[bold red]Boldly[/]"
MARKUP_ACTION = "[@click=app.quit]Click me[/]"
OSC_TITLE = "A\x1b]2;PWNED\x1b\\B"
CLEAR_SCREEN = "Clear\x1b[2Jme"
BIDI = "Invoice \u202egnp.exe"
C1 = "C1\x9bcontrol"
LONG = "Ö" * 100  # the longest contact name migration 0011 allows (account names: 200)
EMOJI = "Zoë 🦄👩‍👩‍👧"
SWEDISH = "Åsa Öberg-Lindström"
CJK = "山田 太郎"

ALL = [
    MARKUP_CLOSE, MARKUP_STYLE, MARKUP_ACTION, OSC_TITLE, CLEAR_SCREEN, BIDI, C1, LONG, EMOJI,
    SWEDISH, CJK,
]  # fmt: skip
