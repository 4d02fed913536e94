"""Layering rules of DESIGN.md section 2 that are easy to break by accident."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import db

ROOT = Path(__file__).resolve().parent.parent


def test_db_never_imports_textual():
    modules = [m.name for m in pkgutil.walk_packages(db.__path__, "db.")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_absolute_paths_of_this_machine_in_the_project():
    pattern = re.compile(r"/(root|work|home/[a-z]+)/")
    offenders = []
    for path in ROOT.rglob("*"):
        if any(part in {".venv", ".git", "__pycache__", ".pytest_cache"} for part in path.parts):
            continue
        if path.suffix in {".py", ".md", ".toml", ".sql", ".tcss", ".sh"} and path.is_file():
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if pattern.search(line) and "noqa: path" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []


def test_table_cells_come_from_text_cell():
    """DataTable measures Rich Text but counts a Content as one cell, which cut every column
    to its header (QA #12). Table rows are built with `tui.text.cell()`, never `safe()`."""
    offenders = []
    for path in (ROOT / "tui").rglob("*.py"):
        source = path.read_text()
        for match in re.finditer(r"\.add_row\((.*?)\)\s*(?:#.*)?$", source, re.M | re.S):
            if re.search(r"\bsafe(_markup)?\(", match.group(1).split("\n\n")[0]):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)[:60]}")
    assert offenders == []
