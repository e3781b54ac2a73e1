"""Benchmark 3: pricing.

    .venv/bin/python bench/pricing.py [--quotes 2000] [--buyers 20] [--stock 300]

(a) The pricing engine (`orders.pricing.quote`, pure: no database), in this process: microseconds per quote,
    mean, p50 and p99 over `--quotes` quotes, for a 50-line cart with 10 active promotions (8 item promotions
    of the three kinds aimed at overlapping tags, 2 order promotions) plus a coupon, a custom discount, store
    credit, shipping and per-product tax; then the same for 100 lines and 20 promotions. For each cart it
    also prints how much search the item promotions took (rules run, subproblems), and whether the exact
    search finished (it always should: the greedy fallback is only for pathological promotion sets).
(b) Order creation with row locks on PostgreSQL (its own database `inbox_bench_pricing`, created and
    migrated when missing, emptied at the start of each run): `--buyers` threads (20) place orders at once
    through the real `orders.services.place_order`, each for one unit of the same hot variant (`--stock`
    units) with another item, the same coupon (limited uses) and store credit of members shared between
    buyers, until the stock runs out. It reports orders/s and the latency of `place_order`, then proves that
    nothing was over-sold or over-spent: stock, coupon uses and every member's credit. Exit status 1 if not.

`--before REV` also times the item-promotion engine of an earlier commit (`git show REV:orders/pricing/
promotions.py`, loaded beside the current one) on the same carts, interleaved with the current one in this
process (same load, same moment): CPU p50 per quote with each, and a check that both give the same quote.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ensure_database, machine, percentile, use_bench_env  # noqa: E402

DATABASE = "inbox_bench_pricing"
TAGS = ["apparel", "shoes", "bags", "beauty", "home", "kids"]
PRICES = [99, 199, 290, 390, 490, 590, 690, 890, 1290, 1980]


# --- (a) The engine ------------------------------------------------------------------------------------


def engine_cart(lines: int, promotions: int, seed: int = 1, item: int | None = None):
    """A cart of `lines` variants (1-3 units, 1-2 of six tags each) and `promotions` active promotions: `item`
    item promotions (default four in five; 任選, A+B, 買X享Y in turn, each aimed at two of the tags, so that
    they compete for the same units), the rest order promotions; a 10% coupon (at most NT$500), a custom discount,
    credit (minimum 1,000, at most 50), 7-11 pickup (60, free from 2,000) and 5% tax on some products."""
    from orders.pricing import (
        Bundle, BuyXGetY, Cart, CartLine, Context, Coupon, CouponKind, CreditPolicy, CustomDiscount, OrderDiscount,
        PickAny, ShippingOption, Target, TaxMode, TaxPolicy,
    )

    rnd = random.Random(seed)
    cart = Cart(
        lines=tuple(
            CartLine(
                key=f"v{i:03d}", name=f"item {i}", unit_price=rnd.choice(PRICES), quantity=rnd.randint(1, 3),
                product_id=1000 + i // 2, variant_id=5000 + i, tags=frozenset(rnd.sample(TAGS, rnd.randint(1, 2))),
                taxable=i % 3 == 0, available=10,
            )
            for i in range(lines)
        )
    )
    chosen = []
    if item is None:
        item = promotions - max(2, promotions // 5)
    for pid in range(1, item + 1):
        both = Target(tags={TAGS[pid % 6], TAGS[(pid + 1) % 6]})
        if pid % 3 == 0:
            chosen.append(PickAny(id=pid, name=f"任選 {pid}", size=rnd.choice([2, 3]), price=rnd.choice([799, 990, 1200]), target=both))
        elif pid % 3 == 1:
            chosen.append(Bundle(id=pid, name=f"A+B {pid}", a=Target(tags={TAGS[pid % 6]}), b=Target(tags={TAGS[(pid + 2) % 6]}),
                                 discount=rnd.choice([100, 150, 200])))
        else:
            chosen.append(BuyXGetY(id=pid, name=f"買2享1 {pid}", buy=2, get=1, percent_off=Decimal(rnd.choice([50, 100])), target=both))
    for n, pid in enumerate(range(item + 1, promotions + 1), start=1):
        chosen.append(OrderDiscount(id=pid, name=f"滿 {3000 * n}", min_spend=3000 * n, amount_off=200 * n, stackable=n % 2 == 0))
    context = Context(
        promotions=tuple(chosen),
        coupon_code="VIP10",
        coupon=Coupon(id=1, code="VIP10", kind=CouponKind.PERCENT, percent_off=Decimal(10), max_discount=500, minimum_amount=1000),
        custom_discounts=(CustomDiscount("老客戶", 50),),
        credit=CreditPolicy(enabled=True, minimum_order=1000, max_per_order=50),
        credit_balance=300,
        shipping=ShippingOption(method_id=1, name="7-11 取貨", fee=60, free_threshold=2000, code="711_c2c"),
        tax=TaxPolicy(mode=TaxMode.PER_PRODUCT, rate=Decimal(5)),
    )
    return cart, context


def search_effort(cart, context) -> dict:
    """How much search the item promotions took for this cart (the engine's own counters)."""
    from orders.pricing import promotions as engine

    items = sorted((p for p in context.promotions if not isinstance(p, engine.OrderDiscount)), key=lambda p: p.id)
    priced = sorted((l for l in cart.lines if l.is_catalog and l.unit_price > 0), key=lambda l: (-l.unit_price, l.key))
    solver = engine._Engine(items, priced)
    free = [line.quantity for line in priced]
    groups = solver.groups(items)
    for group in groups:
        solver.best(group, free)
    return {
        "item_promotions": len(items), "groups": len(groups), "rules_run": len(solver._applied),
        "subproblems": len(solver._solved) + len(solver._short), "exact": solver.greedy_groups == 0,
    }


def bench_engine(quotes: int) -> list[dict]:
    from orders.pricing import quote

    results = []
    for lines, promotions, item, runs in [(50, 10, 8, quotes), (50, 10, 4, quotes), (100, 20, 16, max(quotes // 10, 50))]:
        for seed in (1, 2, 3):
            cart, context = engine_cart(lines, promotions, seed, item)
            first = quote(cart, context)
            for _ in range(5):  # warm up
                assert quote(cart, context) == first
            gc.collect()
            times, cpu = [], []
            for _ in range(runs):
                started, started_cpu = time.perf_counter(), time.thread_time()
                quote(cart, context)
                times.append(time.perf_counter() - started)
                cpu.append(time.thread_time() - started_cpu)
            results.append({
                "lines": lines, "promotions": promotions, "item_promotions": item, "seed": seed, "runs": runs,
                "mean_us": statistics.fmean(times) * 1e6, "p50_us": percentile(times, 50) * 1e6, "p99_us": percentile(times, 99) * 1e6,
                "cpu_p50_us": percentile(cpu, 50) * 1e6,
                "item_discount": first.item_discount, "total": first.total,
                "applied": sorted(a.source_id for a in first.adjustments if a.step == "item_promotion"),
                **search_effort(cart, context),
            })
    return results


def load_engine(rev: str):
    """orders/pricing/promotions.py as it was at `rev`, as a separate module using today's promotion classes
    (so that the same Context prices with either); `compare_engines` points `quote` at it in turn."""
    from orders.pricing import promotions as current

    source = subprocess.run(["git", "show", f"{rev}:orders/pricing/promotions.py"], check=True, capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("promotions_before", f.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        Path(f.name).unlink()
    classes = (current.PickAny, current.Bundle, current.BuyXGetY, current.OrderDiscount)
    for cls in classes:
        setattr(module, cls.__name__, cls)
    for table in ("_RULES", "_TAKES"):
        if hasattr(module, table):
            rules = getattr(module, table)
            setattr(module, table, {getattr(current, old.__name__): rule for old, rule in rules.items()})
    return module


def compare_engines(rev: str, quotes: int) -> list[dict]:
    """CPU p50 per quote with the engine at `rev` and with the current one, interleaved (10 quotes each in
    turn), on the 50-line carts with 8 item promotions and the 100-line ones."""
    from orders.pricing import promotions as current

    quote_module = importlib.import_module("orders.pricing.quote")  # the module (the package exports the function)

    before = load_engine(rev)
    rows = []
    for lines, promotions, item, runs in [(50, 10, 8, quotes), (100, 20, 16, max(quotes // 10, 20))]:
        for seed in (1, 2, 3):
            cart, context = engine_cart(lines, promotions, seed, item)
            results, cpu = {}, {"before": [], "after": []}
            for name, engine in (("before", before), ("after", current)):
                quote_module.apply_item_promotions = engine.apply_item_promotions
                results[name] = quote_module.quote(cart, context)
            for start in range(0, runs, 10):
                for name, engine in (("before", before), ("after", current)):
                    quote_module.apply_item_promotions = engine.apply_item_promotions
                    for _ in range(min(10, runs - start)):
                        started = time.thread_time()
                        quote_module.quote(cart, context)
                        cpu[name].append(time.thread_time() - started)
            quote_module.apply_item_promotions = current.apply_item_promotions
            rows.append({
                "lines": lines, "item_promotions": item, "seed": seed, "runs": runs,
                "before_cpu_p50_us": percentile(cpu["before"], 50) * 1e6, "after_cpu_p50_us": percentile(cpu["after"], 50) * 1e6,
                "same_quote": results["before"] == results["after"],
            })
    return rows


# --- (b) Order creation under contention ---------------------------------------------------------------


def set_up_shop(*, buyers: int, members: int, stock: int, coupon_uses: int, balance: int) -> dict:
    """An empty database, then: an agent, a Messenger page, the hot variant (`stock` units) and a second
    product, 任選 2 for 990 on both, coupon HOT (100 off, `coupon_uses` uses), credit on (customers choose,
    at most 50 an order), 7-11 pickup; `members` members with `balance` of credit, and `buyers` chats bound
    to them in turn (so several buyers spend the same member's credit)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from customers import services as customer_services
    from inbox.models import Contact, Conversation
    from inbox.permissions import AGENTS
    from integrations import services as channel_services
    from orders.logistics import DeliveryType, PaymentType
    from orders.models import CommerceSettings, Coupon, DeliveryMethod, PaymentMethod, Product, ProductTag, Promotion, Variant

    call_command("flush", interactive=False, verbosity=0)
    agent = get_user_model().objects.create_user(username="bench-agent")
    agent.groups.add(Group.objects.get_or_create(name=AGENTS)[0])
    channel = channel_services.messenger_channel_add(
        name="Bench page", page_id="104000000000900", app_secret="bench-secret", verify_token="bench", access_token="BENCH-TOKEN"
    )
    tag = ProductTag.objects.create(name="hot")
    hot_product = Product.objects.create(name="限量款 T-shirt")
    hot_product.tags.set([tag])
    hot = Variant.objects.create(product=hot_product, sku="HOT-1", price=690, stock=stock)
    other_product = Product.objects.create(name="帆布袋")
    other_product.tags.set([tag])
    other = Variant.objects.create(product=other_product, sku="BAG-1", price=590, stock=stock * 10)
    pick = Promotion.objects.create(name="任選 2 件 $990", kind=Promotion.Kind.PICK_ANY, group_size=2, group_price=990)
    pick.tags.set([tag])
    Coupon.objects.create(code="HOT", kind=Coupon.Kind.AMOUNT, amount_off=100, minimum_amount=500, usage_limit=coupon_uses)
    settings = CommerceSettings.load()
    settings.tax_mode, settings.tax_rate = CommerceSettings.TaxMode.INCLUDED, Decimal(5)
    settings.credit_enabled, settings.credit_min_order, settings.credit_max_per_order = True, 500, 50
    settings.credit_customer_may_choose = True
    settings.save()
    pay = PaymentMethod.objects.create(type=PaymentType.PICKUP_711, name="7-11 取貨付款")
    seven = DeliveryMethod.objects.create(type=DeliveryType.SEVEN_C2C, name="7-11 取貨", fee=60, free_threshold=2000)
    customers = []
    for m in range(members):
        customer = customer_services.create_customer(name=f"會員{m:02d}", phone=f"09{m:08d}", actor=agent)
        customer_services.adjust_credit(customer=customer, amount=balance, reason="bench", actor=agent)
        customers.append(customer)
    conversations = []
    for b in range(buyers):
        contact = Contact.objects.create(channel=channel, platform_user_id=f"bench-buyer-{b}", display_name=f"Buyer {b}")
        conversation = Conversation.objects.create(channel=channel, contact=contact)
        customer_services.bind_contact(contact=contact, customer=customers[b % members], actor=agent)
        conversations.append(conversation)
    return {"agent": agent, "hot": hot, "other": other, "pay": pay, "seven": seven, "conversations": conversations, "customers": customers}


def bench_orders(*, buyers: int, members: int, stock: int, coupon_uses: int, balance: int) -> dict:
    from django.db import connections

    from customers.models import CreditEntry, Customer
    from orders import services
    from orders.errors import OrderConflict
    from orders.models import Coupon, Order, OrderAdjustment, OrderLine, Variant

    shop = set_up_shop(buyers=buyers, members=members, stock=stock, coupon_uses=coupon_uses, balance=balance)
    barrier = threading.Barrier(buyers + 1)
    latencies: list[float] = []
    conflicts: Counter = Counter()
    unexpected: list[str] = []
    lock = threading.Lock()

    def buyer(index: int) -> None:
        use_coupon, use_credit = True, True
        try:
            barrier.wait(timeout=30)
            while True:
                draft = {
                    "lines": [{"variant_id": shop["hot"].pk, "quantity": 1}, {"variant_id": shop["other"].pk, "quantity": 1}],
                    "coupon_code": "HOT" if use_coupon else "",
                    "credit_amount": 50 if use_credit else 0,
                    "delivery_method_id": shop["seven"].pk,
                    "payment_method_id": shop["pay"].pk,
                    "store": {"id": "991001"},
                    "recipient": {"name": "陳小美", "phone": "0912345678"},
                }
                started = time.perf_counter()
                try:
                    services.place_order(conversation=shop["conversations"][index], actor=shop["agent"], draft=draft)
                    with lock:
                        latencies.append(time.perf_counter() - started)
                except OrderConflict as exc:
                    codes = {reason["code"] for reason in exc.reasons}
                    with lock:
                        conflicts.update(codes)
                    if "stock" in codes:
                        return
                    if codes - {"coupon", "credit"}:
                        with lock:
                            unexpected.append(", ".join(sorted(codes)))
                        return
                    use_coupon = use_coupon and "coupon" not in codes
                    use_credit = use_credit and "credit" not in codes
        except Exception as exc:  # noqa: BLE001 (reported, and the run fails)
            with lock:
                unexpected.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(buyers)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=30)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    orders = Order.objects.count()
    hot_sold = sum(OrderLine.objects.filter(variant=shop["hot"]).values_list("quantity", flat=True))
    coupon = Coupon.objects.get(code="HOT")
    coupon_orders = OrderAdjustment.objects.filter(kind="coupon", source_id=coupon.pk).values("order").distinct().count()
    credit_rows = []
    for customer in shop["customers"]:
        now = Customer.objects.get(pk=customer.pk)
        used = sum(Order.objects.filter(customer=customer).values_list("credit_used", flat=True))
        spent = -sum(CreditEntry.objects.filter(customer=customer, kind="spend").values_list("amount", flat=True))
        credit_rows.append({"member": customer.pk, "balance": now.credit_balance, "used": used, "spent": spent})
    checks = {
        "stock: none left, none below zero": Variant.objects.get(pk=shop["hot"].pk).stock == 0,
        "stock: units sold = units there were": hot_sold == stock and orders == stock,
        "coupon: uses counted = orders with it": coupon.usage_count == coupon_orders,
        "coupon: never past its limit": coupon.usage_count <= coupon_uses and coupon_orders == min(coupon_uses, orders),
        "credit: no balance below zero": all(row["balance"] >= 0 for row in credit_rows),
        "credit: orders' credit = ledger spends = balance spent": all(
            row["used"] == row["spent"] == balance - row["balance"] for row in credit_rows
        ),
        "no unexpected refusal or error": not unexpected,
    }
    return {
        "buyers": buyers, "members": members, "stock": stock, "coupon_uses": coupon_uses, "balance": balance,
        "orders": orders, "seconds": elapsed, "orders_per_second": orders / elapsed if elapsed else 0.0,
        "latency_p50_ms": percentile(latencies, 50) * 1000, "latency_p99_ms": percentile(latencies, 99) * 1000,
        "refusals": dict(conflicts), "unexpected": unexpected[:5], "credit": credit_rows, "checks": checks,
        "ok": all(checks.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quotes", type=int, default=2000, help="quotes per 50-line cart (a tenth of that for 100 lines)")
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--members", type=int, default=5, help="members the buyers' chats are bound to (credit shared)")
    parser.add_argument("--stock", type=int, default=300, help="units of the hot variant")
    parser.add_argument("--coupon-uses", type=int, default=100)
    parser.add_argument("--balance", type=int, default=500, help="store credit of each member (50 an order)")
    parser.add_argument("--skip-orders", action="store_true", help="only (a): no database needed")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--before", metavar="REV", help="also time the item-promotion engine of this commit, interleaved")
    args = parser.parse_args()

    use_bench_env(DATABASE)
    if not args.skip_orders:
        ensure_database()
    import django

    django.setup()
    from django.conf import settings

    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    engine = bench_engine(args.quotes)
    compared = compare_engines(args.before, args.quotes) if args.before else None
    orders = None if args.skip_orders else bench_orders(
        buyers=args.buyers, members=args.members, stock=args.stock, coupon_uses=args.coupon_uses, balance=args.balance
    )

    print("\n== Benchmark 3: pricing ==")
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
    print("load average before:", load_before)
    print(f"\n(a) quote() in process, no database: {args.quotes} quotes per 50-line cart, {max(args.quotes // 10, 50)} per 100-line cart")
    print("    promotions = item promotions (任選/A+B/買X享Y in turn, each on two of six tags: they compete for the same")
    print("    units) + order promotions; coupon VIP10 10% (max 500), custom discount 50, credit (min 1,000, max 50),")
    print("    7-11 pickup 60 free from 2,000, per-product tax 5%")
    print("    (wall-clock µs per quote; CPU = the thread's own CPU time, p50: what the quote costs when it is not")
    print("    waiting for a core on a busy machine)")
    print("  lines promos (item) seed |  mean µs |   p50 µs |   p99 µs | CPU p50 µs | item discount | rules run | subproblems | exact")
    for r in engine:
        print(f"  {r['lines']:5d} {r['promotions']:6d} {'(' + str(r['item_promotions']) + ')':>6} {r['seed']:4d} | {r['mean_us']:8.0f} | {r['p50_us']:8.0f} | {r['p99_us']:8.0f} |"
              f" {r['cpu_p50_us']:10.0f} |"
              f" {r['item_discount']:13d} | {r['rules_run']:9d} | {r['subproblems']:11d} | {r['exact']}")
    if compared:
        print(f"\n    before/after, interleaved in this process: the engine of {args.before} vs the current one (CPU p50 µs per quote)")
        print("  lines (item) seed | before µs |  after µs | after/before | same quote")
        for r in compared:
            print(f"  {r['lines']:5d} {'(' + str(r['item_promotions']) + ')':>6} {r['seed']:4d} | {r['before_cpu_p50_us']:9.0f} |"
                  f" {r['after_cpu_p50_us']:9.0f} | {r['after_cpu_p50_us'] / r['before_cpu_p50_us']:12.2f} | {r['same_quote']}")
    if orders:
        print(f"\n(b) place_order with row locks, PostgreSQL ({settings.DATABASES['default']['NAME']}), {orders['buyers']} threads at once:")
        print(f"    hot variant: {orders['stock']} units; each order 1 hot + 1 other (任選 990), coupon HOT ({orders['coupon_uses']} uses),"
              f" 50 credit; {orders['members']} members x {orders['balance']} credit shared by the buyers")
        print(f"  orders placed: {orders['orders']} in {orders['seconds']:.2f} s = {orders['orders_per_second']:.0f} orders/s;"
              f" place_order p50 {orders['latency_p50_ms']:.0f} ms, p99 {orders['latency_p99_ms']:.0f} ms")
        print(f"  refusals (409 reasons): {orders['refusals']}")
        for name, ok in orders["checks"].items():
            print(f"  {'OK  ' if ok else 'FAIL'} {name}")
        if orders["unexpected"]:
            print("  unexpected:", orders["unexpected"])
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "machine": machine(), "load_before": load_before, "engine": engine,
                                               "compared": compared, "orders": orders}, indent=2, default=str))
    ok = all(r["exact"] for r in engine) and (orders is None or orders["ok"]) and all(r["same_quote"] for r in compared or [])
    print("result:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
