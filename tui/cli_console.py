"""`switchboard lookup NUMBER [--json]` and `switchboard pop NUMBER --user NAME`.

lookup prints the caller card (text cleaned like the screens; --json with id fields for
scripts). Exit codes: 0 found (one card, or several matches listed), 3 nobody has the number,
1 an error, 2 bad usage. pop opens NUMBER in NAME's running console; it runs as a login
allowed to pop (an admin, or one granted <prefix>_telephony): docs/console.md.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from tui.cli_common import say

NOT_FOUND = 3


def add_console_parser(sub, add_target: Callable[[argparse.ArgumentParser], None]) -> None:
    lookup = sub.add_parser("lookup", help="print the caller card of a phone number")
    lookup.add_argument("number", help="as dialled: +46 70 123 45 67, 070-1234567, last digits")
    lookup.add_argument("--json", action="store_true", help="JSON with id fields, for scripts")
    lookup.add_argument("--region", help="country of national numbers (default: your region)")
    add_target(lookup)
    lookup.set_defaults(func=cmd_lookup)
    pop = sub.add_parser("pop", help="open a number in a person's running call console")
    pop.add_argument("number")
    pop.add_argument("--user", required=True, help="the person's login name")
    add_target(pop)
    pop.set_defaults(func=cmd_pop)


def _connect(args: argparse.Namespace) -> None:
    from tui.cli_user import _connect as connect

    connect(args)


def cmd_lookup(args: argparse.Namespace) -> int:
    from db.connection import database
    from db.services import callers
    from db.services.callers import CallerCard

    _connect(args)
    with database.connection_context():
        found = callers.lookup(args.number, args.region)
    if args.json:
        if found is None:
            out: object = {"found": 0, "matches": []}
        elif isinstance(found, CallerCard):
            out = {"found": 1, "card": found.as_json()}
        else:
            out = {"found": len(found), "matches": [
                {"contact_id": m.contact_id, "name": m.name, "title": m.title,
                 "account_id": m.account_id, "account_name": m.account_name,
                 "matched_number": m.e164, "do_not_call": m.do_not_call} for m in found]}
        print(json.dumps(out, ensure_ascii=False, sort_keys=True))  # fmt: skip
        return 0 if found else NOT_FOUND
    if found is None:
        say(f"nobody you can see has the number {args.number}")
        return NOT_FOUND
    if isinstance(found, list):
        say(f"{len(found)} contacts have this number:")
        for m in found:
            say(f"  {m.name} · {m.account_name or '—'} · {m.e164} (contact {m.contact_id})")
        return 0
    for line in card_lines(found):
        say(line)
    return 0


def card_lines(card) -> list[str]:
    from db.services import cases

    flags = [f for f, on in (("DO NOT CALL", card.do_not_call),
                             ("DO NOT EMAIL", card.do_not_email)) if on]  # fmt: skip
    lines = [
        " · ".join(x for x in (card.name, card.title, card.account_name) if x),
        f"contact {card.contact_id}" + (f" · account {card.account_id}" if card.account_id else "")
        + (f" · owner {card.owner}" if card.owner else ""),
        "flags: " + (", ".join(flags) if flags else "none"),
        "phones: " + (", ".join(f"{k} {n}" for k, n in card.phones) or "none"),
    ]
    lines.append("open cases: " + ("; ".join(
        f"#{c.id} {c.subject} ({cases.STATUS_WORDS.get(c.status, c.status)}, "
        f"SLA {cases.time_left(c.due_at)})" for c in card.cases) or "none"))  # fmt: skip
    if card.deals is None:
        lines.append("open deals: —")
    else:
        lines.append("open deals: " + ("; ".join(
            f"{d.name} · {d.stage} · {d.amount:,.0f} {d.currency}" for d in card.deals)
            or "none"))  # fmt: skip
    for r in card.recent:
        lines.append(f"  {r.occurred_at:%Y-%m-%d %H:%M} {r.kind} {r.direction or ''} "
                     f"{(r.outcome or '').replace('_', ' ')} {r.subject}".rstrip())  # fmt: skip
    for r in card.related:
        lines.append(f"related: {r.label} {r.name}")
    return lines


def cmd_pop(args: argparse.Namespace) -> int:
    from db.connection import database
    from db.services import screen_pops

    _connect(args)
    with database.connection_context():
        pop_id = screen_pops.pop(args.user, args.number)
    say(f"popped {args.number} to {args.user} (pop {pop_id})")
    return 0
