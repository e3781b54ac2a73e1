"""Shared helpers for the reliability tests: waiting, pointing Celery at a broker of our choosing, and real
`celery worker` child processes."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app

# The reliability tests' broker lives in its own Redis database, so a short visibility timeout or a killed
# worker can never touch the tasks of another test run sharing the server.
RELIABILITY_REDIS_DB = 14


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def isolated_broker_url() -> str:
    """REDIS_URL with the reliability tests' own database number."""
    parts = urlsplit(os.environ["REDIS_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/{RELIABILITY_REDIS_DB}", parts.query, parts.fragment))


def unique_queue() -> str:
    return f"reliability-{uuid.uuid4().hex[:12]}"


def use_broker(url: str, *, queue: str | None = None, transport_options: dict | None = None) -> None:
    """Point the (already configured) Celery app at `url`, dropping pooled connections to the old one."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = transport_options or {}
    if queue:
        celery_app.conf.task_default_queue = queue
    # kombu keeps its pools in a registry keyed by connection URL: close and forget them all.
    kombu_pools.reset()
    celery_app._pool = None
    # The AMQP helper caches its queues, router and producer pool: let it be rebuilt from the new conf.
    celery_app.__dict__.pop("amqp", None)


ROOT = Path(__file__).resolve().parents[2]


def child_database_url() -> str:
    """The database pytest-django made for this run, as a URL a child process can use."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class WorkerProcess:
    """`celery worker` in a child process on the test's queue; its log is read to see what each task returned."""

    def __init__(
        self,
        tmp_path: Path,
        queue: str,
        *,
        stall_file: Path | None = None,
        visibility_timeout: int = 3600,
        env: dict[str, str] | None = None,
    ):
        self.log_path = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        extra_env = env
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.reliability.worker_settings",
            "DATABASE_URL": child_database_url(),
            # Nothing leaves the machine: platform calls (profile look-ups) hit a closed local port, unless
            # the test points them at its live sandbox (`env`).
            "GRAPH_API_BASE": "http://127.0.0.1:9/graph/v25.0",
            "LINE_API_BASE": "http://127.0.0.1:9/line",
            "LINE_DATA_API_BASE": "http://127.0.0.1:9/line-data",
            "PLATFORM_MAX_ATTEMPTS": "1",
            "SECRET_KEY": "reliability-test-worker",
            "RELIABILITY_BROKER_URL": isolated_broker_url(),
            "RELIABILITY_QUEUE": queue,
            "RELIABILITY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
        env.update(extra_env or {})
        env.pop("RELIABILITY_STALL_FILE", None)
        if stall_file is not None:
            env["RELIABILITY_STALL_FILE"] = str(stall_file)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue, "-l", "info",
             "-n", f"reliability-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        if not wait_for(lambda: "ready." in self.output() or self.process.poll() is not None, timeout=60):
            self.stop()
            raise RuntimeError("the worker did not start:\n" + self.output())
        if self.process.poll() is not None:
            raise RuntimeError("the worker exited:\n" + self.output())

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def results(self, task: str = "webhook_receipt_process") -> list[str]:
        """What each run of `task` (inbox.tasks.<name> / integrations.tasks.<name>) returned, in order."""
        return re.findall(task + r"\[[^\]]+\] succeeded in [\d.e-]+s: '(\w+)'", self.output())

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk (as the project's Redis): killed and
    started again, it is a real outage and a real restart, which the shared Redis of the suite can't be."""

    def __init__(self, tmp_path: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (CI starts the machine's Redis with it)")
        self.binary, self.dir = binary, tmp_path
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if not wait_for(self.answers, timeout=10):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
