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
the same line form a group; within a group every order of application is tried (each promotion taking
what it can, by its own rule, from what the ones before it left) and the order with the largest total
saving wins; on a tie, the order that lets the earliest-created promotion (lowest id) go first. Groups of
more than `EXHAUSTIVE_LIMIT` competing promotions are rare; for them (and when the search would take more
than `SEARCH_BUDGET` rule applications) the engine also applies, one at a time, whichever remaining
promotion saves the most (ties to the lowest id), and keeps the better result. Either way the result is
deterministic, and every promotion that did not apply gets a notice saying why.

Order promotions (step 3): `OrderDiscount` gives an amount or a percentage (rounded half up) off the
subtotal after step 2 when it reaches `min_spend`. Only the one saving the most applies (ties to the
lowest id), plus every qualifying promotion marked `stackable`.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Union

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from orders.pricing.adjustments import Notice, Source, Touch, message, twd
from orders.pricing.cart import CartLine, PricingError, Target, check_money
from orders.pricing.rounding import allocate, as_percent, percent_of

EXHAUSTIVE_LIMIT = 8
SEARCH_BUDGET = 5_000


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
# `pool`: the promotion's eligible catalog lines, most expensive first (ties by key): group A and group B
# for a bundle, the same lines twice otherwise; `free`: units not yet taken; `order`: every priced line.


@dataclass(frozen=True)
class _Pool:
    a: tuple[CartLine, ...]
    b: tuple[CartLine, ...]


class _Taking:
    def __init__(self) -> None:
        self.units: dict[str, int] = defaultdict(int)
        self.amount: dict[str, int] = defaultdict(int)
        self.rewards: dict[str, int] = defaultdict(int)

    def add(self, key: str, units: int, amount: int, rewards: int = 0) -> None:
        self.units[key] += units
        self.amount[key] += amount
        self.rewards[key] += rewards

    def touches(self, order: Sequence[CartLine]) -> tuple[Touch, ...]:
        return tuple(
            Touch(line_key=line.key, units=self.units[line.key], amount=self.amount[line.key], reward_units=self.rewards[line.key])
            for line in order
            if self.units.get(line.key)
        )


def _pick_any(promo: PickAny, pool: _Pool, free: dict[str, int], order: Sequence[CartLine]) -> ItemApplication | None:
    lines = [line for line in pool.a if free[line.key]]
    avail = [free[line.key] for line in lines]
    taking, groups, i = _Taking(), 0, 0
    size, price = promo.size, promo.price
    while True:
        while i < len(lines) and avail[i] == 0:
            i += 1
        if i == len(lines):
            break
        line = lines[i]
        if avail[i] >= size:  # whole groups inside one line: all alike, taken at once
            per_group = size * line.unit_price - price
            if per_group <= 0:
                break
            count = avail[i] // size
            avail[i] -= count * size
            taking.add(line.key, count * size, count * per_group)
            groups += count
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
        weights = [lines[j].unit_price * take for j, take in picked]
        saving = sum(weights) - price
        if saving <= 0:
            break
        for (j, take), share in zip(picked, allocate(saving, weights)):
            avail[j] -= take
            taking.add(lines[j].key, take, share)
        groups += 1
    return ItemApplication(promo, groups, taking.touches(order)) if groups else None


def _two_available(group: tuple[CartLine, ...], avail: dict[str, int], start: int) -> tuple[int, list[CartLine]]:
    """The first index with units left (it only moves forward) and the two dearest lines with units."""
    while start < len(group) and not avail[group[start].key]:
        start += 1
    found, j = [], start
    while j < len(group) and len(found) < 2:
        if avail[group[j].key]:
            found.append(group[j])
        j += 1
    return start, found


def _bundle(promo: Bundle, pool: _Pool, free: dict[str, int], order: Sequence[CartLine]) -> ItemApplication | None:
    avail = dict(free)
    taking, pairs, start_a, start_b = _Taking(), 0, 0, 0
    while True:
        best = None
        # The two dearest candidates on each side are enough to choose the dearest feasible pair, even
        # when one line belongs to both groups.
        start_a, tops_a = _two_available(pool.a, avail, start_a)
        start_b, tops_b = _two_available(pool.b, avail, start_b)
        for a in tops_a:
            for b in tops_b:
                if a.key == b.key and avail[a.key] < 2:
                    continue
                value = a.unit_price + b.unit_price
                if best is None or value > best[0]:
                    best = (value, a, b)
        if best is None:
            break
        value, a, b = best
        saving = promo.pair_saving(value)
        if saving <= 0:
            break
        # The same pair stays the best until one side runs out: take all those pairs at once.
        if a.key == b.key:
            count = avail[a.key] // 2
            avail[a.key] -= 2 * count
            taking.add(a.key, 2 * count, count * saving)
        else:
            count = min(avail[a.key], avail[b.key])
            avail[a.key] -= count
            avail[b.key] -= count
            share_a, share_b = allocate(count * saving, [count * a.unit_price, count * b.unit_price])
            taking.add(a.key, count, share_a)
            taking.add(b.key, count, share_b)
        pairs += count
    return ItemApplication(promo, pairs, taking.touches(order)) if pairs else None


