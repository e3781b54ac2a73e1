"""The search that shares units between competing item promotions, against the plain exhaustive search.

`exhaustive_item_promotions` is the definition the engine must meet: per group of promotions that can
touch a common line, try every order of application depth first in id order (each promotion taking what
it can by its own rule from what the ones before it left; one that can take nothing is dropped from that
order), keep the first order with the largest saving. It is only usable on small carts (n! orders); the
engine (memo, independent parts, branch and bound) must give exactly the same applications, in the same
order, with the same touches, on every cart."""
from __future__ import annotations

import random
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.pricing import Bundle, BuyXGetY, CartLine, PickAny, Target
from orders.pricing import promotions as engine
from orders.pricing.promotions import apply_item_promotions


def exhaustive_item_promotions(lines, promotions):
    ordered = sorted(promotions, key=lambda p: p.id)
    priced = sorted((l for l in lines if l.is_catalog and l.unit_price > 0), key=lambda l: (-l.unit_price, l.key))
    pools = {promo.id: engine._pool(promo, priced) for promo in ordered}
    free = [line.quantity for line in priced]
    chosen = []
    for group in engine._groups(ordered, priced):
        best = [-1, []]

        def visit(remaining, free, taken, saving):
            options = [(promo, engine._RULES[type(promo)](promo, pools[promo.id], free)) for promo in remaining]
            options = [(promo, plan) for promo, plan in options if plan is not None]
            if not options:
                if saving > best[0]:
                    best[:] = [saving, list(taken)]
                return
            for promo, plan in options:
                left = list(free)
                for line, units in plan.units.items():
                    left[line] -= units
                visit([other for other, _ in options if other is not promo], left, [*taken, plan], saving + plan.saving)

        visit(group, free, [], 0)
        chosen.extend(plan.application(priced) for plan in best[1])
    return tuple(chosen)


PRICES = st.sampled_from([0, 99, 100, 150, 250, 300, 490, 500, 690, 1200]) | st.integers(1, 3000)
TAGS = st.frozensets(st.sampled_from(["X", "Y", "Z"]), max_size=2)
targets = st.builds(Target, product_ids=st.frozensets(st.integers(1, 4), max_size=2), tags=TAGS)
everything_or = st.just(Target()) | targets


@st.composite
def small_carts(draw):
    return tuple(
        CartLine(
            key=f"L{i}",
            name=f"L{i}",
            unit_price=draw(PRICES),
            quantity=draw(st.integers(1, 6) | st.integers(1, 40)),
            product_id=draw(st.integers(1, 4)),
            tags=draw(TAGS),
        )
        for i in range(draw(st.integers(1, 7)))
    )


@st.composite
def competing_promotions(draw):
    """Up to 6 item promotions of every kind, ids in any order, often aimed at the same lines."""
    ids = draw(st.lists(st.integers(1, 30), min_size=1, max_size=6, unique=True))
    chosen = []
    for promo_id in ids:
        kind = draw(st.sampled_from(["pick", "bundle", "bxgy"]))
        if kind == "pick":
            chosen.append(PickAny(id=promo_id, name="p", size=draw(st.integers(1, 4)), price=draw(st.integers(0, 3000)),
                                  target=draw(everything_or)))
        elif kind == "bundle":
            priced = draw(st.booleans())
            chosen.append(Bundle(id=promo_id, name="b", a=draw(everything_or), b=draw(everything_or),
                                 price=draw(st.integers(0, 3000)) if priced else None,
                                 discount=None if priced else draw(st.integers(0, 800))))
        else:
            chosen.append(BuyXGetY(id=promo_id, name="x", buy=draw(st.integers(1, 3)), get=draw(st.integers(1, 2)),
                                   percent_off=draw(st.sampled_from([Decimal(100), Decimal(50), Decimal("12.5"), Decimal(1)])
                                                    | st.integers(1, 100).map(Decimal)),
                                   repeat=draw(st.booleans()), target=draw(everything_or)))
    return chosen


