"""The open deals of an account or of a contact (`o` on the account tree and the contact
detail): enter opens the deal's form, `n` makes a new deal for the account."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from db.connection import database
from db.services import accounts, contacts
from db.services.accounts import OpportunityRow
from tui.screens.activity_prompts import _PROMPT_CSS
from tui.screens.worker_errors import ForwardWorkerErrors
from tui.text import safe
from tui.widgets.record_lines import deal_line

LIMIT = 50


class DealsLoaded(Message):
    def __init__(self, deals: list[OpportunityRow]) -> None:
        super().__init__()
        self.deals = deals


class DealListModal(ForwardWorkerErrors, ModalScreen[Any]):
    DEFAULT_CSS = (
        _PROMPT_CSS.format(name="DealListModal")
        + """
    DealListModal > Vertical { width: 76; }
    DealListModal OptionList { height: auto; max-height: 14; }
    """
    )
    BINDINGS = [
        Binding("escape", "close", "Back", tooltip="Close the list", id="deals-close"),
        Binding("n", "new", "New deal", tooltip="A new deal for this account", id="deals-new"),
    ]

    def __init__(self, title: str, account_id: int | None, contact_id: int | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.account_id = account_id
        self.contact_id = contact_id
        self.deals: list[OpportunityRow] = []
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe(self.title_text, single_line=True), id="deals-title")
            yield OptionList(id="deal-options")
            yield Static("↑↓ choose · enter open · n new deal · esc back", classes="prompt-hint")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="deal-list")
    def load(self) -> None:
        with database.connection_context():
            if self.contact_id is not None:
                found = contacts.open_opportunities(self.contact_id, limit=LIMIT)
            elif self.account_id is not None:
                found = accounts.open_opportunities(self.account_id, limit=LIMIT)
            else:
                found = []
        self.post_message(DealsLoaded(found))

    def on_deals_loaded(self, message: DealsLoaded) -> None:
        self.deals = message.deals
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(deal_line(d), id=str(d.id)) for d in self.deals])
        if not self.deals:
            options.add_option(Option("no open deals: n makes one", disabled=True))
        else:
            options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._open(int(event.option.id))

    def _open(self, deal_id: int | None) -> None:
        from tui.screens.deal_form import DealFormScreen

        def done(result: Any) -> None:
            if result is not None:
                self.changed = True
                self.load()

        screen = DealFormScreen(deal_id, account_id=self.account_id, contact_id=self.contact_id)
        self.app.push_screen(screen, done)

    def action_new(self) -> None:
        if self.account_id is not None:
            self._open(None)
        else:
            self.notify("This contact has no account: a deal needs one.", markup=False)

    def action_close(self) -> None:
        self.dismiss(self.changed or None)
