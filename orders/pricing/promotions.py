"""Automatic promotions: each one a condition and a benefit, applied in a fixed, explained order.

Item promotions (step 2 of the commerce rules) take units of catalog lines; a unit goes to at most one
item promotion:

- `PickAny` (任選): groups of `size` eligible units cost `price` instead of their sum. Groups are formed
  from the most expensive eligible units down, as many full groups as fit, and only while a group costs
  more than `price` (a group never makes the customer pay more). Leftover units pay full price.
- `Bundle` (A+B): one unit from group A with one unit from group B cost `price`, or get `discount` off;
  as many pairs as there are units, the most expensive pairs first.
- `BuyXGetY` (買X享Y): for every `buy` + `get` eligible units, the `get` cheapest are free or
  `percent_off` % off (rounded half up per line); once, or per block when `repeat`. The promotion takes
  the cheapest eligible units, leaving the dearer ones to other promotions.

How the units are shared when promotions compete (`apply_item_promotions`): promotions that could touch
the same line form a group; within a group, the result is that of trying every order of application
(each promotion taking what it can, by its own rule, from what the ones before it left) and keeping the
order with the largest total saving; on a tie, the order that lets the earliest-created promotion (lowest
id) go first. The engine gets that result without trying every order (`_Engine`): rule results and
subproblems are remembered by the free units they depend on (units are counted, never permuted);
promotions that no longer share a line with units left are solved apart; and branch and bound cuts every
order that can't beat (or tie with a lower id) the best found so far, using an upper bound on what the
remaining promotions could still save (each unit goes to one promotion, at most at the best rate any of
them gives it), and of "twins" (promotions that would take the same units, none of them able to take
anything after) only the branch of the one saving the most is followed; a twin that another always
outdoes (the same terms, a smaller percentage or amount off) is left out of the search altogether. A
single promotion left is answered by its rule, with no bound. The search runs each rule in a
reduced form that gives only its saving and the units it takes; the full rule (which lines each saving
lands on) runs again only for the applications chosen. `tests/orders/pricing/test_search.py` checks both
against the plain exhaustive search. A pathological group that would take more than `SEARCH_BUDGET`
steps gets the greedy allocation instead (one at a time, whichever remaining promotion saves the most;
ties to the lowest id). Either way the result is deterministic, and every promotion that did not apply
gets a notice saying why.

Order promotions (step 3): `OrderDiscount` gives an amount or a percentage (rounded half up) off the
subtotal after step 2 when it reaches `min_spend`. Only the one saving the most applies (ties to the
lowest id), plus every qualifying promotion marked `stackable`.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from itertools import compress
from operator import itemgetter, mul
from typing import ClassVar, Union

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from orders.pricing.adjustments import Notice, Source, Touch, message, twd
from orders.pricing.cart import CartLine, PricingError, Target, check_money
from orders.pricing.rounding import allocate, as_percent, percent_of

SEARCH_BUDGET = 5_000
"""Steps (subproblems visited plus rules run) one group's exact search may take before the engine settles
for the greedy allocation: a deterministic bound on a quote's time for pathological promotion sets."""


class PromotionKind(StrEnum):
    PICK_ANY = "pick_any"
    BUNDLE = "bundle"
    BUY_X_GET_Y = "buy_x_get_y"
    ORDER_DISCOUNT = "order_discount"

    @property
    def label(self) -> str:
        """The type label a line shows (任選, A+B 優惠, 買X享Y, 滿額優惠)."""
        return KIND_LABELS[self]


