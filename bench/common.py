"""What both benchmarks share: the environment they run in, their own database, figures, the machine."""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/inbox_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


def bench_env(database: str = "inbox_bench", **extra: str) -> dict[str, str]:
    """The environment of every process a benchmark starts: its own database and Redis database, production
    settings (no DEBUG: it would keep every SQL query in memory), and platform APIs on a closed local port
    (nothing leaves the machine)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL).rsplit("/", 1)[0] + "/" + database,
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY="benchmark-only-secret-key",
        DEBUG="0",
        CELERY_TASK_ALWAYS_EAGER="0",
        # Persistent connections leak under Django's standard ASGI handler (each request runs in its own thread,
        # which keeps its connection): those requests connect per request. The webhook routes' handler
        # (config.asgi) keeps one per thread of its own; the Celery worker (bench/webhooks.py) keeps them too.
        DB_CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
        GRAPH_API_BASE="http://127.0.0.1:9/graph/v25.0",
        LINE_API_BASE="http://127.0.0.1:9/line",
        LINE_DATA_API_BASE="http://127.0.0.1:9/line-data",
        PLATFORM_MAX_ATTEMPTS="1",
        SANDBOX_ENABLED="0",
        PYTHONPATH=str(ROOT),
    )
    env.pop("REQUIRE_REAL_SERVICES", None)
    env.update(extra)
    return env


def use_bench_env(database: str = "inbox_bench") -> None:
    os.environ.update(bench_env(database))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def ensure_database() -> None:
    """Create the benchmark's database when missing, then migrate it (never touches another database)."""
    import psycopg

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = urlunsplit((url.scheme.replace("postgres", "postgresql"), url.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=os.environ.copy(), check=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.1f}"


def machine() -> dict[str, str]:
    def first(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except Exception:  # noqa: BLE001 (a missing tool only leaves a blank)
            return "?"

    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_kb = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    import django

    return {
        "cpu": f"{os.cpu_count()} x {cpu}",
        "memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": first(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"]),
        "redis": first(["redis-server", "--version"]),
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
