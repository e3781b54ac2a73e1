"""Automatic promotions: each kind's rule, how competing promotions share units, and order promotions."""
from __future__ import annotations

from decimal import Decimal

from orders.pricing import Bundle, BuyXGetY, Cart, CartLine, Context, OrderDiscount, PickAny, Target, quote


def line(key: str, price: int, qty: int = 1, *, product: int | None = None, tags=()) -> CartLine:
    return CartLine(key=key, name=key, unit_price=price, quantity=qty, product_id=product, tags=frozenset(tags))


def priced(*lines: CartLine, promotions=()):
    return quote(Cart(lines=lines), Context(promotions=tuple(promotions)))


def touches(q, promotion_id: int):
    (adjustment,) = [a for a in q.adjustments if a.source_id == promotion_id and a.step.startswith("item")]
    return [(t.line_key, t.units, t.amount, t.reward_units) for t in adjustment.touches]


def notice_codes(q):
    return {(n.source_id, n.code) for n in q.notices}


X = Target(tags={"X"})


class PickAnyTests:
    def test_groups_form_from_the_dearest_units_and_leftovers_pay_full_price(self):
        q = priced(line("A", 690, 2, tags="X"), line("B", 590, tags="X"), line("C", 250, 3, tags="X"),
                   promotions=[PickAny(id=1, name="pick 2", size=2, price=990, target=X)])
        # 690+690 -> 990 (390 off); 590+250 -> 990 would cost more (840): stop there.
        assert touches(q, 1) == [("A", 2, 390, 0)]
        assert q.after_item_promotions == 990 + 590 + 750

    def test_a_group_may_span_lines_and_its_saving_is_spread_by_price(self):
        q = priced(line("P", 500, tags="X"), line("Q", 400, 2, tags="X"), line("R", 300, tags="X"),
                   promotions=[PickAny(id=1, name="pick 3", size=3, price=1000, target=X)])
        assert touches(q, 1) == [("P", 1, 115, 0), ("Q", 2, 185, 0)]
        assert q.item_discount == 300
        assert q.lines[2].promotions == ()

    def test_whole_groups_inside_one_line(self):
        q = priced(line("A", 500, 7, tags="X"), promotions=[PickAny(id=1, name="pick 3", size=3, price=1200, target=X)])
        assert touches(q, 1) == [("A", 6, 600, 0)]

    def test_targets_by_product_id(self):
        q = priced(line("A", 500, 2, product=9), line("B", 500, 2, product=8),
                   promotions=[PickAny(id=1, name="p", size=2, price=800, target=Target(product_ids={9}))])
        assert touches(q, 1) == [("A", 2, 200, 0)]

    def test_says_how_many_more_items_it_needs(self):
        q = priced(line("A", 690, tags="X"), promotions=[PickAny(id=1, name="pick 2", size=2, price=990, target=X)])
        assert q.item_discount == 0
        assert [(n.code, str(n.message)) for n in q.notices] == [
            ("promotion.needs_more_items", "pick 2: add 1 more eligible item.")
        ]

    def test_never_makes_the_customer_pay_more(self):
        q = priced(line("A", 300, 2, tags="X"), promotions=[PickAny(id=1, name="pick 2", size=2, price=990, target=X)])
        assert q.subtotal == q.after_item_promotions == 600
        assert notice_codes(q) == {(1, "promotion.no_saving")}

    def test_no_eligible_item(self):
        q = priced(line("A", 300, 2), promotions=[PickAny(id=1, name="pick 2", size=2, price=100, target=X)])
        assert notice_codes(q) == {(1, "promotion.no_eligible_items")}


