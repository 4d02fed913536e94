"""Screen pops: only the person a pop is for can read or take it; the notice carries no number;
only admins and the telephony role may pop."""

from __future__ import annotations

import json
import select

import psycopg2
import pytest

from tests.security.conftest import SCHEMA


def test_pop_reaches_only_its_user(world):
    listener = world.connect("rita")
    with listener.cursor() as cur:
        cur.execute(f"LISTEN {SCHEMA}")
    admin = world.connect("admin")
    with admin.cursor() as cur:
        cur.execute("SELECT screen_pop(%s, %s)", (world.users["rita"], "+46 70 123 45 67"))
        pop_id = cur.fetchone()[0]
    # the notice: table, op, id, nothing else that matters; never the number
    select.select([listener], [], [], 5)
    listener.poll()
    payloads = [json.loads(n.payload) for n in listener.notifies]
    pops = [p for p in payloads if p["t"] == "screen_pop"]
    assert pops == [{"t": "screen_pop", "op": "I", "id": pop_id, "a": None}]
    assert all("123" not in n.payload for n in listener.notifies)
    # another user (a rep, a manager, an agent, even an admin) cannot read or take it
    for who in ("sam", "mona", "aga", "admin"):
        conn = world.connect(who)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM screen_pop")
            assert cur.fetchone()[0] == 0, who
            cur.execute("UPDATE screen_pop SET taken_at = now() WHERE id = %s", (pop_id,))
            assert cur.rowcount == 0, who
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("UPDATE screen_pop SET number = 'x' WHERE id = %s", (pop_id,))
    assert world.one("SELECT taken_at FROM screen_pop WHERE id = %s", (pop_id,)) is None
    # its user reads it and takes it, once
    rita = world.connect("rita")
    with rita.cursor() as cur:
        cur.execute("UPDATE screen_pop SET taken_at = now() WHERE id = %s AND taken_at IS NULL "
                    "RETURNING number", (pop_id,))
        assert cur.fetchone() == ("+46 70 123 45 67",)
        cur.execute("UPDATE screen_pop SET taken_at = now() WHERE id = %s AND taken_at IS NULL",
                    (pop_id,))
        assert cur.rowcount == 0


def test_only_admins_and_telephony_may_pop(world):
    for who in ("rita", "mona", "aga"):
        conn = world.connect(who)
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT screen_pop(%s, '+46701234567')", (world.users["sam"],))
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO screen_pop (user_id, number) VALUES (%s, 'x')",
                        (world.ids["sam"],))
    # a telephony login (granted the telephony group role by the installer) may
    login = "tel_" + world.users["rita"].split("_", 1)[1]
    world.installer(f"CREATE ROLE {login} LOGIN")
    world.installer(f"GRANT {SCHEMA}_telephony TO {login}")
    world.users["tel"] = login
    try:
        conn = world.connect("tel")
        with conn.cursor() as cur:
            cur.execute("SELECT screen_pop(%s, '+46701234567')", (world.users["sam"],))
            assert cur.fetchone()[0] > 0
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT count(*) FROM contact")  # it reads nothing
        conn.close()
        world.conns.remove(conn)
        assert world.one("SELECT count(*) FROM screen_pop WHERE user_id = %s",
                         (world.ids["sam"],)) == 1
        # unknown or disabled user, bad number: refused with a clear message, nothing stored
        admin = world.connect("admin")
        with admin.cursor() as cur:
            with pytest.raises(psycopg2.errors.NoDataFound, match="no active user named"):
                cur.execute("SELECT screen_pop(%s, '+46701234567')", (world.users["dora"],))
            with pytest.raises(psycopg2.errors.InvalidParameterValue, match="number"):
                cur.execute("SELECT screen_pop(%s, %s)", (world.users["sam"], "1\x1b]2;x"))
        assert world.one("SELECT count(*) FROM screen_pop") == 1
    finally:
        world.installer(f"DROP OWNED BY {login}; DROP ROLE {login}")
