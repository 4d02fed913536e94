"""Whatever a save raised, as a SwitchboardError a form can show (issue 9 part 7).

The services raise typed errors for what they foresee; a save can also die of what nobody
foresees: the backend terminated while the save waited on a lock, the connection dropped, the
statement timed out, a bug. A form must never stay on "Saving…" for any of them, so its save
worker turns every exception into one of these and shows it, keeping what was typed.
"""

from __future__ import annotations

import peewee
import psycopg2
import psycopg2.errors

from db.connection import STATEMENT_TIMEOUT_MS
from db.errors import DatabaseUnavailable, SwitchboardError
from db.services._pgerrors import original, translate

RETRY = "Your text is still here: ctrl+s tries again."


def explain(exc: BaseException) -> SwitchboardError:
    """A one-line error for `exc`; typed errors of db/ come back as they are."""
    if isinstance(exc, SwitchboardError):
        return exc
    driver = original(exc)
    if isinstance(driver, psycopg2.errors.QueryCanceled):
        return DatabaseUnavailable(
            f"the database did not answer within {STATEMENT_TIMEOUT_MS // 1000} s"
        )
    if isinstance(driver, psycopg2.errors.LockNotAvailable):
        return SwitchboardError("someone else's unfinished change holds this record")
    if isinstance(driver, psycopg2.OperationalError | psycopg2.InterfaceError) or isinstance(
        exc, peewee.OperationalError | peewee.InterfaceError
    ):
        return DatabaseUnavailable("the connection to the database was lost")
    if isinstance(driver, psycopg2.Error):
        return translate(driver)
    return SwitchboardError(f"unexpected error ({type(exc).__name__}: {exc})")


def not_saved(exc: BaseException) -> str:
    """The form's message after a failed save: what happened, and that nothing is lost."""
    return f"Not saved: {explain(exc)}. {RETRY}"