class BundleTests:
    def test_as_many_pairs_as_both_sides_allow(self):
        q = priced(line("T", 690, 2, product=1), line("B", 250, 3, product=3),
                   promotions=[Bundle(id=2, name="T+B", a=Target(product_ids={1}), b=Target(product_ids={3}), price=799)])
        # 2 pairs x (940 - 799) = 282, spread 1380:500.
        assert touches(q, 2) == [("T", 2, 207, 0), ("B", 2, 75, 0)]
        assert str(q.lines[0].promotions[0].kind_label) == "A+B bundle"

    def test_an_amount_off_per_pair(self):
        q = priced(line("T", 690, 1, product=1), line("B", 250, 1, product=3),
                   promotions=[Bundle(id=2, name="T+B", a=Target(product_ids={1}), b=Target(product_ids={3}), discount=100)])
        assert q.item_discount == 100

    def test_the_dearest_pairs_first(self):
        q = priced(line("T1", 900, 1, product=1), line("T2", 600, 1, product=1), line("B", 250, 1, product=3),
                   promotions=[Bundle(id=2, name="T+B", a=Target(product_ids={1}), b=Target(product_ids={3}), price=799)])
        assert touches(q, 2) == [("T1", 1, 275, 0), ("B", 1, 76, 0)]  # 351 spread 900:250

    def test_a_line_in_both_groups_pairs_with_itself(self):
        q = priced(line("L", 500, 3, tags="X"), promotions=[Bundle(id=2, name="X+X", a=X, b=X, price=799)])
        assert touches(q, 2) == [("L", 2, 201, 0)]

    def test_needs_one_item_from_each_group(self):
        q = priced(line("T", 690, 2, product=1),
                   promotions=[Bundle(id=2, name="T+B", a=Target(product_ids={1}), b=Target(product_ids={3}), price=799)])
        assert notice_codes(q) == {(2, "promotion.bundle_incomplete")}


class BuyXGetYTests:
    S = Target(tags={"S"})

    def test_the_cheapest_units_are_free(self):
        q = priced(line("S150", 150, 1, tags="S"), line("S120", 120, 3, tags="S"),
                   promotions=[BuyXGetY(id=3, name="2+1", buy=2, get=1, target=self.S)])
        assert touches(q, 3) == [("S120", 3, 120, 1)]
        assert q.lines[0].promotions == ()
        assert str(q.lines[1].promotions[0].kind_label) == "Buy X get Y"

    def test_repeats_per_block_only_when_it_says_so(self):
        cart = (line("S", 120, 6, tags="S"),)
        again = priced(*cart, promotions=[BuyXGetY(id=3, name="2+1", buy=2, get=1, target=self.S)])
        once = priced(*cart, promotions=[BuyXGetY(id=3, name="2+1", buy=2, get=1, repeat=False, target=self.S)])
        assert again.item_discount == 240
        assert once.item_discount == 120

    def test_a_percentage_off_rounds_half_up(self):
        q = priced(line("S", 125, 2, tags="S"),
                   promotions=[BuyXGetY(id=3, name="1+1 half", buy=1, get=1, percent_off=Decimal(50), target=self.S)])
        assert q.item_discount == 63  # 62.5

    def test_says_how_many_more_items_it_needs(self):
        q = priced(line("S", 120, 1, tags="S"), promotions=[BuyXGetY(id=3, name="2+1", buy=2, get=1, target=self.S)])
        assert [(n.code, str(n.message)) for n in q.notices] == [
            ("promotion.needs_more_items", "2+1: add 2 more eligible items.")
        ]


class CompetitionTests:
    def test_the_allocation_saving_most_wins(self):
        a, b, c = line("A", 500, product=1, tags="X"), line("B", 300, product=2, tags="X"), line("C", 400, product=3)
        pick = PickAny(id=1, name="pick 2", size=2, price=600, target=X)  # A+B: saves 200
        bundle = Bundle(id=2, name="A+C", a=Target(product_ids={1}), b=Target(product_ids={3}), price=500)  # saves 400
        q = priced(a, b, c, promotions=[pick, bundle])
        assert q.item_discount == 400
        assert [adj.source_id for adj in q.adjustments] == [2]
        assert notice_codes(q) == {(1, "promotion.outbid")}

    def test_a_unit_goes_to_one_promotion_only(self):
        q = priced(line("A", 500, 2, tags="X"), promotions=[
            PickAny(id=1, name="p1", size=2, price=700, target=X),
            PickAny(id=2, name="p2", size=2, price=800, target=X),
        ])
        assert q.item_discount == 300
        assert sum(t.units for a in q.adjustments for t in a.touches) == 2

    def test_a_tie_goes_to_the_promotion_created_first(self):
        a, b = line("A", 500, product=1, tags="X"), line("B", 300, product=2, tags="X")
        pick = PickAny(id=1, name="pick 2", size=2, price=600, target=X)
        bundle = Bundle(id=2, name="A+B", a=Target(product_ids={1}), b=Target(product_ids={2}), price=600)
        for promotions in ([pick, bundle], [bundle, pick]):
            q = priced(a, b, promotions=promotions)
            assert [adj.source_id for adj in q.adjustments] == [1]
            assert notice_codes(q) == {(2, "promotion.outbid")}

    def test_promotions_on_different_lines_both_apply(self):
        q = priced(line("A", 500, 2, tags="X"), line("S", 100, 3, tags="S"), promotions=[
            PickAny(id=1, name="p", size=2, price=800, target=X),
            BuyXGetY(id=2, name="b", buy=2, get=1, target=Target(tags={"S"})),
        ])
        assert q.item_discount == 200 + 100

    def test_many_competing_promotions_still_choose_the_best(self):
        promotions = [PickAny(id=i, name=f"p{i}", size=2, price=1000 - 10 * i, target=X) for i in range(1, 11)]
        q = priced(line("A", 600, 4, tags="X"), promotions=promotions)
        best = promotions[-1]
        assert [adj.source_id for adj in q.adjustments] == [best.id]
        assert q.item_discount == 2 * (1200 - best.price)

    def test_the_line_order_does_not_change_the_result(self):
        lines = [line("A", 500, 1, product=1, tags="X"), line("B", 500, 1, product=2, tags="X"), line("C", 500, 1, product=3, tags="X")]
        promotions = [PickAny(id=1, name="p", size=2, price=800, target=X)]
        forward = priced(*lines, promotions=promotions)
        backward = priced(*reversed(lines), promotions=promotions)
        assert touches(forward, 1) == touches(backward, 1) == [("A", 1, 100, 0), ("B", 1, 100, 0)]


