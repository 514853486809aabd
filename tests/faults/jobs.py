"""Jobs the fault tests hand to a real worker (imported by it by path)."""

import time
from pathlib import Path


def nap(seconds: float, marker: str) -> str:
    """Sleep `seconds` the first time (a marker file remembers), return at
    once the next: a job that times out, then succeeds when retried."""
    path = Path(marker)
    if not path.exists():
        path.write_text("first run")
        time.sleep(seconds)
    return "awake"


CALLS: list[str] = []


def remember(value: str) -> None:
    CALLS.append(value)
