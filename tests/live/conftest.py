"""The live tests use the small organisation of the security tests (people in teams, private
records): a second person's change, and a record the first may not see."""

from __future__ import annotations

from tests.security.conftest import set_all_defaults, world  # noqa: F401 (fixtures)
