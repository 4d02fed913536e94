"""The command palette (ctrl+p) finds records too: accounts, contacts, deals and cases whose
name matches what is typed (db/services/search.py), next to the screens and commands.

Textual runs a provider's `search` on the UI's event loop, so the database call goes to a
thread (`asyncio.to_thread`), and a `Searcher` cancels the query of the text it replaces.
Record names are hostile: they reach the palette only through tui/text.py."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import Hit, Hits, Provider

MIN_CHARS = 2
PER_KIND = 4
KIND_WORDS = {"account": "Account", "contact": "Contact", "deal": "Deal", "case": "Case"}


class RecordSearch(Provider):
    """Records by name, email or phone number."""

    async def startup(self) -> None:
        from db.services.search import Searcher

        self.searcher = Searcher()

    async def search(self, query: str) -> Hits:
        from tui.keys import keys_belong_to_form

        text = query.strip()
        if len(text) < MIN_CHARS or keys_belong_to_form(self.screen):
            return
        seq = self.searcher.next_seq()
        found = await asyncio.to_thread(self._lookup, seq, text)
        if found is None or not self.searcher.current(seq):
            return
        from tui.screens.search import open_hit
        from tui.text import clean, safe

        for rank, hit in enumerate(found):
            name = clean(hit.label, limit=50, single_line=True)
            detail = clean(hit.detail, limit=50, single_line=True)
            help_text = f"{KIND_WORDS[hit.kind]}" + (f" · {detail}" if detail else "")
            yield Hit(
                max(0.05, 0.99 - rank * 0.01 - hit.rank * 0.1),
                safe(f"{KIND_WORDS[hit.kind]}: {name}"),
                partial(open_hit, self.app, hit),
                text=f"{KIND_WORDS[hit.kind]}: {name}",
                help=help_text,
            )

    def _lookup(self, seq: int, text: str):
        from db.connection import database

        try:
            with database.connection_context():
                results = self.searcher.run(seq, text, limit_per_kind=PER_KIND)
        except Exception:  # noqa: BLE001 - offline or refused: the palette keeps its commands
            return None
        return None if results is None else results.hits
