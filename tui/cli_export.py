"""`switchboard export pipeline|forecast|kpis --csv [--out FILE]`: views as CSV for scripts.

Runs as the person's own login, so the export holds exactly what they may see (row-level
security). Without --out the CSV goes to stdout; with it, the file is written whole or not at
all (db/exports.py) and one line on stderr says where and how many rows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date


def add_export_parser(sub, add_target: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("export", help="export the pipeline, the forecast or the KPIs as CSV")
    p.add_argument("view", choices=["pipeline", "forecast", "kpis"])
    p.add_argument("--csv", action="store_true", required=True,
                   help="write CSV (the only format; formulas neutralised)")
    p.add_argument("--out", help="file to write (default: stdout)")
    p.add_argument("--period", choices=["month", "quarter"], default="month",
                   help="forecast and KPIs: month or quarter (default month)")
    p.add_argument("--date", help="forecast and KPIs: a day in the period, YYYY-MM-DD "
                   "(default today)")
    p.add_argument("--currency", help="forecast and KPIs: three-letter currency "
                   "(default: the one with the most deals)")
    add_target(p)
    p.set_defaults(func=cmd_export)


def _day(text: str | None) -> date:
    from tui.cli import UsageError

    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"switchboard export: --date must be YYYY-MM-DD, not {text!r}") from None


def cmd_export(args: argparse.Namespace) -> int:
    from db import exports
    from db.connection import database
    from db.services import forecast, kpis
    from db.services.periods import Period
    from tui.cli_user import _connect

    period = Period.containing(_day(args.date), args.period)
    currency = args.currency.strip().upper() if args.currency else None
    _connect(args)
    with database.connection_context():
        if args.view == "pipeline":
            header, rows = exports.PIPELINE_HEADER, exports.pipeline_rows()
        elif args.view == "forecast":
            f = forecast.forecast(period, currency)
            header, rows = exports.FORECAST_HEADER, exports.forecast_rows(f)
        else:
            cur = currency or forecast.forecast(period).currency
            header, rows = exports.KPI_HEADER, exports.kpi_rows(kpis.kpis(period, cur))
        if args.out:
            n = exports.write_file(args.out, header, rows)
            print(f"wrote {n} rows to {args.out}", file=sys.stderr)
        else:
            exports.write_csv(sys.stdout, header, rows)
    return 0