KIND_LABELS = {
    PromotionKind.PICK_ANY: _("Pick any"),
    PromotionKind.BUNDLE: _("A+B bundle"),
    PromotionKind.BUY_X_GET_Y: _("Buy X get Y"),
    PromotionKind.ORDER_DISCOUNT: _("Spend and save"),
}


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _check_id(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingError("promotion.id", _("A promotion needs an integer id."))


def _check_count(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PricingError("promotion.count", message(_("{what} is a whole number of at least 1."), what=what))


def _check_percent(value: Decimal) -> Decimal:
    percent = as_percent(value)
    if not 0 < percent <= 100:
        raise PricingError("promotion.percent", _("A percentage off is more than 0 and at most 100."))
    return percent


@dataclass(frozen=True)
class PickAny:
    """任選: any `size` eligible units for `price`."""

    kind: ClassVar[PromotionKind] = PromotionKind.PICK_ANY
    id: int
    name: str
    size: int
    price: int
    target: Target = field(default_factory=Target)

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_count(self.size, _("The group size"))
        check_money(self.price, _("The group price"))

    def touches(self, line: CartLine) -> bool:
        return self.target.matches(line)

    def describe(self) -> str:
        return message(_("Any {size} for {price}"), size=self.size, price=twd(self.price))


@dataclass(frozen=True)
class Bundle:
    """A+B: one unit of group A with one of group B for `price`, or `discount` off the pair."""

    kind: ClassVar[PromotionKind] = PromotionKind.BUNDLE
    id: int
    name: str
    a: Target
    b: Target
    price: int | None = None
    discount: int | None = None

    def __post_init__(self) -> None:
        _check_id(self.id)
        if (self.price is None) == (self.discount is None):
            raise PricingError("promotion.bundle", _("A bundle has either a price or a discount, not both."))
        if self.price is not None:
            check_money(self.price, _("The bundle price"))
        else:
            check_money(self.discount, _("The bundle discount"))

    def touches(self, line: CartLine) -> bool:
        return self.a.matches(line) or self.b.matches(line)

    def pair_saving(self, value: int) -> int:
        if self.price is not None:
            return value - self.price
        return min(self.discount, value)

    def describe(self) -> str:
        if self.price is not None:
            return message(_("A + B for {price}"), price=twd(self.price))
        return message(_("A + B: {discount} off"), discount=twd(self.discount))


@dataclass(frozen=True)
class BuyXGetY:
    """買X享Y: buy `buy` eligible units, the `get` cheapest next ones are `percent_off` % off (100 = free)."""

    kind: ClassVar[PromotionKind] = PromotionKind.BUY_X_GET_Y
    id: int
    name: str
    buy: int
    get: int
    percent_off: Decimal = Decimal(100)
    repeat: bool = True
    target: Target = field(default_factory=Target)

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_count(self.buy, _("The number to buy"))
        _check_count(self.get, _("The number rewarded"))
        object.__setattr__(self, "percent_off", _check_percent(self.percent_off))

    def touches(self, line: CartLine) -> bool:
        return self.target.matches(line)

    def describe(self) -> str:
        if self.percent_off == 100:
            return message(_("Buy {buy} get {get} free"), buy=self.buy, get=self.get)
        return message(_("Buy {buy}, get {get} at {percent} off"), buy=self.buy, get=self.get, percent=_percent(self.percent_off))


@dataclass(frozen=True)
class OrderDiscount:
    """滿額優惠: spend at least `min_spend` (after item promotions), get `amount_off` or `percent_off` % off."""

    kind: ClassVar[PromotionKind] = PromotionKind.ORDER_DISCOUNT
    id: int
    name: str
    min_spend: int
    amount_off: int = 0
    percent_off: Decimal = Decimal(0)
    stackable: bool = False

    def __post_init__(self) -> None:
        _check_id(self.id)
        check_money(self.min_spend, _("The minimum spend"))
        check_money(self.amount_off, _("The amount off"))
        percent = as_percent(self.percent_off)
        object.__setattr__(self, "percent_off", percent)
        if (self.amount_off > 0) == (percent > 0):
            raise PricingError("promotion.order", _("An order promotion gives either an amount or a percentage off."))
        if percent:
            _check_percent(percent)

    def discount_on(self, base: int) -> int:
        if self.amount_off:
            return min(self.amount_off, base)
        return min(percent_of(base, self.percent_off), base)

    def describe(self) -> str:
        if self.amount_off:
            return message(_("Spend {minimum}, get {amount} off"), minimum=twd(self.min_spend), amount=twd(self.amount_off))
        return message(_("Spend {minimum}, get {percent} off"), minimum=twd(self.min_spend), percent=_percent(self.percent_off))


ItemPromotion = Union[PickAny, Bundle, BuyXGetY]
Promotion = Union[PickAny, Bundle, BuyXGetY, OrderDiscount]


@dataclass(frozen=True)
class ItemApplication:
    """What one item promotion took: `times` groups, pairs or blocks, and per line the units and savings."""

    promotion: ItemPromotion
    times: int
    touches: tuple[Touch, ...]

    @property
    def saving(self) -> int:
        return sum(t.amount for t in self.touches)


@dataclass(frozen=True)
class OrderApplication:
    promotion: OrderDiscount
    discount: int


# --- Each kind's rule, over the units still free -------------------------------------------------------
# The priced catalog lines are numbered in their order (most expensive first, ties by key), and units are
# counted per number: `free[i]` is how many units of line i no promotion has taken yet. `pool`: the
# promotion's eligible lines as (number, unit price), in that order: group A and group B for a bundle, the
# same lines twice otherwise. A rule answers with a `_Plan` (the units it takes and what it saves); how a
# group's saving is spread over its lines is worked out only for the plans finally chosen.


@dataclass(frozen=True)
class _Pool:
    promotion: ItemPromotion
    a: tuple[tuple[int, int], ...]
    b: tuple[tuple[int, int], ...]


class _Plan:
    """What a rule takes: `units` (and `rewards`) per line number, the `saving`, and how it lands on the
    lines: `direct` dollars per line, and `shared` (saving, [(line, weight)]) groups spread by `allocate`."""

    __slots__ = ("promotion", "times", "saving", "units", "rewards", "direct", "shared")

    def __init__(self, promotion: ItemPromotion) -> None:
        self.promotion = promotion
        self.times = 0
        self.saving = 0
        self.units: dict[int, int] = defaultdict(int)
        self.rewards: dict[int, int] = defaultdict(int)
        self.direct: dict[int, int] = defaultdict(int)
        self.shared: list[tuple[int, list[tuple[int, int]]]] = []

    def add(self, line: int, units: int, amount: int, rewards: int = 0) -> None:
        self.units[line] += units
        self.direct[line] += amount
        self.rewards[line] += rewards
        self.saving += amount

    def share(self, saving: int, parts: list[tuple[int, int, int]]) -> None:
        """One group across lines: (line, units, weight) each, `saving` spread in proportion to the weights."""
        for line, units, _ in parts:
            self.units[line] += units
        self.shared.append((saving, [(line, weight) for line, _, weight in parts]))
        self.saving += saving

    def application(self, order: Sequence[CartLine]) -> ItemApplication:
        """The plan as the quote shows it: one touch per line, in the lines' order."""
        amounts = dict(self.direct)
        for saving, parts in self.shared:
            for (line, _), share in zip(parts, allocate(saving, [weight for _, weight in parts])):
                amounts[line] = amounts.get(line, 0) + share
        rewards = self.rewards
        touches = tuple([
            Touch(order[line].key, units, amounts.get(line, 0), rewards.get(line, 0))
            for line, units in sorted(self.units.items())
            if units
        ])
        return ItemApplication(self.promotion, self.times, touches)


def _pick_any(promo: PickAny, pool: _Pool, free: list[int]) -> _Plan | None:
    lines = [(at, price) for at, price in pool.a if free[at]]
    avail = [free[at] for at, _ in lines]
    plan, i = _Plan(promo), 0
    size, price = promo.size, promo.price
    while True:
        while i < len(lines) and avail[i] == 0:
            i += 1
        if i == len(lines):
            break
        at, unit_price = lines[i]
        if avail[i] >= size:  # whole groups inside one line: all alike, taken at once
            per_group = size * unit_price - price
            if per_group <= 0:
                break
            count = avail[i] // size
            avail[i] -= count * size
            plan.add(at, count * size, count * per_group)
            plan.times += count
            continue
        picked, need, j = [], size, i  # a group across lines, dearest units first
        while need and j < len(lines):
            take = min(avail[j], need)
            if take:
                picked.append((j, take))
                need -= take
            j += 1
        if need:
            break
        saving = sum(lines[j][1] * take for j, take in picked) - price
        if saving <= 0:
            break
        for j, take in picked:
            avail[j] -= take
        plan.share(saving, [(lines[j][0], take, lines[j][1] * take) for j, take in picked])
        plan.times += 1
    return plan if plan.times else None


def _two_available(group: tuple[tuple[int, int], ...], avail: dict[int, int], start: int) -> tuple[int, list[tuple[int, int]]]:
    """The first index with units left (it only moves forward) and the two dearest lines with units."""
    while start < len(group) and not avail[group[start][0]]:
        start += 1
    found, j = [], start
    while j < len(group) and len(found) < 2:
        if avail[group[j][0]]:
            found.append(group[j])
        j += 1
    return start, found


def _bundle(promo: Bundle, pool: _Pool, free: list[int]) -> _Plan | None:
    avail = {at: free[at] for at, _ in (*pool.a, *pool.b)}
    plan, start_a, start_b = _Plan(promo), 0, 0
    while True:
        best = None
        # The two dearest candidates on each side are enough to choose the dearest feasible pair, even
        # when one line belongs to both groups.
        start_a, tops_a = _two_available(pool.a, avail, start_a)
        start_b, tops_b = _two_available(pool.b, avail, start_b)
        for a in tops_a:
            for b in tops_b:
                if a[0] == b[0] and avail[a[0]] < 2:
                    continue
                value = a[1] + b[1]
                if best is None or value > best[0]:
                    best = (value, a, b)
        if best is None:
            break
        value, (a, price_a), (b, price_b) = best
        saving = promo.pair_saving(value)
        if saving <= 0:
            break
        # The same pair stays the best until one side runs out: take all those pairs at once.
        if a == b:
            count = avail[a] // 2
            avail[a] -= 2 * count
            plan.add(a, 2 * count, count * saving)
        else:
            count = min(avail[a], avail[b])
            avail[a] -= count
            avail[b] -= count
            plan.share(count * saving, [(a, count, count * price_a), (b, count, count * price_b)])
        plan.times += count
    return plan if plan.times else None


def _buy_x_get_y(promo: BuyXGetY, pool: _Pool, free: list[int]) -> _Plan | None:
    lines = [(at, price) for at, price in pool.a if free[at]]
    block = promo.buy + promo.get
    blocks = sum(free[at] for at, _ in lines) // block
    if not promo.repeat:
        blocks = min(blocks, 1)
    if not blocks:
        return None
    to_take, to_reward = blocks * block, blocks * promo.get
    # percent_of (half up) in integers: floor(amount × n / d / 100 + 1/2), with percent = n / d exactly.
    numerator, denominator = promo.percent_off.as_integer_ratio()
    plan = _Plan(promo)
    plan.times = blocks
    for at, price in reversed(lines):  # the cheapest units first
        take = min(free[at], to_take)
        if not take:
            break
        rewarded = min(take, to_reward)
        amount = price * rewarded
        plan.add(at, take, (2 * amount * numerator + 100 * denominator) // (200 * denominator) if rewarded else 0, rewarded)
        to_take -= take
        to_reward -= rewarded
    return plan if plan.saving > 0 else None


_RULES = {PickAny: _pick_any, Bundle: _bundle, BuyXGetY: _buy_x_get_y}


# --- The same rules, reduced to what the search needs ---------------------------------------------------
# The search only needs what a rule saves and the units it takes (to know what is left). These give
# exactly that, with no `_Plan` to build; the full plan (touches, rewards, how a group's saving lands on its
# lines) comes from the rule above, run again only for the applications finally chosen (`_Engine.best`).
# tests/orders/pricing/test_search.py checks that both give the same saving and units.


class _Take:
    """What a rule takes, for the search: the promotion, its saving, and (line, units) pairs (a line may
    appear more than once)."""

    __slots__ = ("promotion", "saving", "units")

    def __init__(self, promotion: ItemPromotion, saving: int, units: tuple[tuple[int, int], ...]) -> None:
        self.promotion = promotion
        self.saving = saving
        self.units = units


def _pick_any_take(promo: PickAny, pool: _Pool, free: list[int]) -> _Take | None:
    """`_pick_any`: groups of `size` units in a row, dearest first, while a group costs more than `price`."""
    size, group_price = promo.size, promo.price
    saving, taken = 0, []
    partial, partial_sum, partial_units = 0, 0, []  # a group begun on earlier lines
    for at, price in pool.a:
        left = free[at]
        if not left:
            continue
        if partial:
            take = min(left, size - partial)
            partial += take
            partial_sum += take * price
            partial_units.append((at, take))
            left -= take
            if partial < size:
                continue
            if partial_sum <= group_price:
                break
            saving += partial_sum - group_price
            taken.extend(partial_units)
            partial = 0
        if left >= size:
            per_group = size * price - group_price
            if per_group <= 0:
                break
            count = left // size
            saving += count * per_group
            taken.append((at, count * size))
            left -= count * size
        if left:
            partial, partial_sum, partial_units = left, left * price, [(at, left)]
    return _Take(promo, saving, tuple(taken)) if saving else None


def _bundle_take(promo: Bundle, pool: _Pool, free: list[int]) -> _Take | None:
    """`_bundle`: the dearest feasible pair, as many times as it stays so, while a pair saves something.
    The dearest units with units left on each side make the dearest pair, unless they are the same line
    with one unit left: then the dearer of (that, the next B) and (the next A, that), the first on a tie."""
    avail = list(free)
    side_a, side_b = pool.a, pool.b
    len_a, len_b = len(side_a), len(side_b)
    price, discount = promo.price, promo.discount
    saving, taken, i, j = 0, [], 0, 0
    while True:
        while i < len_a and not avail[side_a[i][0]]:
            i += 1
        while j < len_b and not avail[side_b[j][0]]:
            j += 1
        if i == len_a or j == len_b:
            break
        a, price_a = side_a[i]
        b, price_b = side_b[j]
        if a == b and avail[a] < 2:
            k = i + 1
            while k < len_a and not avail[side_a[k][0]]:
                k += 1
            m = j + 1
            while m < len_b and not avail[side_b[m][0]]:
                m += 1
            if m < len_b:
                if k < len_a and side_a[k][1] > side_b[m][1]:  # (next A, that B) is dearer
                    a, price_a = side_a[k]
                else:
                    b, price_b = side_b[m]
            elif k < len_a:
                a, price_a = side_a[k]
            else:
                break
        value = price_a + price_b
        pair = value - price if price is not None else (discount if discount < value else value)
        if pair <= 0:
            break
        # The same pair stays the best until one side runs out: take all those pairs at once.
        if a == b:
            count = avail[a] // 2
            avail[a] -= 2 * count
            taken.append((a, 2 * count))
        else:
            count = avail[a] if avail[a] < avail[b] else avail[b]
            avail[a] -= count
            avail[b] -= count
            taken.append((a, count))
            taken.append((b, count))
        saving += count * pair
    return _Take(promo, saving, tuple(taken)) if taken else None


def _buy_x_get_y_take(promo: BuyXGetY, pool: _Pool, free: list[int]) -> _Take | None:
    """`_buy_x_get_y`: the cheapest (buy + get) × blocks units, the cheapest `get` × blocks of them rewarded."""
    block = promo.buy + promo.get
    total = 0
    for at, _ in pool.a:
        total += free[at]
    blocks = total // block
    if not promo.repeat and blocks > 1:
        blocks = 1
    if not blocks:
        return None
    to_take, to_reward = blocks * block, blocks * promo.get
    numerator, denominator = promo.percent_off.as_integer_ratio()
    scale = 2 * numerator
    half, whole = 100 * denominator, 200 * denominator
    saving, taken = 0, []
    for at, price in reversed(pool.a):  # the cheapest units first
        take = free[at]
        if not take:
            continue
        if take > to_take:
            take = to_take
        if to_reward:
            rewarded = take if take < to_reward else to_reward
            saving += (scale * price * rewarded + half) // whole
            to_reward -= rewarded
        taken.append((at, take))
        to_take -= take
        if not to_take:
            break
    return _Take(promo, saving, tuple(taken)) if saving > 0 else None


_TAKES = {PickAny: _pick_any_take, Bundle: _bundle_take, BuyXGetY: _buy_x_get_y_take}


def _catalog(order: Sequence[CartLine]) -> list[tuple]:
    """What targets look at, per catalog line of `order`: (number, unit price, product, variant, tags)."""
    return [(i, line.unit_price, line.product_id, line.variant_id, line.tags) for i, line in enumerate(order) if line.is_catalog]


def _tagged(catalog: list[tuple]) -> dict[str, list[tuple[int, int]]]:
    """Per tag, the lines of `_catalog` that carry it, as (number, unit price) in their order."""
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, price, _, _, tags in catalog:
        for tag in tags:
            index[tag].append((i, price))
    return index


def _matching(target: Target, catalog: list[tuple], tagged: dict | None = None) -> tuple[tuple[int, int], ...]:
    """The lines that `target` matches (`Target.matches`, on `_catalog`), as (number, unit price).
    `tagged`: `_tagged(catalog)`, when the caller has it (a target by tags only then reads it instead
    of every line)."""
    if target.is_everything:
        return tuple((i, price) for i, price, _, _, _ in catalog)
    products, variants, tags = target.product_ids, target.variant_ids, target.tags
    if not (products or variants):
        if tagged is not None:
            if len(tags) == 1:
                return tuple(tagged.get(next(iter(tags)), ()))
            return tuple(sorted({line for tag in tags for line in tagged.get(tag, ())}))
        return tuple((i, price) for i, price, _, _, line_tags in catalog if not tags.isdisjoint(line_tags))
    return tuple(
        (i, price)
        for i, price, product, variant, line_tags in catalog
        if (product is not None and product in products)
        or (variant is not None and variant in variants)
        or not tags.isdisjoint(line_tags)
    )


def _pool(
    promo: ItemPromotion, order: Sequence[CartLine], catalog: list[tuple] | None = None, tagged: dict | None = None
) -> _Pool:
    """The promotion's eligible lines of `order` (the numbered priced lines) as (number, unit price)."""
    if catalog is None:
        catalog = _catalog(order)
    if isinstance(promo, Bundle):
        return _Pool(promo, _matching(promo.a, catalog, tagged), _matching(promo.b, catalog, tagged))
    eligible = _matching(promo.target, catalog, tagged)
    return _Pool(promo, eligible, eligible)


def _unit_rates(promo: ItemPromotion, prices: list[int], cheapest: int) -> list[int]:
    """For each of `prices`, at least what `promo` can take off one unit at that price, on average over
    the units it takes (whole dollars, rounded up). 任選: a group saves its units' sum minus the price, that
    is each unit's price minus price / size; A+B for a price: likewise with price / 2; A+B for an amount
    off: the amount, at most the unit's price; 買X享Y: Y of every X+Y units taken at the rate, and the
    cheapest of them, so at most Y / (X+Y) of the rate on every unit taken (plus rounding: see
    `_Engine._bounds`).

    For an amount off a pair, `cheapest` is the lowest unit price among the bundle's lines: with
    c = amount - min(cheapest, amount // 2), min(price, c) per unit covers every pair (c is at least half
    the amount, and a unit under c brings at least `cheapest`, which with c makes the whole amount)."""
    # (Conditional expressions rather than min and max: one of these runs per promotion and quote.)
    if isinstance(promo, PickAny):
        size, group = promo.size, promo.price
        return [(size * price - group + size - 1) // size if size * price > group else 0 for price in prices]
    if isinstance(promo, Bundle):
        if promo.price is None:
            amount = promo.discount - min(cheapest, promo.discount // 2)
            return [price if price < amount else amount for price in prices]
        return [(2 * price - promo.price + 1) // 2 if 2 * price > promo.price else 0 for price in prices]
    numerator, denominator = promo.percent_off.as_integer_ratio()
    scale, parts = numerator * promo.get, 100 * denominator * (promo.buy + promo.get)
    return [-((-scale * price) // parts) for price in prices]


def _twin(promo: ItemPromotion, pool: _Pool) -> tuple | None:
    """What promotions must share to be twins: on any free units they take exactly the same units, and
    after one of them has, none of them can take anything. 買X享Y repeated per block of the same size on
    the same lines (each takes every block it can: fewer units than a block are left); A+B for an amount
    off on the same two groups (each pairs until no pair is left; the amount doesn't change which pairs);
    任選 and A+B for a price: the same terms on the same lines. None: no twin possible."""
    if isinstance(promo, BuyXGetY):
        return ("x", promo.buy + promo.get, pool.a) if promo.repeat else None
    if isinstance(promo, Bundle):
        return ("b", pool.a, pool.b) if promo.price is None else ("b", promo.price, pool.a, pool.b)
    return ("p", promo.size, promo.price, pool.a)


def _outdoes(promo: ItemPromotion, twin: ItemPromotion, pool: _Pool) -> tuple[bool, bool]:
    """For twins (`_twin`, `pool` theirs): whether `promo` saves at least what `twin` saves on any free
    units, and whether it saves strictly more whenever `twin` can take something.

    They take the same units; what changes is only what each unit is worth. 買X享Y with the same numbers:
    the larger percentage rewards the same units at least as much, and strictly more once a dollar a unit
    separates the two percentages of the cheapest line (each line is rounded half up on its own, so a
    difference of a dollar or more survives the rounding). A+B for an amount off: the larger amount saves
    at least as much on every pair, strictly more when no pair is worth the smaller amount or less. 任選
    and A+B for a price: the same terms, the same savings."""
    if isinstance(promo, BuyXGetY):
        if (promo.buy, promo.get) != (twin.buy, twin.get) or promo.percent_off < twin.percent_off:
            return False, False
        cheapest = min((price for _, price in pool.a), default=0)
        return True, cheapest * (promo.percent_off - twin.percent_off) >= 100
    if isinstance(promo, Bundle) and promo.price is None:
        if promo.discount < twin.discount:
            return False, False
        cheapest_pair = min((price for _, price in pool.a), default=0) + min((price for _, price in pool.b), default=0)
        return True, promo.discount > twin.discount and twin.discount < cheapest_pair
    return True, False


def _getter(lines: tuple[int, ...]):
    """free -> the counts of `lines`, as a tuple (hashable)."""
    if len(lines) > 1:
        return itemgetter(*lines)
    if lines:
        only = lines[0]
        return lambda free: (free[only],)
    return lambda free: ()


_UNKNOWN = object()


class _OutOfBudget(Exception):
    pass


class _Engine:
    """The priced lines, each promotion's eligible lines (worked out once), and the search over orders.

    Free units are a list: units left per line number. What a rule takes depends only on the free units of
    its promotion's own lines, so applications are remembered by those counts; so is the best way to finish
    from a given set of promotions and free units (different orders often leave the same units)."""

    def __init__(self, promotions: Sequence[ItemPromotion], order: Sequence[CartLine]):
        self.order = order
        catalog = _catalog(order)
        tagged = _tagged(catalog)
        self.pools = {promo.id: _pool(promo, order, catalog, tagged) for promo in promotions}
        self.lines: dict[int, tuple[int, ...]] = {}  # each promotion's line numbers
        self.counts: dict[int, object] = {}  # free -> the counts of those lines (a memo key)
        self.masks: dict[int, int] = {}
        self.rates: dict[int, tuple[int, ...]] = {}  # per line of `order` (0 outside the pool)
        self.slack: dict[int, int] = {}
        self.twin: dict[int, int | None] = {}
        self.line_bits = tuple([1 << i for i in range(len(order))])
        prices = [line.unit_price for line in order]
        for promo in promotions:
            pool = self.pools[promo.id]
            lines = tuple([at for at, _ in pool.a]) if pool.a is pool.b else tuple(sorted({at for at, _ in (*pool.a, *pool.b)}))
            self.lines[promo.id] = lines
            self.counts[promo.id] = counts = _getter(lines)
            self.masks[promo.id] = sum(counts(self.line_bits))
            line_prices = counts(prices)
            rates = [0] * len(order)
            for i, rate in zip(lines, _unit_rates(promo, line_prices, min(line_prices, default=0))):
                rates[i] = rate
            self.rates[promo.id] = tuple(rates)
            # Rounding: half a dollar a line for a 買X享Y whose percentage can leave a fraction.
            self.slack[promo.id] = (len(lines) + 1) // 2 if isinstance(promo, BuyXGetY) and promo.percent_off != 100 else 0
            self.twin[promo.id] = _twin(promo, pool)
        # Twin classes as small numbers (the search compares them often, and the terms hold whole pools),
        # and the promotions that have a twin at all: only those need checking.
        classes: dict[tuple, list[ItemPromotion]] = {}
        for promo in promotions:
            if self.twin[promo.id] is not None:
                classes.setdefault(self.twin[promo.id], []).append(promo)
        self.twinned: set[int] = set()  # twins the search still meets
        # A twin that another always outdoes never decides anything: whatever order uses it, the same order
        # with the other in its place takes the same units, saves at least as much, and comes first among
        # equals (a lower id) or saves strictly more. The search leaves it out (it gets its notice as before).
        self.outdone: set[int] = set()
        for number, same in enumerate(classes.values()):
            for promo in same:
                self.twin[promo.id] = number
            if len(same) > 1:
                for promo in same:
                    for other in same:
                        outdoes, strictly = _outdoes(other, promo, self.pools[promo.id]) if other is not promo else (False, False)
                        if outdoes and (other.id < promo.id or strictly):
                            self.outdone.add(promo.id)
                left = [promo.id for promo in same if promo.id not in self.outdone]
                if len(left) > 1:
                    self.twinned.update(left)
        self.steps = -1
        self.greedy_groups = 0
        self._applied: dict[tuple, _Take | None] = {}
        self._solved: dict[tuple, tuple[int, tuple[_Take, ...]]] = {}
        self._short: dict[tuple, int] = {}
        # Sets of promotions are ints: one bit a promotion, in id order.
        self.bit = {promo.id: 1 << n for n, promo in enumerate(sorted(promotions, key=lambda p: p.id))}
        self.by_bit = {self.bit[promo.id]: promo.id for promo in promotions}
        self.picks = sum([self.bit[promo.id] for promo in promotions if isinstance(promo, PickAny)])
        self._sets: dict[int, tuple] = {}
        self._mosts: dict[int, tuple[int, ...]] = {}

    def groups(self, promotions: Sequence[ItemPromotion]) -> list[list[ItemPromotion]]:
        """What `_groups` gives (promotions that can touch a common line, transitively), from the pools."""
        parts: list[tuple[int, list[ItemPromotion]]] = []
        for promo in promotions:
            mask, members, kept = self.masks[promo.id], [promo], []
            for part_mask, part in parts:
                if part_mask & mask:
                    mask |= part_mask
                    members = part + members
                else:
                    kept.append((part_mask, part))
            kept.append((mask, members))
            parts = kept
        return sorted((sorted(part, key=lambda p: p.id) for _, part in parts), key=lambda part: part[0].id)

    def apply(self, promo: ItemPromotion, free: list[int]) -> _Take | None:
        key = (promo.id, self.counts[promo.id](free))
        application = self._applied.get(key, _UNKNOWN)
        if application is _UNKNOWN:
            self._step()
            application = self._applied[key] = _TAKES[type(promo)](promo, self.pools[promo.id], free)
        return application

    def _step(self) -> None:
        self.steps -= 1
        if self.steps == 0:
            raise _OutOfBudget

    def best(self, group: list[ItemPromotion], free: list[int]) -> list[ItemApplication]:
        self.steps = SEARCH_BUDGET
        try:
            # No floor to start from: the search's first descent takes the promotion saving the most at
            # every step (the greedy choice), which cuts the rest as well as a greedy floor worked out
            # beforehand did (the same subproblems on the benchmark's carts), without its rule runs.
            plans = self._best([promo for promo in group if promo.id not in self.outdone], free, 0)[1]
        except _OutOfBudget:
            self.steps = -1  # no more counting
            self.greedy_groups += 1
            plans = self._greedy(group, free)
        self.steps = -1
        return self._applications(plans, free)

    def _applications(self, takes: Sequence[_Take], free: list[int]) -> list[ItemApplication]:
        """The chosen applications in full: each rule run again, in the order of application, on what the
        ones before it left (what each one's own lines hold then is what the search saw)."""
        left, applications = list(free), []
        for take in takes:
            promo = take.promotion
            plan = _RULES[type(promo)](promo, self.pools[promo.id], left)
            for line, units in take.units:
                left[line] -= units
            applications.append(plan.application(self.order))
        return applications

    def _greedy(self, group: list[ItemPromotion], free: list[int]) -> list[_Take]:
        """One at a time, the remaining promotion that saves the most now (ties to the lowest id)."""
        left, remaining, chosen = list(free), list(group), []
        while remaining:
            candidates = [(promo, self.apply(promo, left)) for promo in remaining]
            candidates = [(promo, plan) for promo, plan in candidates if plan]
            if not candidates:
                break
            promo, plan = max(candidates, key=lambda c: (c[1].saving, -c[0].id))
            for line, units in plan.units:
                left[line] -= units
            chosen.append(plan)
            remaining.remove(promo)
        return chosen

    def _bounds(self, members: int) -> tuple[tuple[int, ...], int]:
        """For a set of promotions (`members`, their bits): per line of `order`, the most any of them takes
        off a unit of it (see `_unit_rates`), and the rounding slack (half a dollar a line for each 買X享Y not
        100 % off). Each unit goes to one promotion at most, so the set can't save more than the units left
        times those rates, plus the slack."""
        found = self._sets.get(members)
        if found is None:
            slack, rest = 0, members
            while rest:
                bit = rest & -rest
                rest ^= bit
                slack += self.slack[self.by_bit[bit]]
            found = self._sets[members] = (self._most(members) if members else (), slack)
        return found

    def _most(self, members: int) -> tuple[int, ...]:
        """Per line of `order`, the highest rate of the promotions `members` (remembered: the sets the
        search meets mostly differ by one promotion)."""
        mosts = self._mosts
        found = mosts.get(members)
        if found is None:
            last = 1 << (members.bit_length() - 1)
            found = self.rates[self.by_bit[last]]
            if members != last:
                # From a set known already with one promotion less, if there is one (one pass), else from
                # the set without the highest id (built the same way).
                rest, part = members, None
                while rest and part is None:
                    one = rest & -rest
                    rest ^= one
                    part = mosts.get(members ^ one)
                if part is None:
                    part, one = self._most(members ^ last), last
                found = tuple([a if a > b else b for a, b in zip(part, self.rates[self.by_bit[one]])])
            mosts[members] = found
        return found

    def _best(self, remaining: Sequence[ItemPromotion], free: list[int], need: int):
        """The largest saving `remaining` can still make from `free`, and the applications that make it, in
        the order of application that comes first in id order among the best (what a depth-first search of
        every order, in id order, keeping the first strictly better result, returns); or None when that
        saving is less than `need` (the caller already has something at least as good).

        A promotion that can take nothing now is left out of what follows, as the plain search does.
        Results are remembered by (promotions, free units), and so is "less than `need`"."""
        if not remaining:
            return (0, ()) if need <= 0 else None
        if len(remaining) == 1:
            return self._single(remaining[0], free, need)
        return self._solve(remaining, self._members(remaining), free, need)

    def _single(self, promo: ItemPromotion, free: list[int], need: int):
        """`_best` for one promotion: what its rule takes. (No bound first: it would cost about as much as
        the rule, and cut less than the rule's answer.)"""
        application = self.apply(promo, free)
        if application is None:
            return (0, ()) if need <= 0 else None
        return (application.saving, (application,)) if application.saving >= need else None

    def _members(self, promotions) -> int:
        bit = self.bit
        return sum([bit[promo.id] for promo in promotions])

    def _solve(self, remaining, members: int, free: list[int], need: int, bound=None):
        """`_best`, given the promotions' bits, and the bound by rates when the caller has it already.
        (Remembered by all the free units: cheaper to key than those of the promotions' own lines, and
        it merges nearly as many orders.)"""
        self.steps -= 1  # `_step`, inline: this and the rules below run the most
        if self.steps == 0:
            raise _OutOfBudget
        memo = (members, tuple(free))
        found = self._solved.get(memo)
        if found is not None:
            return found if found[0] >= need else None
        short = self._short.get(memo)
        if short is not None and need >= short:
            return None
        found = None
        if bound is None and need > 0:
            bound = self._bound(members, free)
        if need <= 0 or bound >= need:
            options, chosen, applied, counts, bit = [], 0, self._applied, self.counts, self.bit
            for promo in remaining:
                key = (promo.id, counts[promo.id](free))  # `apply`, inline
                application = applied.get(key, _UNKNOWN)
                if application is _UNKNOWN:
                    self._step()
                    application = applied[key] = _TAKES[type(promo)](promo, self.pools[promo.id], free)
                if application is not None:
                    options.append((promo, application))
                    chosen |= bit[promo.id]
            if not options:
                found = (0, ()) if need <= 0 else None
            elif need > 0 and self._bound_after(options, chosen, free, need, bound if chosen == members else None) < need:
                found = None
            else:
                parts = self._independent(options, free)
                if len(parts) == 1:
                    found = self._search(options, chosen, free, need)
                else:
                    found = self._combine(parts, free, need)
        if found is None:
            self._short[memo] = need if short is None else min(short, need)
        else:
            self._solved[memo] = found
        return found

    def _bound(self, members: int, free: list[int]) -> int:
        rates, slack = self._bounds(members)
        return slack + sum(map(mul, free, rates))

    def _bound_after(self, options, members: int, free: list[int], need: int, by_rates: int | None = None) -> int:
        """A bound once the rules have run, tightened as far as it takes to compare it with `need`: only the
        promotions that can take something count, and a 任選 can never save more than it does now (its
        groups are blocks of the dearest units, each saving its sum minus the price while positive: fewer
        units make every block cheaper), so the units it would take count at most that much; the other
        promotions count by their rates. (`by_rates`: the bound by rates of these options, when the caller
        has it.) `members`: the options' bits."""
        if by_rates is None:
            by_rates = self._bound(members, free)
        picks = members & self.picks
        if by_rates < need or not picks:
            return by_rates
        saved = sum([application.saving for promo, application in options if self.bit[promo.id] & picks])
        return min(by_rates, saved + self._bound(members ^ picks, free))

    def _combine(self, parts, free: list[int], need: int):
        """Independent sets of promotions: each one's best, together; their applications interleaved."""
        bounds = [self._bound(self._members(part), free) for part in parts]
        solved = []
        for part, bound in zip(parts, bounds):
            found = self._best(part, free, need - (sum(bounds) - bound))
            if found is None:
                return None
            solved.append(found)
        saving = sum(saving for saving, _ in solved)
        if saving < need:
            return None
        return saving, _merge([applications for _, applications in solved])

    def _independent(self, options, free: list[int]) -> list[list[ItemPromotion]]:
        """The options split into sets that share no line with units left (each set in id order)."""
        live = sum(compress(self.line_bits, free))  # distinct bits: the sum is their union
        masks = self.masks
        first = masks[options[0][0].id] & live
        if all([masks[promo.id] & first for promo, _ in options[1:]]):  # the usual case: all meet the first
            return [[promo for promo, _ in options]]
        parts: list[tuple[int, list[ItemPromotion]]] = []
        for promo, _ in options:
            mask, members, kept = self.masks[promo.id] & live, [promo], []
            for part_mask, part in parts:
                if part_mask & mask:
                    mask |= part_mask
                    members.extend(part)
                else:
                    kept.append((part_mask, part))
            kept.append((mask, members))
            parts = kept
        if len(parts) == 1:
            return [[promo for promo, _ in options]]
        return sorted((sorted(part, key=lambda p: p.id) for _, part in parts), key=lambda part: part[0].id)

    def _twins(self, options) -> set[int]:
        """The ids of the twins (see `_search`) whose branches can't win."""
        classes: dict[int, list] = {}
        twinned, twin = self.twinned, self.twin
        for promo, application in options:
            if promo.id in twinned:
                classes.setdefault(twin[promo.id], []).append((promo, application))
        skip: set[int] = set()
        for same in classes.values():
            if len(same) > 1:
                winner = max(same, key=lambda option: (option[1].saving, -option[0].id))[0]
                skip.update(promo.id for promo, _ in same if promo is not winner)
        return skip

    def _search(self, options, members: int, free: list[int], need: int):
        """Branch and bound over which promotion goes first. The one saving the most now first (the greedy
        choice), so that a good result is known early; a branch is cut when it can't beat the best so far
        (or tie with it and start with a lower id), or reach `need`.
        (The bound of a branch is by rates only: that a 任選 never saves more later than it does now
        tightens it in `_solve`, once the rules have run; here it cut no more on the benchmark's carts.)

        Twins (`_twin`) take exactly the same units, after which none of them can take anything: their
        branches leave the same units to the same others, so only the one saving the most (the lowest id
        on a tie) can win, and the others are not searched. `members`: the options' bits."""
        bit = self.bit
        skip = self._twins(options) if len(options) > 1 else ()
        best_saving, best_first, best = -1, 0, None
        ranked = sorted([(-application.saving, promo.id, promo, application) for promo, application in options])
        for _, _, promo, application in ranked:
            if promo.id in skip:
                continue
            if best is None:
                wanted = need - application.saving
            else:
                wanted = best_saving - application.saving + (0 if promo.id < best_first else 1)
            left = list(free)
            for line, units in application.units:
                left[line] -= units
            rest_members = members ^ bit[promo.id]
            if not rest_members:
                found = (0, ()) if wanted <= 0 else None
            elif not rest_members & (rest_members - 1):  # one promotion left
                found = self._single(next(other for other, _ in options if other is not promo), left, wanted)
            else:
                by_rates = self._bound(rest_members, left)
                if by_rates < wanted:
                    continue
                rest = [other for other, _ in options if other is not promo]
                found = self._solve(rest, rest_members, left, wanted, by_rates)
            if found is None:
                continue
            saving = application.saving + found[0]
            if best is None or saving > best_saving or (saving == best_saving and promo.id < best_first):
                best_saving, best_first, best = saving, promo.id, (application, *found[1])
        return None if best is None else (best_saving, best)


def _merge(sequences: list[tuple[_Take, ...]]) -> tuple[_Take, ...]:
    """Independent sequences of applications interleaved, the lowest promotion id first at each step."""
    merged, heads = [], [0] * len(sequences)
    while True:
        pick = None
        for i, sequence in enumerate(sequences):
            if heads[i] < len(sequence) and (pick is None or sequence[heads[i]].promotion.id < sequences[pick][heads[pick]].promotion.id):
                pick = i
        if pick is None:
            return tuple(merged)
        merged.append(sequences[pick][heads[pick]])
        heads[pick] += 1


# --- Sharing units between competing item promotions ---------------------------------------------------


@dataclass(frozen=True)
class ItemPromotionsResult:
    applications: tuple[ItemApplication, ...]
    notices: tuple[Notice, ...]

    @property
    def saving(self) -> int:
        return sum(app.saving for app in self.applications)

    def discount_by_line(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for app in self.applications:
            for touch in app.touches:
                totals[touch.line_key] += touch.amount
        return totals


def _groups(promotions: list[ItemPromotion], lines: Sequence[CartLine]) -> list[list[ItemPromotion]]:
    """Promotions that can touch a common line, transitively; each group sorted by id, groups by first id."""
    parent = {promo.id: promo.id for promo in promotions}

    def root(pid: int) -> int:
        while parent[pid] != pid:
            parent[pid] = parent[parent[pid]]
            pid = parent[pid]
        return pid

    for line in lines:
        ids = [promo.id for promo in promotions if promo.touches(line)]
        for other in ids[1:]:
            a, b = root(ids[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    grouped: dict[int, list[ItemPromotion]] = defaultdict(list)
    for promo in promotions:
        grouped[root(promo.id)].append(promo)
    return [grouped[key] for key in sorted(grouped)]


def _why_not(promo: ItemPromotion, engine: _Engine, free: list[int]) -> Notice:
    """The reason an item promotion took nothing, judged on the whole cart."""
    lines = engine.order
    eligible = engine.lines[promo.id]  # the lines it touches
    units = sum(lines[i].quantity for i in eligible)

    def notice(code: str, text) -> Notice:
        return Notice(code=code, message=text, source=Source.PROMOTION, source_id=promo.id)

    if not eligible:
        return notice("promotion.no_eligible_items", message(_("{name}: no item in the cart qualifies."), name=promo.name))
    if engine.apply(promo, free) is not None:
        return notice(
            "promotion.outbid",
            message(_("{name}: its items went to promotions that save the customer more."), name=promo.name),
        )
    if isinstance(promo, Bundle):
        pool = engine.pools[promo.id]
        if not (pool.a and pool.b):
            return notice(
                "promotion.bundle_incomplete",
                message(_("{name}: needs one item from each of its two groups."), name=promo.name),
            )
        return notice("promotion.no_saving", message(_("{name}: the bundle price is not lower than the items' price."), name=promo.name))
    needed = promo.size if isinstance(promo, PickAny) else promo.buy + promo.get
    if units < needed:
        missing = needed - units
        return notice(
            "promotion.needs_more_items",
            message(
                ngettext_lazy("{name}: add {count} more eligible item.", "{name}: add {count} more eligible items.", missing),
                name=promo.name,
                count=missing,
            ),
        )
    return notice("promotion.no_saving", message(_("{name}: the promotion price is not lower than the items' price."), name=promo.name))


def apply_item_promotions(lines: Sequence[CartLine], promotions: Sequence[ItemPromotion]) -> ItemPromotionsResult:
    """Step 2: share the catalog units between the item promotions (see the module docstring)."""
    ordered = sorted(promotions, key=lambda p: p.id)
    ids = [promo.id for promo in ordered]
    if len(set(ids)) != len(ids):
        raise PricingError("promotion.duplicate_id", _("Two promotions have the same id."))
    priced = sorted((line for line in lines if line.is_catalog and line.unit_price > 0), key=lambda l: (-l.unit_price, l.key))
    free = [line.quantity for line in priced]
    engine = _Engine(ordered, priced)
    applications: list[ItemApplication] = []
    for group in engine.groups(ordered):
        applications.extend(engine.best(group, free))
    applied = {app.promotion.id for app in applications}
    notices = tuple(_why_not(promo, engine, free) for promo in ordered if promo.id not in applied)
    return ItemPromotionsResult(tuple(applications), notices)


# --- Order promotions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPromotionsResult:
    applications: tuple[OrderApplication, ...]
    notices: tuple[Notice, ...]

    @property
    def discount(self) -> int:
        return sum(app.discount for app in self.applications)


def apply_order_promotions(base: int, promotions: Sequence[OrderDiscount]) -> OrderPromotionsResult:
    """Step 3: the best qualifying order promotion, plus the stackable ones, on `base` (after step 2)."""
    ordered = sorted(promotions, key=lambda p: p.id)
    notices: list[Notice] = []
    qualifying = []
    for promo in ordered:
        if base >= promo.min_spend and promo.discount_on(base) > 0:
            qualifying.append(promo)
        else:
            notices.append(
                Notice(
                    code="promotion.below_minimum",
                    message=message(
                        _("{name}: spend {short} more to get it."), name=promo.name, short=twd(max(promo.min_spend - base, 0))
                    )
                    if base < promo.min_spend
                    else message(_("{name}: nothing to take off."), name=promo.name),
                    source=Source.PROMOTION,
                    source_id=promo.id,
                )
            )
    exclusive = [promo for promo in qualifying if not promo.stackable]
    best = max(exclusive, key=lambda p: (p.discount_on(base), -p.id)) if exclusive else None
    chosen = [promo for promo in qualifying if promo.stackable or promo is best]
    for promo in exclusive:
        if promo is not best:
            notices.append(
                Notice(
                    code="promotion.not_best",
                    message=message(
                        _("{name}: only one order promotion applies, and {best} saves more."), name=promo.name, best=best.name
                    ),
                    source=Source.PROMOTION,
                    source_id=promo.id,
                )
            )
    applications, left = [], base
    for promo in chosen:
        discount = min(promo.discount_on(base), left)
        if discount > 0:
            applications.append(OrderApplication(promo, discount))
            left -= discount
    return OrderPromotionsResult(tuple(applications), tuple(notices))
