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


class StaleRecord(SwitchboardError):
    """Someone else saved the record since it was read (optimistic locking)."""