class SearchMatchesTheExhaustiveSearchTests:
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(small_carts(), competing_promotions())
    def test_the_same_applications_in_the_same_order_with_the_same_touches(self, lines, promotions):
        assert apply_item_promotions(lines, promotions).applications == exhaustive_item_promotions(lines, promotions)

    def test_many_random_overlapping_carts(self):
        """Also a fixed sample of bigger random carts (up to 7 promotions, 9 lines), reproducible."""
        rnd = random.Random(2026)
        tags = ["X", "Y", "Z"]

        def target():
            if rnd.random() < 0.2:
                return Target()
            return Target(product_ids=frozenset(rnd.sample(range(1, 6), rnd.randint(0, 2))), tags=frozenset(rnd.sample(tags, rnd.randint(0, 2))))

        for _ in range(150):
            lines = tuple(
                CartLine(key=f"L{i}", name="x", unit_price=rnd.choice([rnd.randint(1, 3000), 100, 200, 300]),
                         quantity=rnd.randint(1, rnd.choice([3, 8, 40])), product_id=rnd.randint(1, 5),
                         tags=frozenset(rnd.sample(tags, rnd.randint(0, 2))))
                for i in range(rnd.randint(1, 9))
            )
            promotions = []
            for promo_id in rnd.sample(range(1, 20), rnd.randint(1, 7)):
                kind = rnd.choice("pbx")
                if kind == "p":
                    promotions.append(PickAny(id=promo_id, name="p", size=rnd.randint(1, 4), price=rnd.randint(0, 4000), target=target()))
                elif kind == "b":
                    priced = rnd.random() < 0.5
                    promotions.append(Bundle(id=promo_id, name="b", a=target(), b=target(),
                                             price=rnd.randint(0, 4000) if priced else None,
                                             discount=None if priced else rnd.randint(0, 800)))
                else:
                    promotions.append(BuyXGetY(id=promo_id, name="x", buy=rnd.randint(1, 3), get=rnd.randint(1, 2),
                                               percent_off=Decimal(rnd.choice([100, 50, 25, 1])), repeat=rnd.random() < 0.5,
                                               target=target()))
            assert apply_item_promotions(lines, promotions).applications == exhaustive_item_promotions(lines, promotions)


class IndependentPartsTests:
    def test_parts_that_stop_sharing_lines_interleave_by_id(self):
        """Promotion 1 (A+B) uses up B; then 2 (on A) and 3 (on C, via the shared tag) no longer compete:
        solved apart, the applications still come in the order the plain search gives."""
        lines = (
            CartLine(key="A", name="A", unit_price=800, quantity=3, product_id=1, tags=frozenset({"X"})),
            CartLine(key="B", name="B", unit_price=500, quantity=1, product_id=2, tags=frozenset({"X", "Y"})),
            CartLine(key="C", name="C", unit_price=300, quantity=3, product_id=3, tags=frozenset({"Y"})),
        )
        promotions = [
            Bundle(id=1, name="A+B", a=Target(product_ids={1}), b=Target(product_ids={2}), price=900),
            PickAny(id=2, name="pick A", size=2, price=1200, target=Target(tags={"X"})),
            BuyXGetY(id=3, name="2+1 Y", buy=2, get=1, target=Target(tags={"Y"})),
        ]
        result = apply_item_promotions(lines, promotions)
        assert result.applications == exhaustive_item_promotions(lines, promotions)
        assert [a.promotion.id for a in result.applications] == [1, 2, 3]


