"""Relais and the bare app under gunicorn (2 sync workers each, 127.0.0.1
only), started for a run and stopped whatever happens."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.generate import app_url

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    app: str  # gunicorn's module:variable
    env: dict[str, str]
    logdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> Server:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        log = self.logdir / f"{self.name}.log"
        command = [
            str(gunicorn if gunicorn.exists() else "gunicorn"),
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"{HOST}:{self.port}",
            "--log-level",
            "warning",
            "--error-logfile",
            str(log),
            self.app,
        ]
        self.process = subprocess.Popen(  # noqa: S603 (our own gunicorn)
            command, cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL
        )
        return self

    def wait_ready(self, path: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                log = (self.logdir / f"{self.name}.log").read_text(errors="replace")
                raise RuntimeError(f"{self.name} stopped at start:\n{log[-3000:]}")
            with contextlib.suppress(OSError):
                if _status(self.port, path) < 500:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer on port {self.port} within {seconds:.0f} s")

    def last_error(self) -> str:
        """The end of the last traceback in the server's log, if any."""
        log = (self.logdir / f"{self.name}.log").read_text(errors="replace")
        start = log.rfind("Traceback")
        return log[start:][-1500:] if start >= 0 else log[-1500:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def server_env(url: str, outbox: Path) -> dict[str, str]:
    """Production settings, 127.0.0.1, no Redis (jobs in-process), mails to
    a temporary outbox; Relais connects as the app's role (row-level
    security), the owner's `url` for its migrations."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "MAIL_SERVER", "RELAIS_ENV"}}
    env.update(
        DATABASE_URL=app_url(url),
        DATABASE_OWNER_URL=url,
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        MAIL_OUTBOX_DIR=str(outbox),
        # A hundred logins from one address in a few seconds: the real limit would refuse them.
        LOGIN_LIMIT_PER_ADDRESS="100000 per minute",
        PYTHONPATH=str(ROOT),
    )
    return env


@contextlib.contextmanager
def servers(url: str) -> Iterator[tuple[Server, Server]]:
    """Relais and the bare app, stopped whatever happens (SIGTERM included)."""
    previous = signal.signal(signal.SIGTERM, _raise_exit)
    with tempfile.TemporaryDirectory(prefix="relais-bench-") as tmp:
        env = server_env(url, Path(tmp) / "outbox")
        relais = Server("relais", "wsgi:app", env, Path(tmp))
        # The bare stack has no access rules: it connects as the owner.
        bare = Server("bare", "bench.bare_app:app", env | {"DATABASE_URL": url}, Path(tmp))
        try:
            relais.start()
            bare.start()
            relais.wait_ready("/login")
            bare.wait_ready("/rows?cm=0")
            yield relais, bare
        finally:
            relais.stop()
            bare.stop()
            signal.signal(signal.SIGTERM, previous)


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def _status(port: int, path: str) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()
