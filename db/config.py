"""Where the database is: options, then environment, then config.toml, then the embedded workspace.

libpq's own variables (PGHOST, PGUSER, PGPASSWORD, PGSERVICE, ~/.pgpass) keep working because
the DSN is handed to libpq untouched.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from db.errors import ConfigError

APP_NAME = "switchboard"
DEFAULT_SCHEMA = "switchboard"
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")


def config_path() -> Path:
    """The user's config.toml (tests patch SWITCHBOARD_CONFIG to point elsewhere)."""
    override = os.environ.get("SWITCHBOARD_CONFIG")
    if override:
        return Path(override)
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def load_config() -> dict:
    """Read config.toml; a missing file is an empty config, a broken one a clear error."""
    path = config_path()
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def check_schema_name(name: str) -> str:
    """Schema names become role-name prefixes, so they are plain lower-case identifiers."""
    if not _SCHEMA_RE.match(name):
        raise ConfigError(
            f"schema name {name!r} is not allowed: use lower-case letters, digits and _ "
            "(at most 40, not starting with a digit)"
        )
    return name


@dataclass(frozen=True)
class Target:
    """What to connect to: a DSN, or the embedded workspace (demo or not)."""

    dsn: str | None
    schema: str
    embedded: bool = False
    demo: bool = False
    source: str = "embedded"


def resolve_target(
    dsn: str | None = None, schema: str | None = None, demo: bool = False
) -> Target:
    """Apply the precedence of DESIGN.md section 9 and return where to connect."""
    cfg = load_config()
    db_cfg = cfg.get("database", {}) if isinstance(cfg.get("database", {}), dict) else {}
    schema_name = check_schema_name(
        schema or os.environ.get("SWITCHBOARD_SCHEMA") or db_cfg.get("schema") or DEFAULT_SCHEMA
    )
    if demo:
        return Target(None, schema_name, embedded=True, demo=True, source="demo workspace")
    if dsn:
        return Target(dsn, schema_name, source="--dsn")
    env_dsn = os.environ.get("SWITCHBOARD_DSN")
    if env_dsn:
        return Target(env_dsn, schema_name, source="SWITCHBOARD_DSN")
    if db_cfg.get("dsn"):
        return Target(str(db_cfg["dsn"]), schema_name, source=str(config_path()))
    return Target(None, schema_name, embedded=True, source="embedded workspace")