class TwinsTests:
    """Twins (the same units taken, none of them able to take anything after): the search follows only the
    branch of the one saving the most, lowest id on a tie; the result is still the plain search's."""

    LINES = (
        CartLine(key="A", name="A", unit_price=990, quantity=4, product_id=1, tags=frozenset({"X"})),
        CartLine(key="B", name="B", unit_price=590, quantity=5, product_id=2, tags=frozenset({"X", "Y"})),
        CartLine(key="C", name="C", unit_price=199, quantity=6, product_id=3, tags=frozenset({"Y"})),
        CartLine(key="D", name="D", unit_price=99, quantity=3, product_id=4, tags=frozenset({"Y"})),
    )

    @pytest.mark.parametrize(
        "percents",
        [(50, 100, 50), (100, 50, 100), (50, 50, 50), (100, 100, 25), (100, 25, 100), (50, 25, 100), (100, 25, 50)],
    )
    def test_buy_x_get_y_twins_on_the_same_lines(self, percents):
        x, y = Target(tags={"X"}), Target(tags={"Y"})
        promotions = [
            BuyXGetY(id=2, name="x2", buy=2, get=1, percent_off=Decimal(percents[0]), target=y),
            BuyXGetY(id=5, name="x5", buy=1, get=2, percent_off=Decimal(percents[1]), target=y),  # 3 units a block too
            BuyXGetY(id=8, name="x8", buy=2, get=1, percent_off=Decimal(percents[2]), target=y),
            PickAny(id=3, name="p3", size=2, price=900, target=x),
            Bundle(id=1, name="b1", a=x, b=y, discount=150),
            Bundle(id=7, name="b7", a=x, b=y, discount=200),
            Bundle(id=9, name="b9", a=x, b=y, discount=150),
        ]
        result = apply_item_promotions(self.LINES, promotions)
        assert result.applications == exhaustive_item_promotions(self.LINES, promotions)

    def test_only_promotions_with_the_same_terms_and_lines_are_twins(self):
        x, y = Target(tags={"X"}), Target(tags={"Y"})
        promotions = [
            BuyXGetY(id=1, name="a", buy=2, get=1, target=y),
            BuyXGetY(id=2, name="b", buy=2, get=1, percent_off=Decimal(50), target=y),
            BuyXGetY(id=3, name="once", buy=2, get=1, repeat=False, target=y),  # leaves units to a twin: none
            BuyXGetY(id=4, name="other lines", buy=2, get=1, target=x),
            Bundle(id=5, name="amount", a=x, b=y, discount=100),
            Bundle(id=6, name="amount", a=x, b=y, discount=300),
            Bundle(id=7, name="price", a=x, b=y, price=700),
            Bundle(id=8, name="price", a=x, b=y, price=800),
            PickAny(id=9, name="pick", size=2, price=900, target=x),
            PickAny(id=10, name="pick", size=2, price=900, target=x),
        ]
        priced = sorted(self.LINES, key=lambda l: (-l.unit_price, l.key))
        twins = engine._Engine(promotions, priced).twin
        assert twins[1] == twins[2] and twins[5] == twins[6] and twins[9] == twins[10]
        assert twins[3] is None
        assert len({twins[1], twins[4], twins[5], twins[7], twins[8], twins[9]}) == 6
        assert apply_item_promotions(self.LINES, promotions).applications == exhaustive_item_promotions(self.LINES, promotions)


@st.composite
def twins_and_others(draw):
    """2-4 twins of one kind with terms that outdo one another or tie, and up to 3 other promotions."""
    kind = draw(st.sampled_from(["bxgy", "bundle", "pick"]))
    target, other_target = draw(everything_or), draw(everything_or)
    ids = draw(st.lists(st.integers(1, 30), min_size=2, max_size=4, unique=True))
    chosen = []
    for promo_id in ids:
        if kind == "bxgy":
            chosen.append(BuyXGetY(id=promo_id, name="x", buy=2, get=1, target=target,
                                   percent_off=draw(st.sampled_from([Decimal(100), Decimal(50), Decimal("50.5"), Decimal(1)]))))
        elif kind == "bundle":
            chosen.append(Bundle(id=promo_id, name="b", a=target, b=other_target,
                                 discount=draw(st.sampled_from([0, 100, 198, 199, 200, 250]))))
        else:
            chosen.append(PickAny(id=promo_id, name="p", size=2, price=900, target=target))
    others = draw(st.lists(st.sampled_from(range(31, 40)), max_size=3, unique=True))
    for promo_id in others:
        chosen.append(BuyXGetY(id=promo_id, name="o", buy=1, get=1, percent_off=Decimal(50), target=draw(everything_or))
                      if promo_id % 2 else PickAny(id=promo_id, name="o", size=3, price=draw(st.integers(0, 2000)),
                                                   target=draw(everything_or)))
    return chosen


