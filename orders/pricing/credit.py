"""Store credit (購物金, step 6).

Offered only when the shop's master switch is on and the customer has a positive balance (expired credit
is left out of `balance` by whoever builds the context). Redeemable only when the merchandise amount
after step 5 reaches the shop's minimum; never more than the shop's per-order maximum, the customer's
balance or that merchandise amount (credit never pays shipping). When the shop lets customers choose,
staff may enter any amount within those bounds (the maximum allowed when they enter none); otherwise the
maximum allowed is applied and an entered amount is ignored with a notice.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from orders.pricing.adjustments import Notice, Source, message, twd
from orders.pricing.cart import check_money


@dataclass(frozen=True)
class CreditPolicy:
    """The shop's settings: master switch, minimum order to redeem, maximum per order (None: no maximum)."""

    enabled: bool = False
    minimum_order: int = 0
    max_per_order: int | None = None
    customer_may_choose: bool = False

    def __post_init__(self) -> None:
        check_money(self.minimum_order, _("The minimum order for store credit"))
        if self.max_per_order is not None:
            check_money(self.max_per_order, _("The maximum store credit per order"))


@dataclass(frozen=True)
class CreditResult:
    """`offered`: the quick order shows the credit field; `max_allowed`: the most this order can take;
    `applied`: what it takes; `editable`: staff may change the amount."""

    offered: bool
    eligible: bool
    editable: bool
    balance: int
    minimum_order: int
    max_per_order: int | None
    max_allowed: int
    requested: int | None
    applied: int
    notices: tuple[Notice, ...] = ()


def _notice(code: str, text) -> Notice:
    return Notice(code=code, message=text, source=Source.CREDIT)


def redeem_credit(*, policy: CreditPolicy, balance: int, requested: int | None, amount_due: int) -> CreditResult:
    check_money(balance, _("The store credit balance"))
    check_money(amount_due, _("The amount due"))
    if requested is not None:
        check_money(requested, _("The store credit to use"))

    def result(*, offered: bool, eligible: bool = False, max_allowed: int = 0, applied: int = 0, notices=()) -> CreditResult:
        return CreditResult(
            offered=offered,
            eligible=eligible,
            editable=offered and eligible and policy.customer_may_choose,
            balance=balance,
            minimum_order=policy.minimum_order,
            max_per_order=policy.max_per_order,
            max_allowed=max_allowed,
            requested=requested,
            applied=applied,
            notices=tuple(notices),
        )

    if not policy.enabled:
        notices = [_notice("credit.disabled", _("The shop does not take store credit."))] if requested else []
        return result(offered=False, notices=notices)
    if balance <= 0:
        notices = [_notice("credit.no_balance", _("This customer has no store credit."))] if requested else []
        return result(offered=False, notices=notices)
    if amount_due < policy.minimum_order or amount_due == 0:
        return result(
            offered=True,
            notices=[
                _notice(
                    "credit.below_minimum",
                    message(
                        _("Store credit can be used on orders of {minimum} or more (this order: {amount})."),
                        minimum=twd(policy.minimum_order),
                        amount=twd(amount_due),
                    ),
                )
            ],
        )
    bounds = [amount_due, balance] if policy.max_per_order is None else [policy.max_per_order, balance, amount_due]
    max_allowed = min(bounds)
    notices = []
    if not policy.customer_may_choose:
        applied = max_allowed
        if requested is not None and requested != max_allowed:
            notices.append(
                _notice(
                    "credit.not_editable",
                    message(
                        _("The shop applies the most credit allowed ({amount}); the amount can't be changed."),
                        amount=twd(max_allowed),
                    ),
                )
            )
    elif requested is None:
        applied = max_allowed
    else:
        applied = min(requested, max_allowed)
        if requested > max_allowed:
            if policy.max_per_order is not None and max_allowed == policy.max_per_order:
                text = message(_("At most {amount} of store credit can be used per order."), amount=twd(max_allowed))
            elif max_allowed == balance:
                text = message(_("The customer has {amount} of store credit."), amount=twd(balance))
            else:
                text = message(_("Store credit can't be more than the amount due ({amount})."), amount=twd(amount_due))
            notices.append(_notice("credit.over_maximum", text))
    return result(offered=True, eligible=True, max_allowed=max_allowed, applied=applied, notices=notices)
