"""The Celery worker alone: how fast it drains a backlog of stored webhook events (benchmark 1's worker share).

    .venv/bin/python bench/worker_drain.py [--events 3000] [--per-task 2] [--concurrency 6]

Stores `--events` inbound texts from existing customers (benchmark 1's data: 2,000 per platform, database
inbox_bench_webhooks, Redis db 12) as the webhook does, queues them `--per-task` receipts per task as the web
processes do, then starts a real `celery worker` (prefork, `--concurrency` processes) and times it from its first
processed receipt until none is left. Nothing else runs: no web processes, no load generator, no websocket.
Prints events/s and the machine it ran on.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ensure_database, machine, use_bench_env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--per-task", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=6)
    args = parser.parse_args()

    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    use_bench_env("inbox_bench_webhooks")
    ensure_database()
    import redis

    from bench.webhooks import setup_data, start

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # the benchmark's own Redis database only
    data = setup_data(2000)
    from integrations import queueing, receipts
    from integrations.messenger import parse
    from integrations.models import Channel, WebhookReceipt

    page = Channel.objects.get(platform="messenger")
    rnd, now = random.Random(1), int(time.time() * 1000)
    ids: list[int] = []
    for n in range(args.events):
        body = {"object": "page", "entry": [{"id": page.external_id, "time": now, "messaging": [{
            "sender": {"id": rnd.choice(data["psids"])}, "recipient": {"id": page.external_id}, "timestamp": now + n,
            "message": {"mid": f"m_drain_{now}_{n}", "text": f"drain {n}"},
        }]}]}
        ids += receipts.store_events(platform="messenger", events=[(page, e) for e in parse.parse_body(body)], headers={})
    for start_at in range(0, len(ids), args.per_task):
        queueing.publish(ids[start_at : start_at + args.per_task])

    log = Path(tempfile.gettempdir()) / "inbox-bench-logs" / "worker-drain.log"
    log.parent.mkdir(exist_ok=True)
    worker = start(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "--pool", "prefork", "-c", str(args.concurrency),
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "drain@%h"],
        log,
    )
    try:
        pending = WebhookReceipt.objects.filter(status=WebhookReceipt.Status.RECEIVED)
        while pending.count() == len(ids):
            time.sleep(0.02)
        began, left_then = time.monotonic(), pending.count()
        while pending.exists():
            time.sleep(0.05)
        took = time.monotonic() - began
    finally:
        worker.terminate()
        worker.wait(30)
    print("== Worker drain: a backlog of stored webhook events, the worker alone ==")
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
    print(f"load average before: {load_before}")
    print(f"set-up: {len(ids)} inbound texts stored and queued {args.per_task} per task; celery worker prefork x{args.concurrency}, "
          "log level info, connections kept; PostgreSQL and Redis on this machine; nothing else running")
    print(f"drained {left_then} events in {took:.2f} s = {left_then / took:.0f} events/s (timed from the first processed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