class OutdoneTwinsTests:
    """A twin that another always outdoes (the same units, at least the same saving, and first among equals
    or strictly more) is left out of the search; the result must stay the plain search's, ties included."""

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(small_carts(), twins_and_others())
    def test_leaving_them_out_gives_the_plain_search_result(self, lines, promotions):
        assert apply_item_promotions(lines, promotions).applications == exhaustive_item_promotions(lines, promotions)

    @staticmethod
    def outdone(lines, promotions):
        priced = sorted(lines, key=lambda l: (-l.unit_price, l.key))
        return engine._Engine(sorted(promotions, key=lambda p: p.id), priced).outdone

    def test_a_lower_id_that_can_tie_is_kept(self):
        """50 % and 50.5 % off a NT$99 unit round to the same dollars: the lower id (50 %) can win a tie."""
        lines = (
            CartLine(key="A", name="A", unit_price=99, quantity=1, product_id=1),
            CartLine(key="B", name="B", unit_price=1990, quantity=2, product_id=2),
        )
        promotions = [
            BuyXGetY(id=1, name="50", buy=2, get=1, percent_off=Decimal(50)),
            BuyXGetY(id=2, name="50.5", buy=2, get=1, percent_off=Decimal("50.5")),
            BuyXGetY(id=3, name="100", buy=2, get=1, percent_off=Decimal(100)),
        ]
        # 100 % outdoes both strictly (NT$99 × 49.5 % is more than a dollar); 50.5 % doesn't outdo 50 %.
        assert self.outdone(lines, promotions) == {1, 2}
        assert self.outdone(lines, promotions[:2]) == set()
        for chosen in (promotions, promotions[:2]):
            result = apply_item_promotions(lines, chosen)
            assert result.applications == exhaustive_item_promotions(lines, chosen)
        assert apply_item_promotions(lines, promotions[:2]).applications[0].promotion.id == 1

    def test_amounts_off_a_pair_outdo_only_when_no_pair_is_worth_the_smaller_amount(self):
        cheap = (
            CartLine(key="A", name="A", unit_price=99, quantity=2, product_id=1),
            CartLine(key="B", name="B", unit_price=99, quantity=2, product_id=2),
        )
        dear = tuple(replace(line, unit_price=300) for line in cheap)
        first, second = Target(product_ids={1}), Target(product_ids={2})
        promotions = [
            Bundle(id=1, name="200", a=first, b=second, discount=200),
            Bundle(id=2, name="250", a=first, b=second, discount=250),
            Bundle(id=3, name="100", a=first, b=second, discount=100),
        ]
        assert self.outdone(cheap, promotions) == {3}  # a pair of NT$198: 200 and 250 off tie
        assert self.outdone(dear, promotions) == {1, 3}
        for lines in (cheap, dear):
            result = apply_item_promotions(lines, promotions)
            assert result.applications == exhaustive_item_promotions(lines, promotions)
        assert [a.promotion.id for a in apply_item_promotions(cheap, promotions).applications] == [1]
        assert [a.promotion.id for a in apply_item_promotions(dear, promotions).applications] == [2]

    def test_the_same_terms_keep_the_lowest_id_and_the_outdone_still_get_their_notice(self):
        lines = (CartLine(key="A", name="A", unit_price=990, quantity=4, product_id=1),)
        promotions = [PickAny(id=5, name="p5", size=2, price=900), PickAny(id=2, name="p2", size=2, price=900)]
        assert self.outdone(lines, promotions) == {5}
        result = apply_item_promotions(lines, promotions)
        assert result.applications == exhaustive_item_promotions(lines, promotions)
        assert [a.promotion.id for a in result.applications] == [2]
        assert [(n.source_id, n.code) for n in result.notices] == [(5, "promotion.outbid")]


class BudgetTests:
    def test_past_the_budget_the_allocation_is_the_greedy_one_and_still_deterministic(self, monkeypatch):
        lines = tuple(CartLine(key=f"L{i}", name="x", unit_price=100 + 37 * i, quantity=2, product_id=i) for i in range(12))
        promotions = [BuyXGetY(id=i, name=f"x{i}", buy=1 + i % 3, get=1, percent_off=Decimal(10 * i), repeat=False) for i in range(1, 10)]
        exact = apply_item_promotions(lines, promotions)
        monkeypatch.setattr(engine, "SEARCH_BUDGET", 20)
        greedy = apply_item_promotions(lines, promotions)
        assert greedy == apply_item_promotions(lines, promotions)
        # Greedy: the promotion saving most right now goes first (here, the highest percentage).
        assert greedy.applications[0].promotion.id == 9
        assert greedy.saving <= exact.saving
        units = {line.key: line.quantity for line in lines}
        for application in greedy.applications:
            for touch in application.touches:
                units[touch.line_key] -= touch.units
        assert min(units.values()) >= 0