class OrderPromotionTests:
    def test_the_best_single_one_applies_plus_the_stackable_ones(self, worked_cart):
        promotions = [
            OrderDiscount(id=5, name="2000 - 100", min_spend=2000, amount_off=100),
            OrderDiscount(id=6, name="2000 - 10%", min_spend=2000, percent_off=Decimal(10)),
            OrderDiscount(id=7, name="3000 - 200", min_spend=3000, amount_off=200),
            OrderDiscount(id=8, name="1000 - 50", min_spend=1000, amount_off=50, stackable=True),
            PickAny(id=1, name="pick 2", size=2, price=990, target=X),
        ]
        q = quote(worked_cart, Context(promotions=tuple(promotions)))
        assert q.after_item_promotions == 2080  # the threshold is judged after item promotions
        assert [(a.source_id, a.amount) for a in q.adjustments if a.step == "order_promotion"] == [(6, -208), (8, -50)]
        assert q.after_order_promotions == 2080 - 258
        by_id = {n.source_id: (n.code, str(n.message)) for n in q.notices}
        assert by_id[5] == ("promotion.not_best", "2000 - 100: only one order promotion applies, and 2000 - 10% saves more.")
        assert by_id[7] == ("promotion.below_minimum", "3000 - 200: spend NT$920 more to get it.")

    def test_percentages_round_half_up(self):
        q = priced(line("A", 2085), promotions=[OrderDiscount(id=1, name="10%", min_spend=0, percent_off=Decimal(10))])
        assert q.order_discount == 209  # 208.5

    def test_equal_discounts_go_to_the_one_created_first(self):
        q = priced(line("A", 1000), promotions=[
            OrderDiscount(id=4, name="b", min_spend=0, amount_off=100),
            OrderDiscount(id=3, name="a", min_spend=0, amount_off=100),
        ])
        assert [a.source_id for a in q.adjustments] == [3]


class SearchBoundTests:
    def test_a_full_cart_with_many_overlapping_promotions_prices_quickly_and_the_same_twice(self):
        import random
        import time

        rnd = random.Random(7)
        tags = [f"T{i}" for i in range(8)]
        lines = tuple(
            CartLine(key=f"L{i:03d}", name="x", unit_price=rnd.randint(50, 1500), quantity=rnd.randint(1, 999), product_id=i,
                     tags=frozenset(rnd.sample(tags, 3)))
            for i in range(100)
        )
        promotions = []
        for pid in range(1, 9):
            target = Target(tags={tags[pid - 1], tags[pid % 8]})
            if pid % 3 == 0:
                promotions.append(PickAny(id=pid, name="p", size=3, price=900, target=target))
            elif pid % 3 == 1:
                promotions.append(Bundle(id=pid, name="b", a=target, b=Target(tags={tags[(pid + 3) % 8]}), price=700))
            else:
                promotions.append(BuyXGetY(id=pid, name="x", buy=2, get=1, target=target))
        started = time.monotonic()
        first = quote(Cart(lines=lines), Context(promotions=tuple(promotions)))
        assert time.monotonic() - started < 3
        assert quote(Cart(lines=lines), Context(promotions=tuple(promotions))) == first
        assert first.item_discount > 0
