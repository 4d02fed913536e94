"""Switchboard's colours: calm, high-contrast, and readable when a terminal has 16 colours.

With NO_COLOR set the app uses MONOCHROME, Textual's `ansi-dark` theme made usable without
colour: with NO_COLOR it emits no colour codes at all (STYLE.md traps), so every cursor and
focus that `ansi-dark` shows by colour (white on black) is shown by reverse video here, a
blurred cursor by underline; app.tcss adds focus marks for the compact form controls.
"""

from __future__ import annotations

import os

from textual.theme import BUILTIN_THEMES, Theme

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

_ANSI_DARK = BUILTIN_THEMES["ansi-dark"]
MONO = Theme(
    name="switchboard-mono",
    **{k: getattr(_ANSI_DARK, k) for k in (
        "primary", "secondary", "warning", "error", "success", "accent", "foreground",
        "background", "surface", "panel", "boost", "dark")},
    ansi=True,
    variables={
        **_ANSI_DARK.variables,
        "input-cursor-text-style": "reverse",
        "block-cursor-text-style": "bold underline",
        "block-cursor-blurred-text-style": "underline",
        "button-focus-text-style": "reverse bold",
    },
)  # fmt: skip
MONOCHROME = MONO.name


def theme_name() -> str:
    """The theme to start with: monochrome under NO_COLOR, else TEXTUAL_THEME or ours."""
    if os.environ.get("NO_COLOR"):
        return MONOCHROME
    return os.environ.get("TEXTUAL_THEME") or SWITCHBOARD.name
