"""The accounts helpers and fixtures, shared with tests/auth."""

from tests.auth.conftest import other_client, set_config  # noqa: F401  (fixtures)
