"""The keys that mean the same on every screen (docs/keymap.md), shown at the end of help.

Digits are screens, everywhere; what acts on the selected record is a letter. Inside a form
or a dialog every printable key is the form's (tui/keys.py), so there only the control keys
below work.
"""

from __future__ import annotations

EVERYWHERE: tuple[tuple[str, str], ...] = (
    ("1", "Accounts (the tree)"),
    ("3", "My day (follow-ups due)"),
    ("4", "Pipeline board (deals by stage)"),
    ("5", "Call console (caller lookup, outcomes, callbacks)"),
    ("6", "Cases (mine, the team queue)"),
    ("7", "Forecast (by month or quarter, per team)"),
    ("8", "KPIs (each figure opens its records)"),
    ("9", "Trash"),
    ("0", "Admin (admins only)"),
    ("/", "Search any record (Accounts: filter the tree)"),
    ("?", "Help: every key of this screen"),
    ("^p", "Command palette (screens, records by name)"),
    ("^o", "Outbox: writes waiting to be sent"),
    ("esc", "Back, or cancel a form (asks first if changed)"),
    ("^q", "Quit"),
)
RECORD_KEYS: tuple[tuple[str, str], ...] = (
    ("n", "New record"),
    ("e", "Edit the selected record"),
    ("d", "Delete (to the trash)"),
    ("l", "Log a call, email, meeting or note"),
    ("t", "Timeline of the selected record"),
    ("h", "History: who changed what"),
    ("[ ]", "Previous / next record"),
)
IN_FORMS: tuple[tuple[str, str], ...] = (
    ("tab ⇧tab", "Next / previous field (round the form)"),
    ("enter", "Save (in a one-line field); open a picker"),
    ("^s", "Save"),
    ("esc", "Cancel (asks first if changed)"),
)
