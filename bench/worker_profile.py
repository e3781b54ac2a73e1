"""The worker's cost per inbound message event, measured in-process (no HTTP server, no Celery worker).

    .venv/bin/python bench/worker_profile.py [--database inbox_bench_worker] [--redis redis://127.0.0.1:6379/12]
                                             [--conversations 100000] [--messages 1000000] [--events 400]
                                             [--regenerate] [--cprofile N] [--json FILE]

Fills its own PostgreSQL database (benchmark 2's generator: conversations over 3 Facebook pages and 2 LINE
accounts, 20% unread; reused when already at size), then, serially, for each of --events deliveries: a text
from an existing customer (Messenger and LINE alternately, each into another conversation picked at random:
--into-read of them, 0.8 by default, read until then, so that the text makes them unread; the others unread) is parsed and stored as the webhook view stores it (not measured),
then `integrations.tasks.webhook_receipt_process` runs it, as the Celery worker does (measured): CPU time of
this process, wall time, SQL queries and their wall time, per event. The events are published to the Redis
channel layer (one staff browser's channel in the group, drained between deliveries, not measured).
--cprofile N prints the N functions with the most cumulative time.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import sys
import time
from argparse import Namespace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ensure_database, machine, median, percentile, use_bench_env  # noqa: E402


def sized(conversations: int) -> bool:
    from inbox.models import Conversation

    return Conversation.objects.count() == conversations


def deliveries(count: int, into_read: float, seed: int):
    """(platform, channel, body) of `count` one-text deliveries from existing customers, each to another
    conversation: a share `into_read` of them to conversations read until now (the text makes them unread), the
    others to conversations already unread; Messenger and LINE alternately."""
    from inbox.models import Conversation

    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000)
    base = Conversation.objects.select_related("channel", "contact").exclude(pk=1).order_by("?")  # not the long chat
    wanted = {(p, read): 0 for p in ("messenger", "line") for read in (True, False)}
    plan = []
    for n in range(count):
        key = (("messenger", "line")[n % 2], rnd.random() < into_read)
        wanted[key] += 1
        plan.append(key)
    picked = {
        key: list(base.filter(channel__platform=key[0]).filter(**({"unread_count": 0} if key[1] else {"unread_count__gt": 0}))[:k]) if k else []
        for key, k in wanted.items()
    }
    for n, key in enumerate(plan):
        conversation = picked[key].pop()
        platform, channel, user = key[0], conversation.channel, conversation.contact.platform_user_id
        text, ts = f"還有貨嗎 worker-profile {now_ms}-{n}", now_ms + n
        if platform == "messenger":
            body = {"object": "page", "entry": [{"id": channel.external_id, "time": ts, "messaging": [
                {"sender": {"id": user}, "recipient": {"id": channel.external_id}, "timestamp": ts,
                 "message": {"mid": f"m_wp_{now_ms}_{n}", "text": text}}]}]}
        else:
            body = {"destination": channel.line_destination, "events": [
                {"type": "message", "mode": "active", "timestamp": ts, "source": {"type": "user", "userId": user},
                 "webhookEventId": f"01WP{now_ms}{n:06d}", "deliveryContext": {"isRedelivery": False},
                 "replyToken": f"rt-{now_ms}-{n}", "message": {"id": f"{now_ms}{n:06d}", "type": "text", "text": text}}]}
        yield platform, channel, body


def store(platform: str, channel, body: dict) -> list[int]:
    """What the webhook view does before the ACK (parse, one INSERT): not measured."""
    from integrations import receipts
    from integrations.line import parse as line_parse
    from integrations.messenger import parse as messenger_parse

    parse = messenger_parse.parse_body if platform == "messenger" else line_parse.parse_body
    return receipts.store_events(platform=platform, events=[(channel, e) for e in parse(body)], headers={})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="inbox_bench_worker")
    parser.add_argument("--redis", default=None, help="Redis URL for the channel layer (default: BENCH_REDIS_URL or db 12)")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--into-read", type=float, default=0.8, help="share of the texts written into a read conversation (default 0.8)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--cprofile", type=int, default=0, help="print the N functions with the most cumulative time")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    import os

    if args.redis:
        os.environ["BENCH_REDIS_URL"] = args.redis
    use_bench_env(args.database)
    ensure_database()
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.inbox_scale import generate
    from inbox import events as inbox_events
    from inbox.models import Conversation
    from integrations.tasks import webhook_receipt_process

    print("== Worker profile: one inbound message event, in-process ==")
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
    print("load average before the run (other work on the machine):", " ".join(open("/proc/loadavg").read().split()[:3]))
    if args.regenerate or not sized(args.conversations):
        print(f"generating {args.conversations:,} conversations, {args.messages:,} messages with COPY ...", flush=True)
        generate(Namespace(conversations=args.conversations, messages=args.messages, customers=1))
    else:
        print("data already at size: reused (--regenerate to rebuild)")
    unread = Conversation.objects.filter(unread_count__gt=0).count()
    print(f"data: {Conversation.objects.count():,} conversations ({unread:,} unread), database {connection.settings_dict['NAME']}, "
          f"channel layer {os.environ['REDIS_URL']}")

    # One staff browser: a channel in the staff group (drained between deliveries, outside the measurement).
    loop, layer = inbox_events._publisher()  # the publisher's own loop and layer (a layer serves one loop)

    def on_loop(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(10)

    browser = on_loop(layer.new_channel())
    on_loop(layer.group_add(inbox_events.STAFF_GROUP, browser))

    def drain(expected: int) -> int:
        """Receive the `expected` frames (a missing one ends the wait after 5 s)."""
        async def go():
            got = 0
            try:
                while got < expected:
                    await asyncio.wait_for(layer.receive(browser), 5)
                    got += 1
            except asyncio.TimeoutError:
                pass
            return got
        return on_loop(go())

    items = list(deliveries(args.events + 20, args.into_read, args.seed))
    warm, measured = items[:20], items[20:]
    for platform, channel, body in warm:
        webhook_receipt_process(store(platform, channel, body))
    drain(len(warm))

    cpu, wall, queries, sql_ms, frames, became_unread = [], [], [], [], 0, 0
    by_statement: dict[str, list[float]] = {}
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None  # CPU time, not waits
    for platform, channel, body in measured:
        ids = store(platform, channel, body)
        before_unread = Conversation.objects.filter(contact__channel=channel, contact__platform_user_id=body_user(platform, body)).values_list("unread_count", flat=True).first()
        became_unread += before_unread == 0
        timed: list[tuple[str, float]] = []

        def timing(execute, sql, params, many, context):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timed.append((sql, (time.perf_counter() - t0) * 1000))

        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timing):
            if profiler:
                profiler.enable()
            c0, w0 = time.process_time(), time.perf_counter()
            outcome = webhook_receipt_process(ids)
            c1, w1 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.disable()
        assert outcome == "processed", outcome
        cpu.append(c1 - c0)
        wall.append(w1 - w0)
        queries.append(len(captured.captured_queries))
        sql_ms.append(sum(ms for _, ms in timed))
        for sql, ms in timed:
            by_statement.setdefault(statement_kind(sql), []).append(ms)
        frames += drain(1)

    n = len(measured)
    print(f"\n{n} deliveries of one text each, serially, after 20 warm-ups; {became_unread} of them made a read conversation unread")
    print(f"  CPU (this process)  per event: median {median(cpu) * 1000:.2f} ms, mean {sum(cpu) / n * 1000:.2f} ms")
    print(f"  wall                per event: median {median(wall) * 1000:.2f} ms, p95 {percentile(wall, 95) * 1000:.2f} ms")
    print(f"  SQL queries         per event: {sorted(set(queries))} (mean {sum(queries) / n:.2f}; BEGIN and COMMIT included)")
    print(f"  statements' wall    per event: median {median(sql_ms):.2f} ms, mean {sum(sql_ms) / n:.2f} ms (sent to answer read, in Django)")
    print(f"  frames received by the staff channel: {frames} (one per event: {'yes' if frames == n else 'NO'})")
    print("\nstatements (per event: count x mean wall ms each; BEGIN and COMMIT not timed):")
    for kind, times in sorted(by_statement.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {len(times) / n:5.2f} x {sum(times) / len(times):6.3f} ms  {kind}")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(args.cprofile)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        print("\ncProfile (CPU seconds; by cumulative, then by own time):\n" + out.getvalue())
    on_loop(layer.group_discard(inbox_events.STAFF_GROUP, browser))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "args": vars(args), "machine": machine(), "events": n, "became_unread": became_unread,
            "cpu_ms_median": median(cpu) * 1000, "cpu_ms_mean": sum(cpu) / n * 1000, "wall_ms_median": median(wall) * 1000,
            "queries": sorted(set(queries)), "sql_ms_median": median(sql_ms),
            "statements": {k: [len(v) / n, sum(v) / len(v)] for k, v in by_statement.items()},
        }, indent=2, ensure_ascii=False))
    return 0 if frames == n else 1


def body_user(platform: str, body: dict) -> str:
    if platform == "messenger":
        return body["entry"][0]["messaging"][0]["sender"]["id"]
    return body["events"][0]["source"]["userId"]


def statement_kind(sql: str) -> str:
    """A statement's first words and table: 'UPDATE inbox_conversation', 'SELECT ... FROM inbox_message'."""
    words = sql.replace('"', "").split()
    if not words:
        return "?"
    verb = words[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    upper = [w.upper() for w in words]
    key = {"UPDATE": "UPDATE", "INSERT": "INTO"}.get(verb, "FROM")
    target = words[upper.index(key) + 1] if key in upper[:-1] else ""
    if verb == "SELECT" and "COUNT(" in sql.upper():
        verb = "SELECT COUNT"
    if verb == "SELECT" and "FOR UPDATE" in sql.upper():
        target += " FOR UPDATE"
    return f"{verb} {target}".strip()


if __name__ == "__main__":
    sys.exit(main())
