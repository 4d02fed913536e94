"""Turn what PostgreSQL refused into the typed errors of db/errors.py."""

from __future__ import annotations

import psycopg2
import psycopg2.errors

from db.errors import NotFound, PermissionDenied, SwitchboardError, ValidationError

# Fields the admin API names (RAISE ... COLUMN = ...) -> the field a form shows.
_FIELDS = {"display_name": "display_name", "team": "team", "team_id": "team"}


def original(exc: BaseException) -> BaseException:
    """peewee wraps driver errors (peewee.DataError(psycopg2_error)): unwrap them."""
    for candidate in (getattr(exc, "orig", None), exc.__context__, *exc.args[:1]):
        if not isinstance(exc, psycopg2.Error) and isinstance(candidate, psycopg2.Error):
            return candidate
    return exc


def translate(exc: BaseException) -> SwitchboardError:
    """A one-line, field-naming error for `exc` (raised by the database)."""
    exc = original(exc)
    diag = getattr(exc, "diag", None)
    message = (diag.message_primary if diag and diag.message_primary else str(exc)).strip()
    column = diag.column_name if diag else None
    if isinstance(exc, psycopg2.errors.InsufficientPrivilege):
        if column:
            return ValidationError(_FIELDS.get(column, column), message)
        return PermissionDenied(f"not allowed: {message}")
    if isinstance(exc, psycopg2.errors.NoDataFound):
        return NotFound(message)
    if column:
        return ValidationError(_FIELDS.get(column, column), message)
    if isinstance(exc, psycopg2.errors.UniqueViolation):
        return ValidationError("name", "already taken")
    if isinstance(exc, psycopg2.errors.CheckViolation | psycopg2.errors.InvalidParameterValue):
        return ValidationError(getattr(diag, "constraint_name", None) or "value", message)
    if "row-level security" in message:
        return PermissionDenied(message)
    return SwitchboardError(message)