def bench_like_cart(lines: int, promotions: int, seed: int):
    rnd = random.Random(seed)
    tags = ["apparel", "shoes", "bags", "beauty", "home", "kids"]
    cart = tuple(
        CartLine(key=f"v{i:03d}", name=f"item {i}", unit_price=rnd.choice([99, 199, 290, 390, 490, 590, 690, 890, 1290, 1980]),
                 quantity=rnd.randint(1, 3), product_id=1000 + i // 2, variant_id=5000 + i,
                 tags=frozenset(rnd.sample(tags, rnd.randint(1, 2))))
        for i in range(lines)
    )
    chosen = []
    for pid in range(1, promotions + 1):
        target = Target(tags={tags[pid % 6], tags[(pid + 1) % 6]})
        if pid % 3 == 0:
            chosen.append(PickAny(id=pid, name="p", size=rnd.choice([2, 3]), price=rnd.choice([799, 990, 1200]), target=target))
        elif pid % 3 == 1:
            chosen.append(Bundle(id=pid, name="b", a=Target(tags={tags[pid % 6]}), b=Target(tags={tags[(pid + 2) % 6]}),
                                 discount=rnd.choice([100, 150, 200])))
        else:
            chosen.append(BuyXGetY(id=pid, name="x", buy=2, get=1, percent_off=Decimal(rnd.choice([50, 100])), target=target))
    return cart, chosen


class SpeedTests:
    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_eight_overlapping_promotions_on_a_50_line_cart_are_solved_exactly_and_quickly(self, seed):
        """The exact search, not the fallback: well under the budget, and quick (a loose bound: CI
        machines are shared; bench/pricing.py measures it properly)."""
        lines, promotions = bench_like_cart(50, 8, seed)
        engine_ = engine._Engine(sorted(promotions, key=lambda p: p.id), sorted(lines, key=lambda l: (-l.unit_price, l.key)))
        started = time.perf_counter()
        for group in engine._groups(sorted(promotions, key=lambda p: p.id), engine_.order):
            engine_.best(group, [line.quantity for line in engine_.order])
        elapsed = time.perf_counter() - started
        assert engine_.greedy_groups == 0
        assert len(engine_._applied) < 400  # rules run (the plain search runs them ~100,000 times)
        assert elapsed < 0.5


class GroupsTests:
    @settings(max_examples=200, deadline=None)
    @given(small_carts(), competing_promotions())
    def test_the_engine_groups_promotions_as_the_plain_definition_does(self, lines, promotions):
        ordered = sorted(promotions, key=lambda p: p.id)
        priced = sorted((l for l in lines if l.is_catalog and l.unit_price > 0), key=lambda l: (-l.unit_price, l.key))
        assert engine._Engine(ordered, priced).groups(ordered) == engine._groups(ordered, priced)


class RulesForTheSearchTests:
    """The search runs `_TAKES` (saving and units only); the quote shows `_RULES` run again on the chosen
    ones. Both must agree on every pool and every count of free units."""

    @settings(max_examples=300, deadline=None)
    @given(small_carts(), competing_promotions(), st.data())
    def test_takes_save_and_take_what_the_full_rules_do(self, lines, promotions, data):
        priced = sorted((l for l in lines if l.is_catalog and l.unit_price > 0), key=lambda l: (-l.unit_price, l.key))
        free = [data.draw(st.integers(0, line.quantity)) for line in priced]
        for promo in promotions:
            pool = engine._pool(promo, priced)
            plan = engine._RULES[type(promo)](promo, pool, free)
            take = engine._TAKES[type(promo)](promo, pool, free)
            if plan is None:
                assert take is None
                continue
            units: dict[int, int] = {}
            for line, count in take.units:
                units[line] = units.get(line, 0) + count
            assert (take.saving, units) == (plan.saving, {line: count for line, count in plan.units.items() if count})
