"""gunicorn under test, and the CPU time its processes (and PostgreSQL's backends) spend."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from booking.db import normalise_url

REPO = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text[text.rindex(")") + 2:].split()  # fields from the 3rd (state) on


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process, in seconds, or None when it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == parent:
                pids.append(int(entry))
    return pids


class Gunicorn:
    """One gunicorn master with `workers` sync workers on a free loopback port."""

    def __init__(self, app: str, env: dict[str, str], workers: int, log_path: Path):
        self.app = app
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self, ready_path: str, timeout: float = 60) -> Gunicorn:
        command = [
            sys.executable, "-m", "gunicorn", self.app,
            "--workers", str(self.workers), "--worker-class", "sync",
            "--bind", f"{self.host}:{self.port}", "--timeout", "60", "--graceful-timeout", "5",
            "--log-level", "warning", "--error-logfile", str(self.log_path),
        ]
        self.process = subprocess.Popen(command, cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited ({self.process.returncode}); see {self.log_path}")
            if len(self.worker_pids()) >= self.workers and self._answers(ready_path):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {self.app} did not answer {ready_path} within {timeout} s; see {self.log_path}")

    def _get(self, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse | None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            response.read()
            return response
        except OSError:
            return None
        finally:
            connection.close()

    def _answers(self, path: str, headers: dict[str, str] | None = None) -> bool:
        response = self._get(path, headers)
        return response is not None and response.status == 200

    def etag(self, path: str) -> str:
        """The ETag `path` answers with now, for a scenario of conditional requests."""
        response = self._get(path)
        if response is None or not response.getheader("ETag"):
            raise RuntimeError(f"GET {path} gave no ETag; see {self.log_path}")
        return response.getheader("ETag")

    def warm(self, path: str, count: int, headers: dict[str, str] | None = None) -> None:
        """GET `path` `count` times, so each worker has loaded its templates and opened its pool.

        Only a 200 will do: a staff page answering a redirect to the sign-in would be measured as a success.
        """
        for _ in range(count):
            if not self._answers(path, headers):
                raise RuntimeError(f"warm-up GET {path} did not answer 200; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def cpu(self) -> dict[int, float]:
        """CPU seconds of the master and each worker, by pid."""
        times = {}
        for pid in [self.process.pid, *self.worker_pids()]:
            value = cpu_seconds(pid)
            if value is not None:
                times[pid] = value
        return times

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class PostgresBackends:
    """CPU of the PostgreSQL server processes serving one database (found in pg_stat_activity)."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        self.database = sa.make_url(normalise_url(url)).database

    def cpu(self) -> dict[int, float]:
        with self.engine.connect() as connection:
            pids = connection.scalars(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                {"d": self.database}).all()
        times = {}
        for pid in pids:
            value = cpu_seconds(pid)
            if value is not None:
                times[pid] = value
        return times

    def close(self) -> None:
        self.engine.dispose()


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> tuple[float, list[int]]:
    """Seconds spent between two readings; processes that appeared count whole, vanished ones are listed."""
    spent = sum(value - before.get(pid, 0.0) for pid, value in after.items())
    return spent, sorted(set(before) - set(after))


def settle(server: Gunicorn, limit: float = 3.0) -> dict[int, float]:
    """The server's CPU once its workers stop spending (requests queued by a client that left)."""
    deadline = time.monotonic() + limit
    previous = server.cpu()
    while time.monotonic() < deadline:
        time.sleep(0.15)
        current = server.cpu()
        if current == previous:
            return current
        previous = current
    return previous
