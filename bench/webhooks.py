"""Benchmark 1: webhook ingestion under load.

    .venv/bin/python bench/webhooks.py [--rates 200,400,800,1200] [--seconds 10] [--web-processes 2] [--worker-concurrency 6] [--worker-nice 0]

Starts, on this machine: daphne (the app, `bench.settings`; `--web-processes` processes accepting from one shared
listening socket, as production runs them: docs/scaling.md), a Celery worker (prefork) on Redis, both on the
benchmark's own PostgreSQL database (`inbox_bench_webhooks`, created and migrated if missing) and Redis database 12.
Then a load generator in another process sends signed Messenger and LINE webhooks over loopback (keep-alive
HTTP/1.1, several events per delivery as the platforms batch them, mixed event types, 5% of deliveries sent
twice) while a staff inbox websocket is connected. It reports:

- the bare ceiling: a view on the same server, served like the webhooks, that only checks the signature and
  answers 200, at saturation (and the same view through Django's standard ASGI handler, as other pages are
  served), and the real webhook at saturation, as a ratio of the bare ceiling;
- for each target rate (events/s, open loop): achieved events/s, ACK latency p50/p95/p99, and end-to-end
  latency (webhook sent -> its message frame received by the websocket) p50/p95;
- exactly once: every event stored once, processed once, shown once; duplicates absorbed; nothing lost.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, bench_env, ensure_database, machine, ms, percentile, use_bench_env  # noqa: E402

PAGE_ID = "104000000000500"
APP_SECRET = "bench-app-secret"
LINE_DEST = "U" + "5" * 32
LINE_SECRET = "bench-line-secret"
BARE_SECRET = "bench-bare-secret"
DATABASE = "inbox_bench_webhooks"  # its own: benchmark 2's 100,000 chats stay where they are


# --- The load generator's side (its own process; no Django) ------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection to the app."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length, closing = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            if name.lower() == "connection" and "close" in value.lower():
                closing = True
        if length:
            await self.reader.readexactly(length)
        if closing:
            self.writer.close()
            await self.open()
        return int(status_line.split()[1])


class Deliveries:
    """Signed webhook deliveries: Messenger and LINE alternately, 1-3 events each, mixed types; each
    message-bearing event carries a token in its text so its websocket frame can be matched."""

    def __init__(self, cfg: dict, seed: int = 7):
        self.cfg = cfg
        self.random = random.Random(seed)
        self.n = 0
        self.sent: list[tuple[str, bytes, dict, int, list[str]]] = []  # for duplicates

    def token(self) -> str:
        self.n += 1
        return f"{self.cfg['run']}-{self.n}"

    def messenger(self, now_ms: int):
        tokens, events = [], []
        for _ in range(self.random.randint(1, 3)):
            psid = self.random.choice(self.cfg["psids"])
            base = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms}
            roll, token = self.random.random(), self.token()
            if roll < 0.7:
                events.append({**base, "message": {"mid": f"m_{token}", "text": f"bench {token}"}})
                tokens.append(token)
            elif roll < 0.8:
                events.append({**base, "postback": {"mid": f"m_{token}", "title": f"bench {token}", "payload": "BUY"}})
                tokens.append(token)
            elif roll < 0.9:
                events.append({**base, "read": {"watermark": now_ms + self.n}})
            else:
                events.append({**base, "delivery": {"watermark": now_ms + self.n}})
        body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": now_ms, "messaging": events}]}).encode()
        sig = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return "/webhooks/messenger/", body, {"X-Hub-Signature-256": sig}, len(events), tokens

    def line(self, now_ms: int):
        tokens, events = [], []
        for _ in range(self.random.randint(1, 3)):
            user = self.random.choice(self.cfg["line_users"])
            token = self.token()
            base = {
                "mode": "active", "timestamp": now_ms, "source": {"type": "user", "userId": user},
                "webhookEventId": f"01BENCH{token.replace('-', 'X')}", "deliveryContext": {"isRedelivery": False},
            }
            roll = self.random.random()
            if roll < 0.8:
                events.append({**base, "type": "message", "replyToken": f"rt{token}",
                               "message": {"id": f"9{self.n}", "type": "text", "text": f"bench {token}", "quoteToken": "q"}})
                tokens.append(token)
            elif roll < 0.9:
                events.append({**base, "type": "postback", "replyToken": f"rt{token}", "postback": {"data": f"bench {token}"}})
                tokens.append(token)
            else:
                events.append({**base, "type": "follow", "replyToken": f"rt{token}", "follow": {"isUnblocked": False}})
        body = json.dumps({"destination": LINE_DEST, "events": events}).encode()
        sig = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
        return f"/webhooks/line/{self.cfg['line_channel_id']}/", body, {"X-Line-Signature": sig}, len(events), tokens

    def next(self, duplicates: float):
        """(path, body, headers, events, tokens, is_duplicate)."""
        if self.sent and self.random.random() < duplicates:
            path, body, headers, count, _ = self.random.choice(self.sent[-500:])
            return path, body, headers, count, [], True
        now_ms = int(time.time() * 1000)
        made = self.messenger(now_ms) if self.n % 2 == 0 else self.line(now_ms)
        self.sent.append(made)
        return (*made, False)


class Websocket:
    """A staff inbox's socket: records when each message frame (matched by its token) arrived."""

    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie
        self.seen: dict[str, list[float]] = {}
        self.task = None

    async def start(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (f"GET /ws/inbox/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{self.port}\r\n"
             f"Cookie: sessionid={self.cookie}\r\n\r\n").encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 101 " not in status:
            raise RuntimeError(f"websocket refused: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        self.task = asyncio.create_task(self.read(reader, writer))

    async def read(self, reader, writer):
        token_re = re.compile(rb'"text": ?"bench ([0-9]+-[0-9]+)"')
        while True:
            head = await reader.readexactly(2)
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(length)
            now = time.time()
            if opcode == 0x9:  # ping -> pong (client frames are masked)
                mask = os.urandom(4)
                writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            elif opcode == 0x8:
                return
            elif opcode == 0x1 and (b'"op": "add"' in payload[:200] or b'"op":"add"' in payload[:200]):
                # Only the message itself: the frame's conversation part may name another message (its last one).
                for token in set(token_re.findall(payload.split(b'"conversation"', 1)[0])):
                    self.seen.setdefault(token.decode(), []).append(now)


async def saturate(port: int, path_and_body, seconds: float, connections: int) -> dict:
    """Closed loop: `connections` clients send back to back for `seconds`."""
    latencies, errors, events = [], 0, 0
    deadline = time.monotonic() + seconds

    async def client():
        nonlocal errors, events
        conn = await Connection(port).open()
        while time.monotonic() < deadline:
            path, body, headers, count = path_and_body()
            start = time.monotonic()
            status = await conn.post(path, body, headers)
            latencies.append(time.monotonic() - start)
            if status == 200:
                events += count
            else:
                errors += 1

    start = time.monotonic()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.monotonic() - start
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "eps": events / elapsed, "errors": errors,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


async def open_loop(port: int, deliveries: Deliveries, rate: float, seconds: float, duplicates: float, max_conns: int, sent_at: dict):
    """Deliveries scheduled to add up to `rate` events/s (average 2 events each), whatever the answers take."""
    idle: asyncio.Queue = asyncio.Queue()
    opened = 0
    latencies, statuses = [], {}
    events = duplicate_events = unique_events = 0
    pending = set()
    request_rate = rate / 2.0
    total = int(request_rate * seconds)
    start = time.monotonic()

    async def send(item):
        nonlocal opened, events
        path, body, headers, count, tokens, dup = item
        if idle.empty() and opened < max_conns:
            opened += 1
            conn = await Connection(port).open()
        else:
            conn = await idle.get()
        sent = time.time()
        for token in tokens:
            sent_at[token] = sent
        t0 = time.monotonic()
        status = await conn.post(path, body, headers)
        latencies.append(time.monotonic() - t0)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            events += count
        idle.put_nowait(conn)

    for i in range(total):
        delay = start + i / request_rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        item = deliveries.next(duplicates)
        if item[5]:
            duplicate_events += item[3]
        else:
            unique_events += item[3]
        task = asyncio.create_task(send(item))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    elapsed = time.monotonic() - start
    return {
        "target_eps": rate, "seconds": elapsed, "requests": total, "events": events, "eps": events / elapsed,
        "unique_events": unique_events, "duplicate_events": duplicate_events, "statuses": statuses,
        "ack_p50": percentile(latencies, 50), "ack_p95": percentile(latencies, 95), "ack_p99": percentile(latencies, 99),
        "connections": opened,
    }


def loadgen(cfg: dict, out) -> None:
    """The load generator process: bare ceiling, webhook ceiling, then each rate with the socket listening."""

    async def main():
        deliveries = Deliveries(cfg)
        port = cfg["port"]
        bare_body = b'{"object":"page","entry":[]}'
        bare_headers = {"X-Hub-Signature-256": "sha256=" + hmac.new(BARE_SECRET.encode(), bare_body, hashlib.sha256).hexdigest()}
        result = {"saturation": {}, "rates": [], "unique_events": 0, "duplicate_events": 0}
        # The bare view served as the webhooks are (config.asgi's webhook handler), then by Django's standard handler.
        result["saturation"]["bare"] = await saturate(port, lambda: ("/webhooks/bench-bare/", bare_body, bare_headers, 0), cfg["saturation_seconds"], cfg["connections"])
        result["saturation"]["bare_standard"] = await saturate(port, lambda: ("/bench/bare/", bare_body, bare_headers, 0), cfg["saturation_seconds"], cfg["connections"])

        def real():
            path, body, headers, count, tokens, dup = deliveries.next(0.0)
            result["unique_events"] += count
            result["tokens_saturation"] = result.get("tokens_saturation", 0) + len(tokens)
            return path, body, headers, count

        result["saturation"]["webhook"] = await saturate(port, real, cfg["saturation_seconds"], cfg["connections"])
        await asyncio.sleep(cfg["drain_seconds"])  # let the worker catch up before the timed rates

        socket = Websocket(port, cfg["session"])
        await socket.start()
        for rate in cfg["rates"]:
            sent_at: dict[str, float] = {}
            phase = await open_loop(port, deliveries, rate, cfg["seconds"], cfg["duplicates"], cfg["connections"], sent_at)
            result["unique_events"] += phase["unique_events"]
            result["duplicate_events"] += phase["duplicate_events"]
            deadline = time.monotonic() + cfg["drain_seconds"]
            while time.monotonic() < deadline and not all(t in socket.seen for t in sent_at):
                await asyncio.sleep(0.2)
            e2e = [socket.seen[t][0] - sent_at[t] for t in sent_at if t in socket.seen]
            phase.update(
                e2e_p50=percentile(e2e, 50), e2e_p95=percentile(e2e, 95), e2e_p99=percentile(e2e, 99),
                frames_expected=len(sent_at), frames_missing=sum(1 for t in sent_at if t not in socket.seen),
                frames_duplicated=sum(1 for t in sent_at if len(socket.seen.get(t, [])) > 1),
            )
            result["rates"].append(phase)
        result["tokens_timed"] = sum(p["frames_expected"] for p in result["rates"])
        out.send(result)

    asyncio.run(main())


# --- The conductor (this process): set up, start the servers, run the load, check exactly once ------------


def setup_data(customers: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from inbox.models import Contact, Conversation
    from integrations import services as channel_services

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE integrations_webhookreceipt, inbox_message, inbox_conversation_tags, inbox_conversation, inbox_contact, "
            "inbox_inboxevent, integrations_channel RESTART IDENTITY CASCADE"
        )
    page = channel_services.messenger_channel_add(
        name="Bench page", page_id=PAGE_ID, app_secret=APP_SECRET, verify_token="v", access_token="T", app_id="1"
    )
    line = channel_services.line_channel_add(name="Bench LINE", channel_id="2000000500", channel_secret=LINE_SECRET, access_token="T", destination=LINE_DEST)
    psids = [f"70000{n:011d}" for n in range(customers)]
    line_users = [f"U{n:032x}" for n in range(customers)]
    # Existing chats (a campaign's customers mostly wrote before): no profile look-ups in the timed path.
    for channel, ids in ((page, psids), (line, line_users)):
        contacts = Contact.objects.bulk_create(
            [Contact(channel=channel, platform_user_id=uid, display_name=f"Customer {uid[-4:]}") for uid in ids], batch_size=2000
        )
        Conversation.objects.bulk_create([Conversation(channel=channel, contact=c) for c in contacts], batch_size=2000)
    user, _ = User.objects.get_or_create(username="bench-agent")
    user.groups.add(Group.objects.get_or_create(name="agents")[0])
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return {"line_channel_id": line.pk, "psids": psids, "line_users": line_users, "session": session.session_key}


def start(cmd: list[str], log: Path, pass_fds: tuple[int, ...] = (), **env: str) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=bench_env(DATABASE, **env), stdout=open(log, "w"), stderr=subprocess.STDOUT, pass_fds=pass_fds)


def listening_socket(port: int):
    """The port the web processes share: each daphne accepts from it (`--fd`), the kernel spreads connections."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def wait_web(port: int, logs: list[Path], timeout: float = 90) -> None:
    """Until every web process has answered a request (each writes an access-log line): the shared socket
    accepts connections before they are all ready."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("/webhooks/bench-bare/" in log.read_text(errors="replace") for log in logs):
            return
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/webhooks/bench-bare/", timeout=5).close()
        except urllib.error.HTTPError:
            pass  # 403: unsigned, as expected
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the web processes did not start")


def wait_log(log: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.3)
    raise RuntimeError(f"{log.name}: no {text!r}:\n{log.read_text(errors='replace')[-3000:]}")


def exactly_once(result: dict, settle_seconds: float) -> dict:
    from django.db.models import Count

    from inbox.models import InboxEvent, Message
    from integrations.models import WebhookReceipt

    # The worker may be behind when the load stops: wait for it, and measure how fast it drains.
    start, backlog = time.monotonic(), WebhookReceipt.objects.filter(status="received").count()
    deadline = start + settle_seconds
    while time.monotonic() < deadline and WebhookReceipt.objects.filter(status="received").exists():
        time.sleep(0.5)
    drained = backlog - WebhookReceipt.objects.filter(status="received").count()
    drain_rate = drained / (time.monotonic() - start) if backlog else None
    receipts = WebhookReceipt.objects.count()
    by_status = dict(WebhookReceipt.objects.values_list("status").annotate(n=Count("id")))
    doubled_receipts = WebhookReceipt.objects.values("platform", "dedupe_key").annotate(n=Count("id")).filter(n__gt=1).count()
    bench_messages = Message.objects.filter(text__startswith="bench ")
    doubled_messages = bench_messages.values("text").annotate(n=Count("id")).filter(n__gt=1).count()
    added = InboxEvent.objects.filter(payload__type="message", payload__op="add").count()
    expected_messages = result["tokens_timed"] + result.get("tokens_saturation", 0)
    return {
        "backlog_when_load_stopped": backlog,
        "worker_drain_events_per_s": round(drain_rate, 1) if drain_rate else None,
        "events_sent_unique": result["unique_events"],
        "events_sent_duplicate": result["duplicate_events"],
        "receipts": receipts,
        "receipts_by_status": by_status,
        "receipts_stored_twice": doubled_receipts,
        "messages_expected": expected_messages,
        "messages": bench_messages.count(),
        "messages_stored_twice": doubled_messages,
        "message_events_published": added,
        "ok": receipts == result["unique_events"] and doubled_receipts == 0 and doubled_messages == 0
        and bench_messages.count() == expected_messages and by_status.get("processed", 0) == receipts and added == expected_messages,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="200,400,800,1200", help="events/s, comma-separated, in order")
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--saturation-seconds", type=float, default=8.0)
    parser.add_argument("--duplicates", type=float, default=0.05)
    parser.add_argument("--settle-seconds", type=float, default=600, help="how long to wait for the worker's backlog")
    parser.add_argument("--customers", type=int, default=2000, help="per platform")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections of the load generator")
    parser.add_argument("--web-processes", type=int, default=2, help="daphne processes sharing the port")
    parser.add_argument("--worker-concurrency", type=int, default=6, help="Celery prefork processes (3 per core: they wait on PostgreSQL)")
    parser.add_argument(
        "--worker-nice", type=int, default=0,
        help="run the worker at this CPU niceness (e.g. 10: the ACKs get the cores first when both compete)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    use_bench_env(DATABASE)
    ensure_database()
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # the benchmark's own Redis database only
    data = setup_data(args.customers)
    logs = Path(tempfile.gettempdir()) / "inbox-bench-logs"  # daphne's and the worker's output, if something fails
    logs.mkdir(exist_ok=True)
    sock = listening_socket(args.port)
    webs = [
        start([sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "config.asgi:application"], logs / f"daphne-{n}.log", pass_fds=(sock.fileno(),))
        for n in range(args.web_processes)
    ]
    worker = start(
        [*(["nice", "-n", str(args.worker_nice)] if args.worker_nice else []),
         sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "--pool", "prefork", "-c", str(args.worker_concurrency),
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "bench@%h"],
        logs / "worker.log",
        DB_CONN_MAX_AGE="600",  # worker processes are long-lived: keep their connection
    )
    try:
        wait_web(args.port, [logs / f"daphne-{n}.log" for n in range(args.web_processes)])
        wait_log(logs / "worker.log", "ready.")
        cfg = {
            **data, "port": args.port, "rates": [float(r) for r in args.rates.split(",")], "seconds": args.seconds,
            "saturation_seconds": args.saturation_seconds, "duplicates": args.duplicates, "connections": args.connections,
            "drain_seconds": 30.0, "run": str(int(time.time())),
        }
        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        generator = ctx.Process(target=loadgen, args=(cfg, send))
        generator.start()
        result = receive.recv()
        result["load_before"] = load_before
        generator.join()
        checks = exactly_once(result, settle_seconds=args.settle_seconds)
    finally:
        for process in (*webs, worker):
            process.terminate()
        sock.close()
        for process in (*webs, worker):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()

    report(args, result, checks)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "machine": machine(), "result": result, "exactly_once": checks}, indent=2))
    return 0 if checks["ok"] else 1


