"""Admin › Stages (key k on the admin screen): the stages of each pipeline as data.

Order, default probability, open/won/lost, written exit criteria and the rotting period (days
a deal may sit idle in the stage before the board flags it). n new stage, e edit, [ ] move it
earlier or later, d delete (only when no deal is in it), p next pipeline, a add a pipeline.
Only admins hold the privileges: the database refuses anyone else.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from db.connection import database
from db.errors import ValidationError, ValidationErrors
from db.services import pipeline
from db.services.pipeline import PipelineInfo, StageInfo
from tui.screens.admin_form import AdminForm, Field
from tui.screens.base import BaseScreen
from tui.text import cell, safe

KINDS = [("open", "open"), ("won (closes the deal)", "won"), ("lost (asks a reason)", "lost")]


class StagesLoaded(Message):
    def __init__(self, pipelines: list[PipelineInfo], current: int | None,
                 stages: list[StageInfo], note: str = "") -> None:  # fmt: skip
        super().__init__()
        self.pipelines, self.current, self.stages, self.note = pipelines, current, stages, note


def _form(values: dict) -> dict[str, Any]:
    kind = values.get("kind") or "open"
    return {**values, "is_won": kind == "won", "is_lost": kind == "lost"}


def _first(fn):  # noqa: ANN001, ANN202
    """AdminForm shows one error under its field: the first of several."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except ValidationErrors as exc:
            error = exc.errors[0]
            raise ValidationError("kind" if error.field in ("is_won", "is_lost") else error.field,
                                  error.message) from exc  # fmt: skip

    return call