def _buy_x_get_y(promo: BuyXGetY, pool: _Pool, free: dict[str, int], order: Sequence[CartLine]) -> ItemApplication | None:
    lines = [line for line in pool.a if free[line.key]]
    block = promo.buy + promo.get
    blocks = sum(free[line.key] for line in lines) // block
    if not promo.repeat:
        blocks = min(blocks, 1)
    if not blocks:
        return None
    to_take, to_reward = blocks * block, blocks * promo.get
    taking = _Taking()
    for line in reversed(lines):  # the cheapest units first
        take = min(free[line.key], to_take)
        if not take:
            break
        rewarded = min(take, to_reward)
        taking.add(line.key, take, percent_of(line.unit_price * rewarded, promo.percent_off) if rewarded else 0, rewarded)
        to_take -= take
        to_reward -= rewarded
    application = ItemApplication(promo, blocks, taking.touches(order))
    return application if application.saving > 0 else None


_RULES = {PickAny: _pick_any, Bundle: _bundle, BuyXGetY: _buy_x_get_y}


def _pool(promo: ItemPromotion, order: Sequence[CartLine]) -> _Pool:
    if isinstance(promo, Bundle):
        return _Pool(tuple(l for l in order if promo.a.matches(l)), tuple(l for l in order if promo.b.matches(l)))
    eligible = tuple(l for l in order if promo.target.matches(l))
    return _Pool(eligible, eligible)


class _Engine:
    """The priced lines, each promotion's eligible lines (worked out once), and the search over orders."""

    def __init__(self, promotions: Sequence[ItemPromotion], order: Sequence[CartLine]):
        self.order = order
        self.pools = {promo.id: _pool(promo, order) for promo in promotions}

    def apply(self, promo: ItemPromotion, free: dict[str, int]) -> ItemApplication | None:
        return _RULES[type(promo)](promo, self.pools[promo.id], free, self.order)

    def best(self, group: list[ItemPromotion], free: dict[str, int]) -> list[ItemApplication]:
        if len(group) <= EXHAUSTIVE_LIMIT:
            self.budget = SEARCH_BUDGET
            found = self._search(group, free)
            if self.budget > 0:
                return found
            greedy = self._greedy(group, free)  # the search ran out of budget: the better of the two
            return greedy if sum(a.saving for a in greedy) > sum(a.saving for a in found) else found
        return self._greedy(group, free)

    def _search(self, group: list[ItemPromotion], free: dict[str, int]) -> list[ItemApplication]:
        """Every order of application, depth first in id order, keeping the first with the largest saving
        (so ties go to the order that lets the earliest-created promotion go first). A promotion that can
        take nothing now can take nothing later (units only run out), so it is dropped from that branch.
        At most about `SEARCH_BUDGET` rule applications: a deterministic bound on a quote's time."""
        best: list = [-1, []]

        def visit(remaining: list[ItemPromotion], free: dict[str, int], taken: list[ItemApplication], saving: int) -> None:
            if self.budget <= 0:
                return
            self.budget -= len(remaining)
            options = [(promo, self.apply(promo, free)) for promo in remaining]
            options = [(promo, application) for promo, application in options if application]
            if not options:
                if saving > best[0]:
                    best[0], best[1] = saving, list(taken)
                return
            for promo, application in options:
                left = dict(free)
                for touch in application.touches:
                    left[touch.line_key] -= touch.units
                rest = [other for other, _ in options if other is not promo]
                visit(rest, left, [*taken, application], saving + application.saving)

        visit(list(group), dict(free), [], 0)
        return best[1]

    def _greedy(self, group: list[ItemPromotion], free: dict[str, int]) -> list[ItemApplication]:
        left, remaining, chosen = dict(free), list(group), []
        while remaining:
            candidates = [(promo, self.apply(promo, left)) for promo in remaining]
            candidates = [(promo, app) for promo, app in candidates if app]
            if not candidates:
                break
            promo, application = max(candidates, key=lambda c: (c[1].saving, -c[0].id))
            for touch in application.touches:
                left[touch.line_key] -= touch.units
            chosen.append(application)
            remaining.remove(promo)
        return chosen


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


def _why_not(promo: ItemPromotion, engine: _Engine, free: dict[str, int]) -> Notice:
    """The reason an item promotion took nothing, judged on the whole cart."""
    lines = engine.order
    eligible = [line for line in lines if promo.touches(line)]
    units = sum(free[line.key] for line in eligible)

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
        has_a = any(promo.a.matches(line) for line in lines)
        has_b = any(promo.b.matches(line) for line in lines)
        if not (has_a and has_b):
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
    free = {line.key: line.quantity for line in priced}
    engine = _Engine(ordered, priced)
    applications: list[ItemApplication] = []
    for group in _groups(ordered, priced):
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
