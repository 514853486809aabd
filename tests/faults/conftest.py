"""Faults: a real RQ worker killed or timed out, Redis down, PostgreSQL
dropping the app's connections, on the committed database and the Redis of
the worker tests (their fixtures, reused)."""

import socket

import pytest

from tests.reports.test_worker import japp, worker_env  # noqa: F401  (fixtures, reused)


@pytest.fixture
def dead_redis_url() -> str:
    """A Redis URL on a port nothing listens on (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"
