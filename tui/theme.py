"""Switchboard's colours: calm, high-contrast, and readable when a terminal has 16 colours.

With NO_COLOR set the app uses Textual's `ansi-dark` theme instead, which with NO_COLOR emits
no colour codes at all (bold, reverse and dim only): true monochrome (STYLE.md traps).
"""

from __future__ import annotations

import os

from textual.theme import Theme

SWITCHBOARD = Theme(
    name="switchboard",
    primary="#2F80C8",
    secondary="#3A6F8F",
    accent="#E0A030",
    warning="#E0A030",
    error="#D9534F",
    success="#4CAF50",
    foreground="#E4E7EB",
    background="#15191E",
    surface="#1D232A",
    panel="#242C35",
    dark=True,
)

MONOCHROME = "ansi-dark"


def theme_name() -> str:
    """The theme to start with: monochrome under NO_COLOR, else TEXTUAL_THEME or ours."""
    if os.environ.get("NO_COLOR"):
        return MONOCHROME
    return os.environ.get("TEXTUAL_THEME") or SWITCHBOARD.name
