"""Call console (key 5): a number in (typed, popped by telephony, or the next callback), the
caller card out, the call logged with its outcome in one key after Esc.

States: idle (the Number field has the cursor) → on a call (the timer runs; the Number field
is locked) → wrap-up ends when an outcome key logs the call. Until then no new number, pop or
callback takes over: popped numbers wait in line and open after the wrap-up.
Keys while on a call (outside the Notes field; Esc leaves it): r reached, v voicemail,
a no answer, w wrong number, c callback requested (asks when and who), k open a case,
o in/out, n new contact (unknown number). Idle: b takes the next due callback, d goes back to
the Number field. docs/console.md has the decisions.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from db import phones
from db.connection import database
from db.errors import SwitchboardError, ValidationError
from db.services import activities, callbacks, callers, cases
from db.services.callbacks import Callback
from db.services.callers import CallerCard, CallerMatch
from tui.screens.base import BaseScreen
from tui.text import cells, clean, cut, safe

HINT = "esc, then r reached · v voicemail · a no answer · w wrong · c callback · k case"
DNC_HINT = "DO NOT CALL · esc, then r v a w c logs the call · o in/out · k case"
OUTCOMES = {
    "r": ("reached", "reached"), "v": ("voicemail", "voicemail"),
    "a": ("no_answer", "no answer"), "w": ("wrong_number", "wrong number"),
    "c": ("callback", "callback"),
}  # fmt: skip
STATUS_WORDS = cases.STATUS_WORDS


class CallerLoaded(Message):
    def __init__(self, call: int, result: Any, error: str = "", note: str = "",
                 refresh: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.call = call
        self.result = result
        self.error = error
        self.note = note  # said in the status line instead of the keys' hint
        # A re-read after a change notice: the card is drawn again, the status line ("Logged:
        # reached") and the focus (the agent typing the next number) stay where they are.
        self.refresh = refresh


class CallLogged(Message):
    def __init__(self, call: int, outcome: str, activity_id: int | None, error: str = "",
                 note: str = "") -> None:  # fmt: skip
        super().__init__()
        self.call = call
        self.outcome = outcome
        self.activity_id = activity_id
        self.error = error
        self.note = note


class CallbackTaken(Message):
    def __init__(self, callback: Callback | None, card: CallerCard | None, error: str = "") -> None:
        super().__init__()
        self.callback = callback
        self.card = card
        self.error = error


class QueueCounted(Message):
    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count


class CardView(Static, can_focus=True):
    """The caller card: focusable, so that Esc from the Notes field lands here and the
    outcome letters are keys, not text."""


def when(value: Any) -> str:
    if value is None:
        return ""
    local = value.astimezone()
    today = activities.local_day(local)
    from datetime import date

    days = (date.today() - today).days
    if days == 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if 0 < days < 7:
        return f"{local:%a}"
    return f"{local:%d %b}"


def card_content(card: CallerCard, width: int = 78) -> Content:
    """The card as literal text (every value cleaned): flags in words, then the story."""
    c = lambda v, n=60: clean(v, limit=n, single_line=True)  # noqa: E731
    head = " · ".join(x for x in (c(card.name), c(card.title, 30), c(card.account_name, 40)) if x)
    head = cut(head, max(width - 4, 10))  # cells, not characters: CJK names take two each
    rule = "─" * max(0, width - cells(head) - 3)
    parts: list[str | tuple[str, str]] = [(f"─ {head} ", "bold"), rule, "\n"]
    flags = []
    if card.do_not_call:
        flags.append("DO NOT CALL")
    if card.do_not_email:
        flags.append("DO NOT EMAIL")
    for flag in flags:
        parts += [(flag, "reverse bold"), "  "]
    facts = []
    if card.owner:
        facts.append(f"owner {c(card.owner, 30)}")
    if card.phones:
        kind, number = card.phones[0]
        facts.append(f"{kind} {phones.display(c(number, 30))}")
    parts += [" · ".join(facts) or "—", "\n"]
    if card.cases:
        lines = [f"#{k.id} {c(k.subject, 30)} ({STATUS_WORDS.get(k.status, k.status)}, "
                 f"{k.priority}, SLA {cases.time_left(k.due_at)})"
                 for k in card.cases[:2]]  # fmt: skip
        more = f" +{len(card.cases) - 2} more" if len(card.cases) > 2 else ""
        parts += ["Open cases  ", ("\n            ".join(lines) + more), "\n"]
    else:
        parts += ["Open cases  none\n"]
    if card.deals is None:
        parts += ["Open deals  —\n"]
    elif card.deals:
        deals = [f"{c(d.name, 30)} · {c(d.stage, 20)} · {d.amount:,.0f} {c(d.currency, 3)}"
                 for d in card.deals[:2]]  # fmt: skip
        parts += ["Open deals  " + "; ".join(deals) + "\n"]
    else:
        parts += ["Open deals  none\n"]
    if card.recent:
        lines = []
        for r in card.recent[:3]:
            what = " ".join(x for x in (r.kind, r.direction or "", c(r.author, 20),
                                        (r.outcome or "").replace("_", " ")) if x)  # fmt: skip
            lines.append(f"{when(r.occurred_at)} {what}  {c(r.subject, 40)}")
        parts += ["Last        ", "\n            ".join(lines), "\n"]
    else:
        parts += ["Last        nothing yet\n"]
    if card.related:
        rel = "; ".join(f"{c(r.label, 20)} {c(r.name, 30)}" for r in card.related[:3])
        parts += ["Related     " + rel]
    else:
        parts += ["Related     —"]
    return Content.assemble(*parts)


class ConsoleScreen(BaseScreen):
    DEFAULT_CSS = """
    ConsoleScreen #console-title { height: 1; padding: 0 1; background: $boost; }
    ConsoleScreen #number-row { height: 1; padding: 0 1; }
    ConsoleScreen Input, ConsoleScreen Input:focus { height: 1; border: none; padding: 0; }
    ConsoleScreen #card { height: 1fr; padding: 0 1; }
    ConsoleScreen #matches { height: 1fr; border: none; }
    ConsoleScreen #log-rule { height: 1; padding: 0 1; color: $text-muted; }
    ConsoleScreen #notes-row { height: 1; padding: 0 1; }
    ConsoleScreen #console-status { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "leave_field", "Leave field", tooltip="Leave the Number/Notes field: "
                "then one key logs the outcome", id="console-leave", show=False),
        Binding("r", "outcome('r')", "reached", tooltip="Log: reached", id="console-reached"),
        Binding("v", "outcome('v')", "voicemail", tooltip="Log: voicemail", id="console-voicemail"),
        Binding("a", "outcome('a')", "no answer", tooltip="Log: no answer", id="console-no-answer"),
        Binding("w", "outcome('w')", "wrong", tooltip="Log: wrong number", id="console-wrong"),
        Binding("c", "outcome('c')", "callback", tooltip="Log: callback requested; book it",
                id="console-callback"),
        Binding("k", "case", "case", tooltip="Open a case for this caller", id="console-case"),
        Binding("o", "direction", "in/out", tooltip="The call is inbound / outbound",
                id="console-direction"),
        Binding("n", "new_contact", "new contact", tooltip="Create a contact with this number",
                id="console-new-contact"),
        Binding("b", "next_callback", "next callback", tooltip="Take the next due callback",
                id="console-next-callback"),
        Binding("d", "dial", "number", tooltip="Back to the Number field", id="console-dial"),
        Binding("tab", "notes", "notes", tooltip="Write notes", id="console-notes", show=False),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.call = 0  # increases with every call: late answers of an old call are dropped
        self.number: str | None = None
        self.started: float | None = None  # monotonic; None: not on a call
        self.direction = "in"
        self.card: CallerCard | None = None
        self.matches: list[CallerMatch] = []
        self.unknown = False
        self.callback_id: int | None = None
        self.client_uuid: str | None = None
        self.waiting: list[str] = []  # popped numbers waiting for the wrap-up
        self.queue = 0

    def compose_body(self) -> ComposeResult:
        yield Static("", id="console-title")
        with _Row(id="number-row"):
            yield Static("Number: ", classes="label")
            yield Input(placeholder="as dialled: +46 70 123 45 67, 070-123 45 67, last 7 digits",
                        id="number")  # fmt: skip
        yield CardView("Type a number and press enter. b takes the next due callback.", id="card")
        yield OptionList(id="matches")
        yield Static("─ Log this call " + "─" * 62, id="log-rule")
        with _Row(id="notes-row"):
            yield Static("Notes: ", classes="label")
            yield Input(placeholder="what was said (esc, then an outcome key)", id="notes")
        yield Static("", id="console-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#matches", OptionList).display = False
        self.query_one("#number", Input).focus()
        self.set_interval(1, self._paint_title)
        self.set_interval(30, self.count_queue)
        self._paint_title()
        self.count_queue()
        self.take_pending_pops()

    def on_screen_resume(self) -> None:
        self.take_pending_pops()

    def take_pending_pops(self) -> None:
        """Numbers popped by telephony (app.pending_pops) start calls here, in order."""
        pending = getattr(self.app, "pending_pops", None)
        while pending:
            self.open_number(pending.pop(0), direction="in")

    # -- the header line ----------------------------------------------------------------------

    @property
    def on_call(self) -> bool:
        return self.started is not None

    def _paint_title(self) -> None:
        left = f"Call console · queue: {self.queue} due"
        if self.on_call:
            seconds = int(time.monotonic() - (self.started or 0))
            right = f"{self.direction} ☎ {seconds // 60:02d}:{seconds % 60:02d} on call"
        else:
            right = "no call"
        gap = max(1, (self.size.width or 80) - 2 - len(left) - len(right))
        self.query_one("#console-title", Static).update(Content(left + " " * gap + right))

    def status(self, text: str) -> None:
        self.query_one("#console-status", Static).update(safe(text, single_line=True))

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-queue")
    def count_queue(self) -> None:
        with database.connection_context():
            n = callbacks.due_count()
        self.post_message(QueueCounted(n))

    def on_queue_counted(self, message: QueueCounted) -> None:
        self.queue = message.count
        self._paint_title()

    # -- starting a call ----------------------------------------------------------------------

    @on(Input.Submitted, "#number")
    def number_entered(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if not typed:
            return
        try:
            callers.keys(typed)  # no database: a mistyped number never starts a call to wrap up
        except ValidationError as exc:
            self.status(f"{exc} (fix it and press enter)")
            return
        self.open_number(typed, direction="in")

    def open_number(self, number: str, direction: str = "in") -> bool:
        """Start a call with `number` (typed, or popped by telephony). During another call's
        wrap-up the number waits in line and False is returned."""
        if self.on_call:
            if number not in self.waiting:
                self.waiting.append(number)
            self.status(f"Waiting: {number} — set this call's outcome first (esc, then r v a w c)")
            return False
        self._start(number, direction)
        self.lookup(self.call, number)
        return True

    def _start(self, number: str | None, direction: str) -> None:
        self.call += 1
        self.number = number
        self.started = time.monotonic()
        self.direction = direction
        self.card, self.matches, self.unknown = None, [], False
        self.client_uuid = str(uuid.uuid4())
        field = self.query_one("#number", Input)
        field.value = number or ""
        field.disabled = True
        self.query_one("#notes", Input).value = ""
        self.query_one("#card", CardView).update("Looking up…")
        self.status("")
        self._paint_title()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-lookup")
    def lookup(self, call: int, number: str) -> None:
        try:
            with database.connection_context():
                result = callers.lookup(number)
        except ValidationError as exc:
            self.post_message(CallerLoaded(call, None, str(exc)))
            return
        self.post_message(CallerLoaded(call, result))

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-lookup")
    def load_card(self, call: int, contact_id: int, refresh: bool = False) -> None:
        try:
            with database.connection_context():
                result = callers.card(contact_id)
        except SwitchboardError as exc:
            if not refresh:  # a failed re-read leaves the card that is shown
                self.post_message(CallerLoaded(call, None, str(exc)))
            return
        self.post_message(CallerLoaded(call, result, refresh=refresh))

    def on_caller_loaded(self, message: CallerLoaded) -> None:
        if message.call != self.call:
            return
        view = self.query_one("#card", CardView)
        if message.refresh:
            if isinstance(message.result, CallerCard) and self.card is not None:
                self.card = message.result
                view.update(card_content(message.result, max(40, self.size.width - 2)))
            return
        matches = self.query_one("#matches", OptionList)
        matches.display = False
        view.display = True
        if message.error:
            view.update(safe(message.error))
            self.status("esc, then an outcome key (w wrong number) ends the call")
            self.query_one("#notes", Input).focus()
            return
        result = message.result
        if isinstance(result, CallerCard):
            self.card, self.matches, self.unknown = result, [], False
            view.update(card_content(result, max(40, self.size.width - 2)))
            self.status(message.note or (DNC_HINT if result.do_not_call else HINT))
            self.query_one("#notes", Input).focus()
        elif isinstance(result, list):
            self.matches, self.card, self.unknown = result, None, False
            view.display = False
            matches.display = True
            matches.clear_options()
            for i, m in enumerate(result):
                where = f" · {m.account_name}" if m.account_name else ""
                flag = " · DO NOT CALL" if m.do_not_call else ""
                matches.add_option(Option(
                    safe(f"{m.name}{where} · {phones.display(m.e164)}{flag}", single_line=True),
                    id=str(i)))  # fmt: skip
            self.status(f"{len(result)} contacts have this number: ↑↓ and enter to choose")
            matches.focus()
        else:
            self.card, self.matches, self.unknown = None, [], True
            view.update(safe(f"Unknown number {self.number}: nobody you can see has it.\n"
                             "n creates a new contact with this number."))  # fmt: skip
            self.status("Unknown caller · n new contact · esc, then an outcome key")
            view.focus()
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#matches")
    def match_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int(event.option.id or 0)
        if 0 <= index < len(self.matches):
            self.query_one("#card", CardView).update("Loading…")
            self.load_card(self.call, self.matches[index].contact_id)

    # -- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("outcome", "direction"):
            return self.on_call or None
        if action == "case":
            return (self.card is not None) or None
        if action == "new_contact":
            return (self.on_call and self.unknown) or None
        if action in ("next_callback", "dial"):
            return (not self.on_call) or None
        return True

    def action_leave_field(self) -> None:
        """Esc: out of the Number/Notes field, so that letters are keys (r v a w c, b, d)."""
        self.query_one("#card", CardView).focus()

    def action_notes(self) -> None:
        if self.on_call:
            self.query_one("#notes", Input).focus()
        else:
            self.query_one("#number", Input).focus()

    def action_dial(self) -> None:
        self.query_one("#number", Input).focus()

    def action_direction(self) -> None:
        self.direction = "out" if self.direction == "in" else "in"
        self._paint_title()

    def action_outcome(self, key: str) -> None:
        if not self.on_call:
            return
        outcome, _word = OUTCOMES[key]
        card = self.card

        def go(_: object = None) -> None:
            if outcome == "callback":
                from tui.screens.console_prompts import CallbackPrompt

                self.app.push_screen(CallbackPrompt(), lambda choice: choice and self._log(
                    outcome, choice))  # fmt: skip
            else:
                self._log(outcome, None)

        if self.direction == "out" and card is not None and card.do_not_call:
            from tui.screens.console_prompts import ConfirmCall

            self.app.push_screen(ConfirmCall(card.name), lambda yes: go() if yes else None)
            return
        go()

    def _log(self, outcome: str, choice: Any) -> None:
        """Log the call as it stands now (notes, duration, caller) in a worker."""
        self.log_call(
            self.call, outcome, choice, self.card, self.number, self.direction,
            self.query_one("#notes", Input).value.strip(),
            int(time.monotonic() - (self.started or time.monotonic())),
            self.callback_id, self.client_uuid,
        )  # fmt: skip

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-log")
    def log_call(self, call: int, outcome: str, choice: Any, card: CallerCard | None,
                 number: str | None, direction: str, notes: str, duration: int,
                 callback_id: int | None, client_uuid: str | None) -> None:  # fmt: skip
        note = ""
        try:
            with database.connection_context():
                assignee = (callbacks.resolve_assignee(choice.assignee)
                            if choice is not None else None)
                activity = activities.log(
                    "call", subject="" if card else f"call {number or ''}".strip(),
                    body=notes or None, outcome=outcome, duration_seconds=duration,
                    direction=direction,
                    contact_id=card.contact_id if card else None,
                    account_id=card.account_id if card else None,
                    client_uuid=client_uuid,
                )  # fmt: skip
                if callback_id is not None:
                    callbacks.finish(callback_id, activity.id)
                if choice is not None:
                    callbacks.book(choice.due_at, contact_id=card.contact_id if card else None,
                                   number=number, assignee_id=assignee, note=notes or None,
                                   activity_id=activity.id)  # fmt: skip
                    note = f" · callback {choice.due_at:%a %d %b %H:%M}"
        except SwitchboardError as exc:
            self.post_message(CallLogged(call, outcome, None, str(exc)))
            return
        self.post_message(CallLogged(call, outcome, activity.id, note=note))

    def on_call_logged(self, message: CallLogged) -> None:
        if message.call != self.call:
            return
        if message.error:
            self.status(f"Not logged: {message.error}; your notes are still here")
            return
        seconds = int(time.monotonic() - (self.started or time.monotonic()))
        word = dict(OUTCOMES.values()).get(message.outcome, message.outcome)
        who = self.card.name if self.card else self.number
        self.status(f"Logged: {word} · {who} · {seconds // 60}m {seconds % 60:02d}s"
                    f"{message.note}")  # fmt: skip
        if self.card is not None:  # the call just logged heads "Last" (a waiting call drops it)
            self.load_card(self.call, self.card.contact_id, refresh=True)
        self._end()

    def _end(self) -> None:
        self.started = None
        self.callback_id = None
        field = self.query_one("#number", Input)
        field.disabled = False
        field.value = ""
        self.query_one("#notes", Input).value = ""
        field.focus()
        self._paint_title()
        self.refresh_bindings()
        self.count_queue()
        if self.waiting:
            self.open_number(self.waiting.pop(0), direction="in")

    # -- callbacks, contacts, cases ---------------------------------------------------------

    def action_next_callback(self) -> None:
        if self.on_call:
            self.status("Set this call's outcome first (esc, then r v a w c)")
            return
        self.take_callback()

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-callback")
    def take_callback(self) -> None:
        try:
            with database.connection_context():
                taken = callbacks.take_next()
                card = callers.card(taken.contact_id) if taken and taken.contact_id else None
        except SwitchboardError as exc:
            self.post_message(CallbackTaken(None, None, str(exc)))
            return
        self.post_message(CallbackTaken(taken, card))

    def on_callback_taken(self, message: CallbackTaken) -> None:
        if message.error:
            self.status(message.error)
            return
        if message.callback is None:
            self.status("No callback is due.")
            self.count_queue()
            return
        if self.on_call:  # a pop got in first: give the callback back
            self.release_callback(message.callback.id)
            return
        taken = message.callback
        self._start(taken.number, "out")
        self.callback_id = taken.id
        self.post_message(CallerLoaded(self.call, message.card if message.card else None))
        note = f" · note: {taken.note}" if taken.note else ""
        self.call_after_refresh(self.status, f"Callback due {taken.due_at:%a %H:%M}{note}")
        self.count_queue()

    @work(thread=True, exit_on_error=False, group="console-release")
    def release_callback(self, callback_id: int) -> None:
        with database.connection_context():
            callbacks.release(callback_id)

    def on_unmount(self) -> None:
        """The app closes with a callback taken and no outcome: it goes back to the queue now,
        not after its claim expires. A thread of its own (the screen's workers are being
        cancelled), which the interpreter waits for; the connect timeout bounds it."""
        taken = self.callback_id
        if taken is None:
            return

        def give_back() -> None:
            try:
                with database.connection_context():
                    callbacks.release(taken)
            except Exception:  # noqa: BLE001 (unreachable: the claim expires by itself)
                pass

        threading.Thread(target=give_back, name="callback-release").start()

    def action_new_contact(self) -> None:
        from tui.screens.contact_form import ContactFormScreen

        call = self.call

        def saved(result: Any) -> None:
            if result is not None and call == self.call:
                self.load_card(call, result.record_id)

        self.app.push_screen(ContactFormScreen(phone=self.number), saved)

    def action_case(self) -> None:
        from tui.screens.console_prompts import CasePrompt

        card = self.card
        if card is None:
            return
        self.app.push_screen(CasePrompt(), lambda choice: choice and self.open_case(
            self.call, card, choice))  # fmt: skip

    @work(thread=True, exit_on_error=False, group="console-case")
    def open_case(self, call: int, card: CallerCard, choice: Any) -> None:
        try:
            with database.connection_context():
                case = cases.create(choice.subject, contact_id=card.contact_id,
                                    account_id=card.account_id, priority=choice.priority,
                                    assignee_id=activities.current_user_id())  # fmt: skip
                fresh = callers.card(card.contact_id)
        except SwitchboardError as exc:
            self.app.call_from_thread(self.status, f"Case not opened: {exc}")
            return
        self.post_message(CallerLoaded(call, fresh, note=(
            f"Case #{case.id} opened ({case.priority}, SLA {cases.time_left(case.due_at)}) · "
            "esc, then an outcome key")))  # fmt: skip

    # -- live changes -------------------------------------------------------------------------

    def on_records_changed(self, message: Any) -> None:
        """Reload the card when the caller's records changed (change notices)."""
        changes = message.changes
        if getattr(changes, "everything", False) or changes.touches("callback"):
            self.count_queue()
        card = self.card
        if card is None:
            return
        accounts = [card.account_id] if card.account_id else None
        if getattr(changes, "everything", False) or any(
            changes.touches(t, [card.contact_id], accounts=accounts)
            for t in ("contact", "contact_phone", "activity", "support_case",
                      "contact_relationship")
        ):  # fmt: skip
            self.load_card(self.call, card.contact_id, refresh=True)


class _Row(Horizontal):
    """A one-line row: a label and its field side by side."""

    DEFAULT_CSS = """
    _Row { layout: horizontal; height: 1; }
    _Row > .label { width: auto; }
    _Row > Input { width: 1fr; }
    """


def pop_ids(changes: Any) -> Iterable[int]:
    """The screen_pop ids named by a batch of change notices."""
    ids = getattr(changes, "ids", {}) or {}
    return sorted(ids.get("screen_pop", ()))
