"""A contact's history includes its phones and emails, readable after the rows are replaced,
by exactly the people who may see the contact."""

from __future__ import annotations

from db.connection import configure, database
from db.services import history
from tests.security.conftest import set_all_defaults


def _phone_history(w, who: str, contact_id: int) -> list[tuple[str, str, list[str]]]:
    configure(w.pg.dsn(w.db, user=w.users[who]), "switchboard")
    try:
        with database.connection_context():
            page = history.record_history("contact", contact_id)
    finally:
        database.close_all()
    return [(e.table_name, e.op, [c.field for c in e.changes]) for e in page.entries
            if e.table_name != "contact"]  # fmt: skip


def test_replaced_phones_stay_in_the_contact_history_for_those_who_see_it(world):
    w = world
    set_all_defaults(w, "private")
    con = w.ids["con_rita"]
    conn = w.connect("rita")
    with conn.cursor() as cur:  # rita replaces her contact's phone, as the contact form does
        cur.execute("SELECT delete_contact_details(%s, 'contact_phone')", (con,))
        cur.execute("INSERT INTO contact_phone (contact_id, raw, e164) "
                    "VALUES (%s, '070-765 43 21', '+46707654321')", (con,))  # fmt: skip
    seen = _phone_history(w, "rita", con)
    assert ("contact_phone", "I", ["phone e164", "phone is_primary", "phone kind",
                                   "phone raw"]) in seen  # fmt: skip
    assert any(t == "contact_phone" and op == "D" for t, op, _ in seen)  # the deleted row
    assert _phone_history(w, "sam", con) == []  # sam cannot see rita's contact: nor its phones
    actors = w.installer(
        "SELECT op, actor FROM audit_log WHERE table_name = 'contact_phone' "
        "AND coalesce(new_values->>'contact_id', old_values->>'contact_id') = %s "
        "AND actor <> 'postgres' ORDER BY id",  # the fixture's own insert is the installer's
        (str(con),),
    )
    assert actors == [("D", w.users["rita"]), ("I", w.users["rita"])]