def report(args, result: dict, checks: dict) -> None:
    sat = result["saturation"]
    print("\n== Benchmark 1: webhook ingestion ==")
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
    print(
        f"set-up: daphne ({args.web_processes} process{'es' if args.web_processes > 1 else ''} sharing one listening socket) + celery worker (prefork x{args.worker_concurrency}{f', nice {args.worker_nice}' if args.worker_nice else ''}) + PostgreSQL + Redis on this machine; "
        f"load generator in another process over loopback, {args.connections} keep-alive connections; Messenger and LINE "
        f"alternately, 1-3 events per delivery (text 70-80%, postbacks, read/delivery receipts, follows), "
        f"{args.duplicates:.0%} of deliveries sent twice; {args.customers} customers per platform with existing chats; "
        "one staff websocket connected; DEBUG off; webhooks served by config.asgi's webhook handler (WEBHOOK_THREADS threads "
        "per process keeping their PostgreSQL connections), other pages by Django's standard ASGI handler (DB_CONN_MAX_AGE=0); "
        f"the worker keeps its connections; load average before the run (other work on the machine): {result['load_before']}."
    )
    print(f"\nsaturation ({args.saturation_seconds:.0f} s, closed loop):")
    print(f"  bare signature-only endpoint: {sat['bare']['rps']:.0f} requests/s (p50 {sat['bare']['p50']*1000:.1f} ms, p99 {sat['bare']['p99']*1000:.1f} ms)")
    print(
        f"  the same bare view through Django's standard ASGI handler (as other pages): {sat['bare_standard']['rps']:.0f} requests/s "
        f"(p50 {sat['bare_standard']['p50']*1000:.1f} ms, p99 {sat['bare_standard']['p99']*1000:.1f} ms)"
    )
    print(
        f"  real webhook (verify+store+enqueue): {sat['webhook']['rps']:.0f} requests/s = {sat['webhook']['eps']:.0f} events/s "
        f"(p50 {sat['webhook']['p50']*1000:.1f} ms, p99 {sat['webhook']['p99']*1000:.1f} ms, errors {sat['webhook']['errors']})"
    )
    print(f"  ratio (requests/s): {sat['webhook']['rps'] / sat['bare']['rps']:.2f} of the bare endpoint")
    print(f"\nopen loop, {args.seconds:.0f} s per rate (ACK = webhook answered; e2e = sent -> message frame on the websocket):")
    print("  target ev/s | achieved ev/s | ACK p50 / p95 / p99 ms | e2e p50 / p95 / p99 ms | frames missing/dup | statuses")
    for r in result["rates"]:
        print(
            f"  {r['target_eps']:>10.0f} | {r['eps']:>13.0f} | {r['ack_p50']*1000:6.1f} / {r['ack_p95']*1000:6.1f} / {r['ack_p99']*1000:6.1f} "
            f"| {r['e2e_p50']*1000:7.1f} / {r['e2e_p95']*1000:7.1f} / {r['e2e_p99']*1000:7.1f} | {r['frames_missing']}/{r['frames_duplicated']} "
            f"| {r['statuses']}"
        )
    print("\nexactly once:", json.dumps(checks))
    print("result:", "OK" if checks["ok"] else "FAILED")


if __name__ == "__main__":
    sys.exit(main())
