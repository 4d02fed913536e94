"""`switchboard lookup NUMBER [--json]` and `switchboard pop NUMBER --user NAME`: cleaned text,
JSON with id fields, exit codes, one-line errors; pop refused for people who may not pop."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.activity_data import seed
from tests.hostile import OSC_TITLE
from tui.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(installer_dsn):
    s = seed(installer_dsn)
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO contact_phone (contact_id, raw, e164) VALUES "
                    "(%s, '070-123 45 67', '+46701234567')", (s.contact_id,))
        cur.execute("UPDATE contact SET job_title = %s, do_not_call = true WHERE id = %s",
                    ("CFO" + OSC_TITLE, s.contact_id))
    conn.close()
    return s


def test_lookup_text_and_json(data, admin_dsn, capsys):
    code, out, err = run(capsys, "lookup", "070-123 45 67", "--dsn", admin_dsn)
    assert code == 0, err
    assert out.startswith("Anna Lind · CFO")
    assert "\x1b" not in out and "flags: DO NOT CALL" in out and "Fleet renewal" in out
    code, out, _ = run(capsys, "lookup", "+46 70 123 45 67", "--json", "--dsn", admin_dsn)
    card = json.loads(out)["card"]
    assert code == 0 and card["contact_id"] == data.contact_id
    assert card["account_id"] == data.root_id and card["do_not_call"] is True
    assert card["open_deals"][0]["opportunity_id"] == data.opportunity_id
    code, out, _ = run(capsys, "lookup", "+1 212 555 0100", "--json", "--dsn", admin_dsn)
    assert code == 3 and json.loads(out) == {"found": 0, "matches": []}
    code, out, err = run(capsys, "lookup", "12", "--dsn", admin_dsn)
    assert code == 1 and err.strip() == "switchboard: number: needs at least 7 digits"


def test_pop(data, admin_dsn, installer_dsn, pg, db_name, capsys):
    code, out, err = run(capsys, "pop", "070-123 45 67", "--user", "rita", "--dsn", admin_dsn)
    assert code == 0, err
    assert out.startswith("popped 070-123 45 67 to rita (pop ")
    code, _, err = run(capsys, "pop", "0701234567", "--user", "nobody", "--dsn", admin_dsn)
    assert code == 1 and err.strip() == "switchboard: no active user named nobody"
    code, _, err = run(capsys, "pop", "0701234567", "--user", "sam",
                       "--dsn", pg.dsn(db_name, user="rita"))  # a rep may not pop
    assert code == 1 and "not allowed" in err and len(err.strip().splitlines()) == 1
    conn = psycopg2.connect(installer_dsn, options="-c search_path=switchboard")
    with conn.cursor() as cur:
        cur.execute("SELECT u.username, p.number FROM screen_pop p JOIN app_user u "
                    "ON u.id = p.user_id")
        assert cur.fetchall() == [("rita", "070-123 45 67")]
    conn.close()
