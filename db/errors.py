"""Typed errors raised by db/: every one carries a message a person can act on."""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every error db/ raises on purpose; str() is a one-line message for a person."""


class ConfigError(SwitchboardError):
    """The configuration (options, environment, config.toml) is wrong."""


class ServerError(SwitchboardError):
    """The embedded PostgreSQL server could not be found, started or stopped."""


class DatabaseUnavailable(SwitchboardError):
    """The database cannot be reached (server down, network, timeout)."""


class AuthenticationFailed(SwitchboardError):
    """Wrong user name or password, or the login is disabled."""


class SchemaError(SwitchboardError):
    """The schema is missing, older or newer than this client."""


class ValidationError(SwitchboardError):
    """A value broke a rule. `field` names the field, `message` states the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ValidationErrors(SwitchboardError):
    """Several fields broke rules at once; nothing was saved."""

    def __init__(self, errors: list[ValidationError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class NotFound(SwitchboardError):
    """The record does not exist or is not visible to this person."""


class PermissionDenied(SwitchboardError):
    """The database refused the action for this person."""


class RecordLocked(SwitchboardError):
    """Someone else is changing the record right now (their transaction holds its lock).

    `holder` is that person's display name, or None when the database does not say.
    """

    def __init__(self, what: str, holder: str | None, yourself: bool = False) -> None:
        if yourself:
            text = f"you are changing {what} in another window: finish there, then save again"
        elif holder:
            text = f"{holder} is changing {what} right now: save again when they are done"
        else:
            text = f"someone else is changing {what} right now: save again in a moment"
        super().__init__(text)
        self.what = what
        self.holder = holder
        self.yourself = yourself


class StaleRecord(SwitchboardError):
    """Someone else saved the record since it was read (optimistic locking)."""


class FieldConflict:
    """One field both people changed to different values: what I typed, theirs, the original."""

    __slots__ = ("mine", "original", "theirs")

    def __init__(self, mine: object, theirs: object, original: object) -> None:
        self.mine = mine
        self.theirs = theirs
        self.original = original

    def __repr__(self) -> str:
        return (
            f"FieldConflict(mine={self.mine!r}, theirs={self.theirs!r}, "
            f"original={self.original!r})"
        )


class Conflict(StaleRecord):
    """Someone else saved different values into fields I changed too.

    `fields` maps field name to FieldConflict; `version` and `current` are the record as it is
    now, so a second save with `original=current` writes only what the person then chooses.
    Nothing of what the person typed is lost: it is in `FieldConflict.mine`.
    """

    def __init__(self, fields: dict[str, FieldConflict], version: int, current: dict) -> None:
        names = ", ".join(fields)
        super().__init__(f"someone else changed {names} since you opened the record")
        self.fields = fields
        self.version = version
        self.current = current
