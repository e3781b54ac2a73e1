"""Benchmark 2: the inbox at scale.

    .venv/bin/python bench/inbox_scale.py [--conversations 100000] [--messages 2000000] [--customers 200000]
                                          [--repeat 30] [--regenerate] [--explain-out FILE] [--json FILE]
                                          [--database inbox_bench]

Fills the benchmark's own PostgreSQL database (`inbox_bench`, or --database; created and migrated if missing) with COPY:
conversations (and their contacts) over 5 channels (3 Facebook pages, 2 LINE accounts), messages (about 20 a
chat, newest last; one chat of 5,000, the one the chat cases open), tags, 20 agents, and customers when the customers app has its model
(half the chats bound to one, 30% of them with one of 30 member tags). Data already at
that size is reused (--regenerate rebuilds it). Then it requests, in-process through Django's full stack
as a signed-in agent, the conversation-list API for every tab, view, assignee filter, search, the
"closing soon" sort and a second page, and the chat (API timeline and the inbox page with a chat open):
p50/p95 over --repeat runs and the SQL queries per request; and EXPLAIN (ANALYZE, BUFFERS) of each list
query, flagging sequential scans of the big tables.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ensure_database, machine, ms, use_bench_env  # noqa: E402

BIG_TABLES = ("inbox_conversation", "inbox_message", "inbox_contact", "customers_customer")
LONG_CHAT = 5_000  # messages in conversation 1, the chat the chat cases open


def copy_rows(cursor, model, rows, fields: list[str]) -> None:
    """COPY `rows` (tuples in the order of `fields`, attribute names) into the model's table."""
    meta = model._meta
    columns = ", ".join(meta.get_field(f).column for f in fields)
    with cursor.copy(f"COPY {meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def defaults_for(model, given: set[str]) -> dict[str, object]:
    """Every other concrete, non-null column's default, so the generator survives new fields in other apps."""
    out = {}
    for field in model._meta.concrete_fields:
        if field.attname in given or field.primary_key:
            continue
        if field.null:
            continue
        default = field.get_default()
        if default is None or callable(default):
            default = {"JSONField": "{}"}.get(field.get_internal_type(), default)
        if isinstance(default, (dict, list)):
            default = json.dumps(default)
        out[field.attname] = default
    return out


def generate(args) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.utils import timezone

    from inbox.models import Contact, Conversation, Message, Tag
    from integrations import services as channel_services

    rnd = random.Random(42)
    now = timezone.now()
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE inbox_message, inbox_conversation_tags, inbox_conversation, inbox_contact, inbox_tag, inbox_inboxevent, "
            "integrations_webhookreceipt, integrations_channel RESTART IDENTITY CASCADE"
        )
    channels = [
        channel_services.messenger_channel_add(name=f"Page {n}", page_id=f"10400000000{n:04d}", app_secret="s", verify_token="v",
                                               access_token="t", secondary=n > 0)
        for n in range(3)
    ] + [
        channel_services.line_channel_add(name=f"LINE {n}", channel_id=f"20000{n:05d}", channel_secret="s", access_token="t",
                                          destination="U" + f"{n:x}" * 32)
        for n in range(2)
    ]
    agents_group = Group.objects.get_or_create(name="agents")[0]
    agents = []
    for n in range(20):
        user, _ = User.objects.get_or_create(username=f"agent{n:02d}")
        user.groups.add(agents_group)
        agents.append(user.pk)
    tags = Tag.objects.bulk_create([Tag(name=f"tag-{n:02d}") for n in range(50)])

    n_conv, per_conv = args.conversations, max(1, args.messages // args.conversations)
    contact_fields = ["id", "channel_id", "platform_user_id", "display_name", "avatar_url", "language", "is_following", "profile_error", "created_at"]
    conv_fields = [
        "id", "channel_id", "contact_id", "status", "assignee_id", "starred", "star_due_at", "note", "unread_count",
        "last_inbound_at", "last_message_at", "activity_at", "last_reply_at", "last_message_id", "reply_token", "created_at",
    ]
    msg_fields = [
        "id", "conversation_id", "channel_id", "direction", "source", "kind", "text", "attachments", "platform_message_id",
        "part_ids", "state", "error", "decision", "reply_token", "attempts", "platform_timestamp", "created_at",
    ]
    names = ["王小明", "陳美麗", "林志玲", "張大千", "李小龍", "Amy Chen", "Ben Lin", "Cathy Wu", "David Ho", "Eva Tsai"]
    words = ["請問", "還有貨嗎", "運費多少", "可以貨到付款嗎", "謝謝", "好的", "我要訂", "尺寸", "顏色", "什麼時候出貨"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        conv_rows, contact_rows, tag_rows = [], [], []
        message_id = 0

        def messages():
            nonlocal message_id
            for conv in range(1, n_conv + 1):
                channel = channels[conv % len(channels)]
                last = now - dt.timedelta(minutes=rnd.randint(1, 90 * 24 * 60))
                # Conversation 1 is a long chat (a regular customer over months): the chat view must not grow with it.
                count = LONG_CHAT if conv == 1 else max(1, int(rnd.gauss(per_conv, per_conv / 3)))
                start = last - dt.timedelta(minutes=count * 7)
                last_inbound = last_reply = None
                for k in range(count):
                    message_id += 1
                    at = start + dt.timedelta(minutes=7 * (k + 1)) if k < count - 1 else last
                    inbound = rnd.random() < 0.6 or k == 0
                    if inbound:
                        last_inbound = at
                    else:
                        last_reply = at
                    yield (
                        message_id, conv, channel.pk, "inbound" if inbound else "outbound", "customer" if inbound else "staff", "text",
                        f"{rnd.choice(words)} {rnd.choice(words)} #{message_id}", "[]", f"mid.{message_id}", "[]",
                        "received" if inbound else "read", "", "{}", "", 0, at, at,
                    )
                unread = rnd.randint(1, 5) if rnd.random() < 0.2 else 0
                starred = rnd.random() < 0.05
                assignee = None if rnd.random() < 0.3 else rnd.choice(agents)
                contact_rows.append((conv, channel.pk, f"user-{conv}", f"{rnd.choice(names)} {conv}", "", "", True, "", start))
                conv_rows.append((
                    conv, channel.pk, conv, "open", assignee, starred, (now + dt.timedelta(hours=rnd.randint(-48, 48))) if starred else None,
                    "", unread, last_inbound, last, last, last_reply, message_id, "", start,
                ))
                if rnd.random() < 0.1:
                    tag_rows.append((conv, rnd.choice(tags).pk))

        copy_rows(cursor, Message, messages(), msg_fields)
        print(f"  messages: {message_id:,} in {time.monotonic() - started:.0f} s", flush=True)
        copy_rows(cursor, Contact, contact_rows, contact_fields)
        copy_rows(cursor, Conversation, conv_rows, conv_fields)
        with cursor.copy("COPY inbox_conversation_tags (conversation_id, tag_id) FROM STDIN") as copy:
            for row in tag_rows:
                copy.write_row(row)
        for table in ("inbox_message", "inbox_contact", "inbox_conversation"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        print(f"  conversations and contacts: {n_conv:,} in {time.monotonic() - started:.0f} s", flush=True)
        generate_customers(cursor, args.customers, n_conv, rnd, now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum keeps up in production (visibility map, statistics)
    print(f"  generated in {time.monotonic() - started:.0f} s", flush=True)


def generate_customers(cursor, count: int, contacts: int, rnd, now) -> None:
    try:
        from customers.models import Customer
    except ImportError:
        print("  customers: the customers app has no Customer model yet: skipped")
        return
    cursor.execute("TRUNCATE customers_customer RESTART IDENTITY CASCADE")
    given = {"id", "name", "email", "phone", "credit_balance", "source", "created_at", "updated_at", "notes"}
    extra = defaults_for(Customer, given)
    fields = ["id", "name", "email", "phone", "credit_balance", "source", "created_at", "updated_at", "notes", *extra]

    def rows():
        for n in range(1, count + 1):
            created = now - dt.timedelta(minutes=rnd.randint(1, 365 * 24 * 60))
            yield (n, f"Customer {n}", f"c{n}@example.com" if n % 3 else "", f"+8869{n:08d}" if n % 2 else "", rnd.randint(0, 500),
                   "inbox", created, created, "", *extra.values())

    copy_rows(cursor, Customer, rows(), fields)
    cursor.execute("SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %s)", [count])
    print(f"  customers: {count:,}", flush=True)
    generate_bindings_and_member_tags(cursor, count, contacts, rnd, now)


def generate_bindings_and_member_tags(cursor, customers: int, contacts: int, rnd, now) -> None:
    """Half the chats bound to a member (contact k to customer k), 30 member tags, 30% of the members tagged: what
    the conversation search's member-tag side (`inbox.selectors._search`) reads."""
    from customers.models import ContactBinding, Customer, CustomerTag

    cursor.execute("TRUNCATE customers_customertag RESTART IDENTITY CASCADE")
    copy_rows(cursor, CustomerTag, ((n + 1, f"vip-{n:02d}") for n in range(30)), ["id", "name"])
    cursor.execute("SELECT setval(pg_get_serial_sequence('customers_customertag', 'id'), 30)")
    bound = [k for k in range(1, min(customers, contacts) + 1) if k % 2]
    copy_rows(cursor, ContactBinding, ((k, k, None, now) for k in bound), ["contact_id", "customer_id", "bound_by_id", "bound_at"])
    through = Customer.tags.through._meta
    with cursor.copy(f"COPY {through.db_table} (customer_id, customertag_id) FROM STDIN") as copy:
        for customer in range(1, customers + 1):
            if rnd.random() < 0.3:
                copy.write_row((customer, rnd.randint(1, 30)))
    print(f"  bindings: {len(bound):,}; member tags: 30", flush=True)


def sized(args) -> bool:
    from inbox.models import Conversation, Message

    return (
        Conversation.objects.count() == args.conversations
        and Message.objects.count() >= args.messages * 0.9
        and Message.objects.filter(conversation_id=1).count() >= LONG_CHAT  # data from before the long chat: rebuilt
        and _has_bindings()  # data from before the member-tag search: rebuilt
    )


def _has_bindings() -> bool:
    try:
        from customers.models import ContactBinding
    except ImportError:
        return True
    return ContactBinding.objects.exists()


def cases(agent_id: int, page_id: int, line_id: int, big_conversation: int) -> list[tuple[str, str]]:
    out = []
    for tab, channel in (("all", None), ("page", page_id), ("line", line_id)):
        for view in ("all", "unread", "read", "starred", "needs_reply"):
            query = f"view={view}" + (f"&channel={channel}" if channel else "")
            out.append((f"list tab={tab} view={view}", f"/api/v1/conversations/?{query}"))
    for assignee in ("me", "none", str(agent_id)):
        out.append((f"list assignee={assignee}", f"/api/v1/conversations/?assignee={assignee}"))
        out.append((f"list tab=page assignee={assignee} view=unread", f"/api/v1/conversations/?assignee={assignee}&channel={page_id}&view=unread"))
    out += [
        ("list search name (common)", "/api/v1/conversations/?q=" + "王小明"),
        ("list search name (rare)", "/api/v1/conversations/?q=" + "Cathy%20Wu%2099999"),
        ("list search tag", "/api/v1/conversations/?q=tag-07"),
        ("list search member tag", "/api/v1/conversations/?q=vip-07"),
        ("list sort=closing", "/api/v1/conversations/?sort=closing"),
        ("list page 2 (cursor)", None),
        ("chat: API timeline", f"/api/v1/conversations/{big_conversation}/messages/"),
        ("chat: API conversation", f"/api/v1/conversations/{big_conversation}/"),
        ("chat: inbox page with the chat open", f"/inbox/c/{big_conversation}/"),
        ("inbox page (list)", "/inbox/"),
    ]
    return out


def measure(args) -> tuple[list[dict], list[dict]]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inbox.models import Conversation, Message
    from integrations.models import Channel

    agent = User.objects.get(username="agent00")
    colleague = User.objects.get(username="agent01")  # "assignee=<id>": someone else's conversations
    client = Client()
    client.force_login(agent)
    page = Channel.objects.filter(platform="messenger").order_by("pk").first()
    line = Channel.objects.filter(platform="line").order_by("pk").first()
    big = Message.objects.values("conversation_id").annotate(n=Count("id")).order_by("-n").first()["conversation_id"]
    first_page = client.get("/api/v1/conversations/").json()
    results, plans = [], []
    for name, url in cases(colleague.pk, page.pk, line.pk, big):
        url = url or first_page["next"].replace("http://testserver", "")
        for _ in range(3):
            client.get(url)  # warm caches
        times, queries = [], set()
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
            queries.add(len(captured))
            assert response.status_code == 200, (url, response.status_code)
        data = response.json() if response["Content-Type"].startswith("application/json") else {}
        rows = len(data["results"]) if isinstance(data, dict) and "results" in data else None
        results.append({"case": name, "url": url, "p50_ms": float(ms(times, 50)), "p95_ms": float(ms(times, 95)),
                        "queries": sorted(queries), "rows": rows})
        print(f"  {name:45s} p50 {ms(times, 50):>6} ms  p95 {ms(times, 95):>6} ms  queries {sorted(queries)}", flush=True)
        if name.startswith("list") or name.startswith("chat: API timeline"):
            table = '"inbox_message"' if name.startswith("chat") else '"inbox_conversation"'
            main_query = max(captured.captured_queries, key=lambda q: (f"FROM {table}" in q["sql"] and "ORDER BY" in q["sql"], len(q["sql"])))
            plans.append(explain(name, main_query["sql"]))
        if name == "list tab=all view=all":
            counts = next(q for q in captured.captured_queries if "COUNT(" in q["sql"] and "unread_count" in q["sql"])
            plans.append(explain("unread counts (every list request and event)", counts["sql"]))
    return results, plans


def explain(name: str, sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    seq = [t for t in BIG_TABLES if f"Seq Scan on {t}" in plan]
    indexes = sorted(set(re.findall(r"(?: using|Bitmap Index Scan on) (\w+)", plan)))
    return {"case": name, "sql": sql, "plan": plan, "seq_scans_of_big_tables": seq, "indexes": indexes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--explain-out", help="write every plan (JSON) here")
    parser.add_argument("--json", help="also write the timings here")
    parser.add_argument("--database", default="inbox_bench", help="the PostgreSQL database to fill and measure (default inbox_bench)")
    args = parser.parse_args()

    use_bench_env(args.database)
    ensure_database()
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    print("== Benchmark 2: the inbox at scale ==")
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
    print("load average before the run (other work on the machine):", " ".join(open("/proc/loadavg").read().split()[:3]))
    if args.regenerate or not sized(args):
        print(f"generating {args.conversations:,} conversations, {args.messages:,} messages, {args.customers:,} customers with COPY ...", flush=True)
        generate(args)
    else:
        print("data already at size: reused (--regenerate to rebuild)")
    print(f"\nrequests (in-process, full Django stack, signed-in agent; {args.repeat} runs each after 3 warm-ups):")
    results, plans = measure(args)
    print("\nEXPLAIN (ANALYZE) of each list query: sequential scans of the big tables")
    for plan in plans:
        print(f"  {plan['case']:45s} {', '.join(plan['seq_scans_of_big_tables']) or 'none (indexes only)'}")
    print("\nindexes each plan reads:")
    for plan in plans:
        print(f"  {plan['case']:45s} {', '.join(plan['indexes'])}")
    rare = next((p for p in plans if p["case"] == "list search name (rare)"), None)
    if rare is not None:
        # A rare name can only be found fast through the trigram index (migration 0003, PostgreSQL).
        print(f"search by a rare name reads the trigram index contact_name_trgm_idx: {'yes' if 'contact_name_trgm_idx' in rare['indexes'] else 'NO'}")
    worst = max(r["p95_ms"] for r in results)
    varying = [r["case"] for r in results if len(r["queries"]) > 1]
    print(f"\nworst p95: {worst:.1f} ms (target 50 ms); query count constant per request: {'yes' if not varying else 'no: ' + ', '.join(varying)}")
    if args.explain_out:
        Path(args.explain_out).write_text(json.dumps(plans, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "machine": machine(), "results": results}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