class StagesScreen(BaseScreen):
    DEFAULT_CSS = """
    StagesScreen #stages-title { height: 1; padding: 0 1; text-style: bold; }
    StagesScreen DataTable { height: 1fr; }
    StagesScreen #stages-note { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the admin screen", id="stages-back"),
        Binding("n", "new", "New stage", tooltip="A new open stage before won and lost",
                id="stages-new"),
        Binding("e,enter", "edit", "Edit", tooltip="Edit the selected stage", id="stages-edit"),
        Binding("left_square_bracket", "order(-1)", "Earlier", tooltip="Move the stage earlier",
                id="stages-earlier"),
        Binding("right_square_bracket", "order(1)", "Later", tooltip="Move the stage later",
                id="stages-later"),
        Binding("d", "delete", "Delete", tooltip="Delete a stage no deal is in",
                id="stages-delete"),
        Binding("p", "next_pipeline", "Pipeline", tooltip="Show the next pipeline",
                id="stages-pipeline"),
        Binding("a", "add_pipeline", "Add pipeline", tooltip="A new pipeline",
                id="stages-add-pipeline"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.pipelines: list[PipelineInfo] = []
        self.current: int | None = None
        self.stages: list[StageInfo] = []

    def compose_body(self) -> ComposeResult:
        yield Static("Admin › Stages", id="stages-title")
        yield DataTable(id="stages-table", cursor_type="row")
        yield Static("", id="stages-note")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for label, width in (("stage", 16), ("prob", 4), ("kind", 5), ("rot", 4),
                             ("exit criteria", 38)):  # fmt: skip
            table.add_column(label, width=width)
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="stages")
    def load(self, current: int | None = None, note: str = "", then: Any = None) -> None:
        with database.connection_context():
            if then is not None:
                then()
            found = pipeline.pipelines()
            ids = [p.id for p in found]
            pick = current if current in ids else (self.current if self.current in ids
                                                   else (ids[0] if ids else None))  # fmt: skip
            stages = pipeline.stages(pick) if pick is not None else []
        self.post_message(StagesLoaded(found, pick, stages, note))

    def on_stages_loaded(self, message: StagesLoaded) -> None:
        self.pipelines, self.current, self.stages = message.pipelines, message.current, \
            message.stages  # fmt: skip
        name = next((p.name for p in self.pipelines if p.id == self.current), "—")
        self.query_one("#stages-title", Static).update(
            safe(f"Admin › Stages · pipeline {name} ({len(self.pipelines)} in all)",
                 single_line=True))  # fmt: skip
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for s in self.stages:
            kind = "won" if s.is_won else ("lost" if s.is_lost else "open")
            table.add_row(cell(s.name, 16), cell(f"{s.probability}%", 4), cell(kind, 5),
                          cell(f"{s.rotting_days}d" if s.rotting_days else "—", 4),
                          cell(s.exit_criteria or "—", 38))  # fmt: skip
        if self.stages:
            table.move_cursor(row=max(0, min(row, len(self.stages) - 1)))
        note = message.note or "n new · e edit · [ ] order · d delete · p pipeline · a add one"
        self.query_one("#stages-note", Static).update(safe(note, single_line=True))

    def _selected(self) -> StageInfo | None:
        table = self.query_one(DataTable)
        if not self.stages or table.cursor_row < 0:
            return None
        return self.stages[min(table.cursor_row, len(self.stages) - 1)]

    def _fields(self, s: StageInfo | None) -> list[Field]:
        kind = "open" if s is None else ("won" if s.is_won else "lost" if s.is_lost else "open")
        return [
            Field("name", "Name", s.name if s else ""),
            Field("probability", "Default probability %", str(s.probability) if s else ""),
            Field("kind", "Kind", kind, options=KINDS, aliases=["is_won", "is_lost"]),
            Field("exit_criteria", "Exit criteria (shown when a deal leaves)",
                  (s.exit_criteria or "") if s else ""),
            Field("rotting_days", "Rotting after days idle (empty: never)",
                  str(s.rotting_days) if s and s.rotting_days else ""),
        ]  # fmt: skip

    def _open(self, form: AdminForm) -> None:
        def done(result: Any) -> None:
            if result is not None:
                self.load(self.current, "saved")

        self.app.push_screen(form, done)

    def action_new(self) -> None:
        if self.current is None:
            return
        pid = self.current
        self._open(AdminForm("New stage", self._fields(None),
                             _first(lambda v: pipeline.add_stage(pid, _form(v)))))  # fmt: skip

    def action_edit(self) -> None:
        s = self._selected()
        if s is None:
            return
        self._open(
            AdminForm(
                f"Edit stage {s.name}",
                self._fields(s),
                _first(lambda v: pipeline.save_stage(s.id, s.version, _form(v))),
            )
        )

    def action_order(self, direction: int) -> None:
        s = self._selected()
        if s is not None:
            table = self.query_one(DataTable)
            table.move_cursor(row=max(0, table.cursor_row + direction))
            self.load(
                self.current,
                f"moved {s.name}",
                then=_first(lambda: pipeline.reorder_stage(s.id, direction)),
            )

    def action_delete(self) -> None:
        from tui.screens.confirm import ConfirmModal

        s = self._selected()
        if s is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.load(
                    self.current, f"deleted {s.name}", then=lambda: pipeline.delete_stage(s.id)
                )

        self.app.push_screen(
            ConfirmModal(safe(f"Delete the stage {s.name}?", single_line=True), "Delete", "Keep"),
            answered,
        )

    def action_next_pipeline(self) -> None:
        ids = [p.id for p in self.pipelines]
        if ids:
            nxt = ids[(ids.index(self.current) + 1) % len(ids)] if self.current in ids else ids[0]
            self.load(nxt)

    def action_add_pipeline(self) -> None:
        def done(result: Any) -> None:
            if result is not None:
                self.load(result, "pipeline added: edit its stages")

        self.app.push_screen(
            AdminForm(
                "New pipeline",
                [Field("name", "Name")],
                _first(lambda v: pipeline.add_pipeline(v["name"])),
            ),
            done,
        )

    def action_back(self) -> None:
        self.dismiss(None)
