"""The contacts of the account in the panel: a bounded, paged option list.

It always belongs to one account (`account_id`) or to none, so a key acting on the highlighted
contact can never reach another account's person. Job titles get the width they need, within
what the list has: the name takes 22 cells, the phone or email what the longest one needs.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import on, work
from textual.events import Resize
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from db.connection import database
from db.services import accounts
from db.services.accounts import ContactPage, ContactRow
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import clean, safe
from tui.widgets.record_lines import contact_line

CONTACTS_PAGE = 50
NAME = 22
MIN_TITLE, MAX_TITLE, MAX_REACH = 14, 40, 32


class AccountContacts(ForwardWorkerErrors, OptionList):
    DEFAULT_CSS = """
    AccountContacts { height: auto; max-height: 8; border: none; padding: 0; }
    """

    class Chosen(Message):
        """Enter on a contact: open it, with the list to walk with [ and ]."""

        def __init__(self, contact_id: int, contact_ids: list[int]) -> None:
            super().__init__()
            self.contact_id = contact_id
            self.contact_ids = contact_ids

    class PageLoaded(Message):
        def __init__(self, account_id: int, page: ContactPage) -> None:
            super().__init__()
            self.account_id = account_id
            self.page = page

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's own name)
        super().__init__(id=id)
        self.account_id: int | None = None
        self.contacts: list[ContactRow] = []
        self.after: tuple[str, str, int] | None = None
        self.empty = "no contacts"
        self._width = 0
        self._told: int | None = None  # the account whose empty list was announced

    def show(self, account_id: int | None, page: ContactPage | None, empty: str = "") -> None:
        """The first page of `account_id`'s contacts, or (None) an empty list saying `empty`."""
        self.account_id = account_id
        self.contacts = list(page.contacts) if page else []
        self.after = page.next_after if page else None
        self.empty = empty or "no contacts"
        self._draw(keep=False)
        if self.has_focus:
            self.enter()

    def on_focus(self) -> None:
        self.enter()

    def enter(self) -> None:
        """With focus, the cursor is always on a contact (or the list says there is none, once
        per account). Called at once by the key that focuses the list, so an enter typed right
        after it finds the contact highlighted."""
        if self.highlighted is not None or self.highlight_first() or not self.account_id:
            return
        if self._told != self.account_id:
            self._told = self.account_id
            self.notify("No contacts here yet: n adds one.", markup=False)

    def contact_id(self) -> int | None:
        """The highlighted contact, or None."""
        if self.highlighted is None or self.highlighted >= len(self.contacts):
            return None
        return self.contacts[self.highlighted].id

    def highlight_first(self) -> bool:
        """Put the cursor on the first contact; False when there is none."""
        if not self.contacts:
            return False
        self.highlighted = 0
        return True

    def _title_width(self) -> int:
        """As wide as the longest title, within the room the name and phone leave."""
        reach = max((cell_len(clean(c.phone or c.email or "")) for c in self.contacts), default=0)
        room = self.scrollable_content_region.width - NAME - 2 - min(reach, MAX_REACH)
        longest = max((cell_len(clean(c.job_title or "")) for c in self.contacts), default=0)
        return max(MIN_TITLE, min(MAX_TITLE, room, longest))

    def _draw(self, keep: bool = True) -> None:
        highlighted = self.highlighted if keep else None
        width = self._title_width()
        options = [Option(contact_line(c, width), id=f"c{c.id}") for c in self.contacts]
        if self.after is not None:
            options.append(Option(safe("…more contacts"), id="more"))
        if not self.contacts:
            options.append(Option(safe(self.empty), id="none", disabled=True))
        self.clear_options()
        self.add_options(options)
        if highlighted is not None and highlighted < self.option_count:
            self.highlighted = highlighted
        self._width = self.scrollable_content_region.width

    def on_resize(self, _event: Resize) -> None:
        if self.scrollable_content_region.width != self._width:
            self._draw()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id == "more" and self.account_id is not None and self.after is not None:
            self.load_more(self.account_id, self.after)
        elif option_id.startswith("c"):
            self.post_message(self.Chosen(int(option_id[1:]), [c.id for c in self.contacts]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="panel-contacts")
    def load_more(self, account_id: int, after: tuple[str, str, int]) -> None:
        with database.connection_context():
            page = accounts.contacts_page(account_id, after=after, limit=CONTACTS_PAGE)
        self.post_message(self.PageLoaded(account_id, page))

    def on_account_contacts_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.account_id == self.account_id:
            self.contacts += message.page.contacts
            self.after = message.page.next_after
            self._draw()
