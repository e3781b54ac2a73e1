"""Quick-order writes: placing an order from a conversation, and the draft cart saved as it is built.

`place_order(*, conversation, actor, draft)` is the one way an order is made. The draft is what the
quick-order panel holds (the same dict `save_draft` stores):

    {"lines": [{"variant_id": 1, "quantity": 2} | {"gift_id": 3, "quantity": 1}
               | {"custom": {"name": "...", "unit_price": 300, "taxable": false, "publish": false,
                             "image_id": 7}, "quantity": 1}],   # image_id: an upload_custom_image result
     "coupon_code": "SAVE100", "custom_discounts": [{"label": "老客戶", "amount": 30}],
     "credit_amount": null,            # null: as much as the shop's rules allow
     "delivery_method_id": 1, "payment_method_id": 2,
     "store": {"id": "..."},           # store pickup: the store picked in the directory
     "address_id": null,               # a saved address of the customer, filling the recipient's blanks
     "recipient": {"name": "...", "phone": "...", "address": "...", "country": "TW"},
     "issue_invoice": true, "invoice": {"type": "company", "business_number": "...", "company_title": "..."},
     "tags": ["VIP"], "note": "...",
     "expected_total": 1960}           # what the panel showed; the server never charges anything else

The server re-prices everything with `orders.pricing.quote` on rows it has locked (`orders.lock_objects`):
the client's total is only compared, never used. When stock, the coupon's uses, the customer's credit or
the total changed meanwhile, `OrderConflict` lists why (the API answers 409); rule breaks (tags, note,
delivery, recipient, invoice, a custom product's picture that isn't there) raise `OrderInvalid` (400)
before any lock is taken.

Also here: the custom products' pictures uploaded from the panel (`upload_custom_image`, through
`orders.images`) and the shop's saved order tags (`save_order_tag`, `delete_order_tag`).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import unicodedata
import uuid
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Address, CreditEntry, Customer
from inbox import events
from inbox.models import Conversation
from orders import images, pricing, selectors
from orders.errors import CartInputError, DraftConflict, OrderConflict, OrderInvalid, QuickOrderUnavailable
from orders.invoice import InvoiceError, validate_invoice
from orders.lock_objects import lock_order_rows
from orders.logistics import Recipient, check_delivery, rule_for, store_directory
from orders.models import (
    MAX_ORDER_TAG_LENGTH,
    CommerceSettings,
    Coupon,
    CustomImage,
    DeliveryMethod,
    Gift,
    Order,
    OrderAdjustment,
    OrderDraft,
    OrderEvent,
    OrderLine,
    OrderStatus,
    OrderTag,
    PaymentMethod,
    PaymentStatus,
    Product,
    Variant,
)
from orders.logistics import PAY_AT_PICKUP, PaymentType

logger = logging.getLogger(__name__)

MAX_TAGS = 10
MAX_TAG_LENGTH = MAX_ORDER_TAG_LENGTH
MAX_SAVED_TAGS = 200  # the shop's saved tags (the panel lists them all)
MAX_NOTE = 200
MAX_DRAFT_BYTES = 64_000
EDITING_TTL = dt.timedelta(seconds=90)  # an editing claim not renewed for this long has lapsed
ACCESS_KEY_BYTES = 32


# --- Availability -----------------------------------------------------------------------------------------


def quick_order_refusal(*, conversation: Conversation, actor) -> str:
    """Why `actor` can't take a quick order in this conversation ("" when they can): the seed's rule is that
    a conversation assigned to someone else can't be ordered for."""
    if conversation.assignee_id is not None and conversation.assignee_id != getattr(actor, "pk", None):
        name = conversation.assignee.get_username() if conversation.assignee else ""
        return _("This conversation is assigned to %(name)s: only they can take a quick order here.") % {"name": name}
    return ""


def check_quick_order_available(*, conversation: Conversation, actor) -> None:
    refusal = quick_order_refusal(conversation=conversation, actor=actor)
    if refusal:
        raise QuickOrderUnavailable(refusal)


# --- Credit and coupons -----------------------------------------------------------------------------------


def usable_credit_balance(*, customer: Customer | None, now: dt.datetime) -> int:
    """The member's store credit that can be spent now: the balance less what is left of grants already
    past their expiry that the expiry job has not written off yet (customers has no such selector)."""
    if customer is None:
        return 0
    expired = (
        CreditEntry.objects.filter(customer=customer, remaining__gt=0, expires_at__lte=now).aggregate(s=Sum("remaining"))["s"] or 0
    )
    return max(0, customer.credit_balance - expired)


def coupon_uses_by(*, customer: Customer | None, coupon_id: int) -> int:
    """How many of this member's orders (not cancelled) used the coupon: for its per-customer limit."""
    if customer is None:
        return 0
    return (
        OrderAdjustment.objects.filter(kind=pricing.Step.COUPON, source_id=coupon_id, order__customer=customer)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values("order_id")
        .distinct()
        .count()
    )


# --- Reading the draft ----------------------------------------------------------------------------------


def _int(value, field: str, errors: dict, *, minimum: int = 0, maximum: int = 2**31 - 1, optional: bool = False):
    if value is None or value == "":
        if optional:
            return None
        errors[field] = _("Required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        errors[field] = _("Enter a whole number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}
        return None
    return value


def _text(value, field: str, errors: dict, *, maximum: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = _("Enter text.")
        return ""
    value = value.strip()
    if len(value) > maximum:
        errors[field] = _("At most %(max)s characters.") % {"max": maximum}
    return value


def clean_tags(raw) -> list[str]:
    """At most 10 distinct tags of at most 30 characters (the seed's limit); raises `OrderInvalid`."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise OrderInvalid(_("Order tags are a list of words."), errors={"tags": _("Enter tags as text.")})
    tags: list[str] = []
    for tag in raw:
        tag = normalize_tag(tag)
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise OrderInvalid(_("An order has at most 10 tags."), errors={"tags": _("An order has at most 10 tags.")})
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise OrderInvalid(_("A tag has at most 30 characters."), errors={"tags": _("A tag has at most 30 characters.")})
    return tags


def normalize_tag(text: str) -> str:
    """A tag as stored: its words joined by single spaces, without control characters (invisible in a label,
    and PostgreSQL can't store NUL at all)."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch.isspace())
    return " ".join(visible.split())


def clean_note(raw) -> str:
    """The order note, at most 200 characters (the customer sees it); raises `OrderInvalid`."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise OrderInvalid(_("The note is text."), errors={"note": _("Enter text.")})
    note = raw.strip()
    if len(note) > MAX_NOTE:
        raise OrderInvalid(_("The order note has at most 200 characters."), errors={"note": _("At most 200 characters.")})
    return note


@dataclass(frozen=True)
class CustomProduct:
    name: str
    unit_price: int
    quantity: int
    taxable: bool
    publish: bool
    image_id: int | None = None


@dataclass(frozen=True)
class OrderRequest:
    """The draft, checked for shape and the seed's limits (nothing read from the database yet)."""

    lines: tuple
    customs: tuple[CustomProduct, ...]
    coupon_code: str
    custom_discounts: tuple[pricing.CustomDiscount, ...]
    credit_amount: int | None
    delivery_method_id: int | None
    payment_method_id: int | None
    store_id: str
    address_id: int | None
    recipient: dict
    issue_invoice: bool
    invoice: dict
    tags: list[str]
    note: str
    expected_total: int | None


def read_draft(draft) -> OrderRequest:
    """The draft dict as an `OrderRequest`; every problem found raises one `OrderInvalid` listing them."""
    if not isinstance(draft, dict):
        raise OrderInvalid(_("The order is missing."))
    errors: dict = {}
    raw_lines = draft.get("lines") or []
    if not isinstance(raw_lines, list) or not raw_lines:
        errors["lines"] = _("Add at least one item.")
        raw_lines = []
    if len(raw_lines) > pricing.MAX_LINES:
        errors["lines"] = _("An order holds at most %(max)s lines.") % {"max": pricing.MAX_LINES}
        raw_lines = []
    lines, customs = [], []
    for index, raw in enumerate(raw_lines):
        field = f"lines.{index}"
        if not isinstance(raw, dict):
            errors[field] = _("Not an item.")
            continue
        quantity = _int(raw.get("quantity"), field, errors, minimum=1, maximum=pricing.MAX_QUANTITY)
        if quantity is None:
            continue
        if raw.get("variant_id") is not None:
            variant_id = _int(raw.get("variant_id"), field, errors, minimum=1, maximum=2**62)
            if variant_id:
                lines.append(selectors.VariantLine(variant_id=variant_id, quantity=quantity))
        elif raw.get("gift_id") is not None:
            gift_id = _int(raw.get("gift_id"), field, errors, minimum=1, maximum=2**62)
            if gift_id:
                lines.append(selectors.GiftLine(gift_id=gift_id, quantity=quantity))
        elif isinstance(raw.get("custom"), dict):
            custom = raw["custom"]
            name = _text(custom.get("name"), field, errors, maximum=200)
            price = _int(custom.get("unit_price"), field, errors, maximum=pricing.MAX_UNIT_PRICE)
            image_id = _int(custom.get("image_id"), field, errors, minimum=1, maximum=2**62, optional=True)
            if not name:
                errors[field] = _("A custom product needs a name.")
            if name and price is not None and field not in errors:
                taxable, publish = bool(custom.get("taxable")), bool(custom.get("publish"))
                lines.append(selectors.CustomLine(name=name, unit_price=price, quantity=quantity, taxable=taxable))
                customs.append(CustomProduct(name, price, quantity, taxable, publish, image_id))
        else:
            errors[field] = _("Not an item.")

    coupon_code = _text(draft.get("coupon_code"), "coupon_code", errors, maximum=32)
    raw_discounts = draft.get("custom_discounts") or []
    discounts = []
    if not isinstance(raw_discounts, list):
        errors["custom_discounts"] = _("Not a list of discounts.")
    elif len(raw_discounts) > pricing.MAX_CUSTOM_DISCOUNTS:
        errors["custom_discounts"] = str(pricing.too_many_custom_discounts().message)
    else:
        for index, raw in enumerate(raw_discounts):
            field = f"custom_discounts.{index}"
            if not isinstance(raw, dict):
                errors[field] = _("Not a discount.")
                continue
            amount = _int(raw.get("amount"), field, errors, maximum=pricing.MAX_UNIT_PRICE * pricing.MAX_QUANTITY)
            label = _text(raw.get("label"), field, errors, maximum=pricing.MAX_DISCOUNT_LABEL)
            if amount is not None and field not in errors:
                discounts.append(pricing.CustomDiscount(label=label, amount=amount))

    credit_amount = _int(draft.get("credit_amount"), "credit_amount", errors, maximum=1_000_000_000, optional=True)
    delivery_id = _int(draft.get("delivery_method_id"), "delivery_method_id", errors, minimum=1, maximum=2**62, optional=True)
    payment_id = _int(draft.get("payment_method_id"), "payment_method_id", errors, minimum=1, maximum=2**62, optional=True)
    address_id = _int(draft.get("address_id"), "address_id", errors, minimum=1, maximum=2**62, optional=True)
    expected = _int(draft.get("expected_total"), "expected_total", errors, maximum=2**62, optional=True)
    store = draft.get("store") or {}
    store_id = _text(store.get("id") if isinstance(store, dict) else None, "store", errors, maximum=64)
    raw_recipient = draft.get("recipient") or {}
    if not isinstance(raw_recipient, dict):
        errors["recipient"] = _("Enter the recipient's details.")
        raw_recipient = {}
    recipient = {
        "name": _text(raw_recipient.get("name"), "name", errors, maximum=100),
        "phone": _text(raw_recipient.get("phone"), "phone", errors, maximum=30),
        "address": _text(raw_recipient.get("address"), "address", errors, maximum=300),
        "country": _text(raw_recipient.get("country"), "country", errors, maximum=2).upper() or "TW",
    }
    invoice = draft.get("invoice") or {}
    if not isinstance(invoice, dict):
        errors["invoice"] = _("Enter the invoice details.")
        invoice = {}
    try:
        tags = clean_tags(draft.get("tags"))
    except OrderInvalid as exc:
        errors.update(exc.errors)
        tags = []
    try:
        note = clean_note(draft.get("note"))
    except OrderInvalid as exc:
        errors.update(exc.errors)
        note = ""
    if errors:
        raise OrderInvalid(_("Some details of the order need fixing."), errors=errors)
    return OrderRequest(
        lines=tuple(lines),
        customs=tuple(customs),
        coupon_code=coupon_code,
        custom_discounts=tuple(discounts),
        credit_amount=credit_amount,
        delivery_method_id=delivery_id,
        payment_method_id=payment_id,
        store_id=store_id,
        address_id=address_id,
        recipient=recipient,
        issue_invoice=bool(draft.get("issue_invoice")),
        invoice=invoice,
        tags=tags,
        note=note,
        expected_total=expected,
    )


# --- Placing the order -----------------------------------------------------------------------------------


def new_order_number(now: dt.datetime | None = None) -> str:
    """Date (Taipei) + 6 random digits, e.g. 20250314482913: short to read out, hard to guess in sequence."""
    day = timezone.localtime(now or timezone.now()).strftime("%Y%m%d")
    return f"{day}{secrets.randbelow(10**6):06d}"


def new_access_key() -> str:
    """The key inside the customer's signed link to their order page."""
    return secrets.token_urlsafe(ACCESS_KEY_BYTES)


def _jsonable(value):
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def quote_snapshot(quote: pricing.Quote) -> dict:
    """The full explained quote as plain JSON, stored on the order for display (never re-priced)."""
    return _jsonable(asdict(quote))


def _conflict(code: str, message, field: str = "") -> dict:
    return {"code": code, "message": str(message), "field": field}


def _delivery(request: OrderRequest, customer: Customer | None):
    """The delivery and payment methods, store and recipient, checked for everything but the amount."""
    if request.delivery_method_id is None:
        raise OrderInvalid(_("Choose a delivery method."), errors={"delivery_method_id": _("Choose a delivery method.")})
    delivery = DeliveryMethod.objects.filter(pk=request.delivery_method_id, is_hidden=False).first()
    if delivery is None:
        raise OrderInvalid(_("This delivery method is not available."), errors={"delivery_method_id": _("Not available.")})
    if request.payment_method_id is None:
        raise OrderInvalid(_("Choose a payment method."), errors={"payment_method_id": _("Choose a payment method.")})
    payment = next((m for m in selectors.payment_method_list(delivery=delivery) if m.pk == request.payment_method_id), None)
    if payment is None:
        raise OrderInvalid(
            _("This payment method can't be used with this delivery method."), errors={"payment_method_id": _("Not available.")}
        )
    rule = rule_for(delivery.type)
    store = None
    if rule.store_chain is not None and request.store_id:
        store = store_directory().get(chain=rule.store_chain, store_id=request.store_id)
        if store is None:
            raise OrderInvalid(_("This store can't be found; pick it again."), errors={"store": _("Pick the store again.")})
    recipient = dict(request.recipient)
    if request.address_id is not None:
        address = (
            Address.objects.filter(pk=request.address_id, customer=customer, archived_at__isnull=True).first() if customer else None
        )
        if address is None:
            raise OrderInvalid(_("This address is no longer saved."), errors={"address_id": _("Choose another address.")})
        recipient["name"] = recipient["name"] or address.recipient_name
        recipient["phone"] = recipient["phone"] or address.recipient_phone
        recipient["address"] = recipient["address"] or address.one_line
    if not rule.home and rule.store_chain is not None and not rule.cross_border:
        recipient["address"] = ""
    return delivery, payment, store, recipient


def _invoice(request: OrderRequest) -> dict:
    if not request.issue_invoice:
        return {}
    fields = ("type", "carrier_type", "carrier_number", "business_number", "company_title", "love_code")
    raw = {k: request.invoice.get(k) or "" for k in fields}
    if not all(isinstance(v, str) for v in raw.values()):
        raise OrderInvalid(_("Check the invoice details."), errors={"invoice": _("Enter text.")})
    try:
        invoice = validate_invoice(**raw, currency=CommerceSettings.load().currency)
    except InvoiceError as exc:
        raise OrderInvalid(
            _("Check the invoice details."), errors={f"invoice.{k}": " ".join(str(m) for m in v) for k, v in exc.errors.items()}
        ) from None
    return invoice.as_dict()


def _custom_images(request: OrderRequest) -> dict[int, CustomImage]:
    """The uploaded images the draft's custom products name, every one of which must exist."""
    wanted = {custom.image_id for custom in request.customs if custom.image_id is not None}
    found = {image.pk: image for image in CustomImage.objects.filter(pk__in=wanted)}
    missing = wanted - found.keys()
    if missing:
        raise OrderInvalid(
            _("A custom product's image is no longer available: upload it again."),
            errors={f"image:{pk}": _("Upload the image again.") for pk in sorted(missing)},
        )
    return found


def _create_with_number(fields: dict) -> Order:
    """Insert the order under a fresh number; a (very unlikely) clash retries with another one."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(number=new_order_number(), access_key=new_access_key(), **fields)
        except IntegrityError:
            logger.info("order number clash, retrying")
    raise IntegrityError("could not find a free order number")


def place_order(*, conversation: Conversation, actor, draft: dict) -> Order:
    """Create the order drafted in `conversation`, charged exactly as the server prices it now.

    Checks the draft (400 `OrderInvalid`) and the assignment (`QuickOrderUnavailable`), then in one
    transaction locks the customer, coupon, variant and gift rows (pk order, `lock_order_rows`), re-prices
    on them, refuses with `OrderConflict` when stock, the coupon, the credit or the shown total changed,
    and writes the order, its line and adjustment snapshots, the stock and coupon counts, the credit spend
    (customers' ledger) and a PLACED event. The inbox hears of it after commit; the draft is cleared.
    """
    check_quick_order_available(conversation=conversation, actor=actor)
    request = read_draft(draft)
    customer = customer_selectors.customer_for_conversation(conversation)
    if customer is None:
        raise OrderInvalid(
            _("Bind this chat to a member (or create one) in the customer pane first."), errors={"customer": _("No member bound.")}
        )
    delivery, payment, store, recipient = _delivery(request, customer)
    invoice = _invoice(request)
    custom_images = _custom_images(request)
    now = timezone.now()
    coupon_row = selectors.coupon_by_code(request.coupon_code) if request.coupon_code else None

    with transaction.atomic():
        locked = lock_order_rows(
            customer_ids=[customer.pk],
            coupon_ids=[coupon_row.pk] if coupon_row else [],
            variant_ids=[line.variant_id for line in request.lines if isinstance(line, selectors.VariantLine)],
            gift_ids=[line.gift_id for line in request.lines if isinstance(line, selectors.GiftLine)],
        )
        customer = locked.customers.get(customer.pk)
        if customer is None:
            raise OrderConflict(_("The member was merged or removed meanwhile."), reasons=[_conflict("customer", _("Bind the chat again."), "customer")])
        balance = usable_credit_balance(customer=customer, now=now)
        try:
            cart, context = selectors.pricing_inputs(
                lines=request.lines,
                now=now,
                coupon_code=request.coupon_code,
                custom_discounts=request.custom_discounts,
                delivery_method_id=delivery.pk,
                credit_balance=balance,
                credit_requested=request.credit_amount,
                coupon_customer_uses=coupon_uses_by(customer=customer, coupon_id=coupon_row.pk) if coupon_row else 0,
            )
        except CartInputError as exc:
            raise OrderConflict(
                exc.message, reasons=[_conflict("unavailable", message, field) for field, message in exc.errors.items()]
            ) from None
        quote = pricing.quote(cart, context)

        reasons = []
        for line in quote.lines:
            row = locked.variants.get(line.variant_id) if line.variant_id else locked.gifts.get(line.gift_id) if line.gift_id else None
            if row is not None and row.stock < line.quantity:
                field = f"variant:{line.variant_id}" if line.variant_id else f"gift:{line.gift_id}"
                reasons.append(
                    _conflict("stock", _("%(name)s: only %(left)s left.") % {"name": line.name, "left": row.stock}, field)
                )
        if request.coupon_code and not (quote.coupon and quote.coupon.applied):
            why = "; ".join(str(n.message) for n in (quote.coupon.reasons if quote.coupon else ())) or _("It can't be used.")
            reasons.append(_conflict("coupon", _("Coupon %(code)s: %(why)s") % {"code": request.coupon_code.upper(), "why": why}, "coupon_code"))
        if request.credit_amount and context.credit.customer_may_choose and quote.credit.applied < request.credit_amount:
            reasons.append(
                _conflict(
                    "credit",
                    _("Only NT$%(applied)s of store credit can be used now (balance NT$%(balance)s).")
                    % {"applied": quote.credit.applied, "balance": balance},
                    "credit_amount",
                )
            )
        if request.expected_total is not None and request.expected_total != quote.total:
            reasons.append(
                _conflict(
                    "total",
                    _("The total is now NT$%(now)s, not NT$%(shown)s: check the order and create it again.")
                    % {"now": quote.total, "shown": request.expected_total},
                    "expected_total",
                )
            )
        if reasons:
            raise OrderConflict(_("The order changed while it was being made."), reasons=reasons)

        problems = check_delivery(
            delivery_type=delivery.type,
            payment_type=payment.type,
            recipient=Recipient(**recipient),
            store=store,
            total=quote.total,
        )
        if problems:
            raise OrderInvalid(
                _("Check the delivery details."), errors={k: " ".join(str(m) for m in v) for k, v in problems.items()}
            )

        order = _create_with_number(
            {
                "status": OrderStatus.AWAITING_CONFIRMATION,
                "payment_status": PaymentStatus.ON_PICKUP if payment.type in PAY_AT_PICKUP or payment.type == PaymentType.COD else PaymentStatus.UNPAID,
                "conversation": conversation,
                "customer": customer,
                "created_by": actor if getattr(actor, "pk", None) else None,
                "delivery_method": delivery,
                "delivery_name": delivery.name,
                "delivery_type": delivery.type,
                "pickup_store": asdict(store) if store else {},
                "recipient": recipient,
                "payment_method": payment,
                "payment_name": payment.name,
                "payment_type": payment.type,
                "invoice": invoice,
                "tags": request.tags,
                "note": request.note,
                "subtotal": quote.subtotal,
                "discount_total": quote.subtotal - quote.merchandise,
                "credit_used": quote.credit.applied,
                "shipping_fee": quote.shipping_amount,
                "tax": quote.tax.amount,
                "tax_included": not quote.tax.added,
                "total": quote.total,
                "quote": quote_snapshot(quote),
            }
        )

        customs = iter(request.customs)
        line_rows: dict[str, OrderLine] = {}
        for position, line in enumerate(quote.lines):
            fields = {
                "order": order,
                "name": line.name,
                "sku": line.sku,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "line_total": line.amount_after_promotions,
                "position": position,
            }
            if line.variant_id:
                variant = locked.variants[line.variant_id]
                Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - line.quantity)
                product = variant.product
                fields.update(
                    kind=OrderLine.Kind.VARIANT,
                    variant=variant,
                    name=product.name,
                    options=variant.label,
                    image_url=product.image.url if product.image else "",
                )
            elif line.gift_id:
                Gift.objects.filter(pk=line.gift_id).update(stock=F("stock") - line.quantity)
                fields.update(kind=OrderLine.Kind.GIFT, gift=locked.gifts[line.gift_id])
            else:
                custom = next(customs)
                image = custom_images.get(custom.image_id)
                product = Product.objects.create(
                    name=custom.name,
                    is_custom=True,
                    taxable=custom.taxable,
                    visibility=Product.Visibility.PUBLISHED if custom.publish else Product.Visibility.HIDDEN,
                    image=image.file.name if image else "",
                )
                variant = Variant.objects.create(
                    product=product, sku=f"CUSTOM-{uuid.uuid4().hex[:12].upper()}", price=custom.unit_price, stock=0
                )
                fields.update(
                    kind=OrderLine.Kind.CUSTOM, variant=variant, sku=variant.sku, image_url=product.image.url if image else ""
                )
            line_rows[line.key] = OrderLine.objects.create(**fields)

        for position, adjustment in enumerate(quote.adjustments):
            touched = [t.line_key for t in adjustment.touches]
            OrderAdjustment.objects.create(
                order=order,
                kind=adjustment.step.value,
                source_id=adjustment.source_id if adjustment.source_id and adjustment.source_id > 0 else None,
                label=str(adjustment.label)[:200],
                amount=adjustment.amount,
                line=line_rows.get(touched[0]) if len(touched) == 1 else None,
                position=position,
            )

        if quote.coupon and quote.coupon.applied and quote.coupon.coupon_id:
            Coupon.objects.filter(pk=quote.coupon.coupon_id).update(usage_count=F("usage_count") + 1)
        if quote.credit.applied:
            customer_services.adjust_credit(
                customer=customer,
                amount=-quote.credit.applied,
                reason=_("Order %(number)s") % {"number": order.number},
                actor=actor,
                kind=CreditEntry.Kind.SPEND,
                order_id=order.pk,
                now=now,
            )
        OrderEvent.objects.create(
            order=order, type=OrderEvent.Type.PLACED, user=order.created_by, parameters={"number": order.number, "total": order.total}
        )
        OrderDraft.objects.filter(conversation=conversation).update(data={}, version=F("version") + 1, editing_by=None, editing_at=None)
        events.publish_on_commit(
            {"type": "order", "op": "add", "order_id": order.pk, "number": order.number, "conversation_id": conversation.pk}
        )
    return order


# --- Drafts -------------------------------------------------------------------------------------------------


def _editor_active(draft: OrderDraft, now: dt.datetime) -> bool:
    return bool(draft.editing_by_id and draft.editing_at and now - draft.editing_at < EDITING_TTL)


def _locked_draft(conversation: Conversation) -> OrderDraft:
    OrderDraft.objects.get_or_create(conversation=conversation)
    return OrderDraft.objects.select_for_update(of=("self",)).select_related("editing_by").get(conversation=conversation)


def _draft_event(draft: OrderDraft, op: str) -> None:
    events.publish_on_commit(
        {
            "type": "order_draft",
            "op": op,
            "conversation_id": draft.conversation_id,
            "version": draft.version,
            "editing_by": draft.editing_by_id,
        }
    )


def _held_by_other(draft: OrderDraft, actor, now) -> bool:
    return _editor_active(draft, now) and draft.editing_by_id != actor.pk


def _editing_message(draft: OrderDraft) -> str:
    return _("%(name)s is editing this order.") % {"name": draft.editing_by.get_username()}


@transaction.atomic
def save_draft(*, conversation: Conversation, actor, data: dict, version: int) -> OrderDraft:
    """Store the cart being built (optimistic: `version` must be the one last read; the saver holds the
    editing claim). Refused with `DraftConflict` when it changed meanwhile or someone else is editing."""
    check_quick_order_available(conversation=conversation, actor=actor)
    if not isinstance(data, dict) or len(json.dumps(data, default=str)) > MAX_DRAFT_BYTES:
        raise OrderInvalid(_("The draft is too large."))
    clean_tags(data.get("tags"))
    clean_note(data.get("note"))
    discounts = data.get("custom_discounts") or []
    if isinstance(discounts, list) and len(discounts) > pricing.MAX_CUSTOM_DISCOUNTS:
        raise pricing.too_many_custom_discounts()
    now = timezone.now()
    draft = _locked_draft(conversation)
    if _held_by_other(draft, actor, now):
        raise DraftConflict(_editing_message(draft), draft=draft)
    if draft.version != version:
        raise DraftConflict(_("This draft was changed elsewhere; it has been reloaded."), draft=draft)
    draft.data = _jsonable(data)
    draft.version += 1
    draft.editing_by, draft.editing_at = actor, now
    draft.save()
    _draft_event(draft, "update")
    return draft


@transaction.atomic
def claim_draft_editing(*, conversation: Conversation, actor) -> OrderDraft:
    """Say `actor` is editing (renewed by the open panel); refused with `DraftConflict` while another
    person's claim is fresh, so a second staff member sees "X is editing" instead of overwriting."""
    check_quick_order_available(conversation=conversation, actor=actor)
    now = timezone.now()
    draft = _locked_draft(conversation)
    if _held_by_other(draft, actor, now):
        raise DraftConflict(_editing_message(draft), draft=draft)
    fresh_claim = draft.editing_by_id != actor.pk or not _editor_active(draft, now)
    draft.editing_by, draft.editing_at = actor, now
    draft.save(update_fields=["editing_by", "editing_at", "updated_at"])
    if fresh_claim:
        _draft_event(draft, "editing")
    return draft


@transaction.atomic
def release_draft_editing(*, conversation: Conversation, actor) -> OrderDraft:
    """Give up `actor`'s editing claim (the panel was closed); someone else's claim is left alone."""
    draft = _locked_draft(conversation)
    if draft.editing_by_id == actor.pk:
        draft.editing_by, draft.editing_at = None, None
        draft.save(update_fields=["editing_by", "editing_at", "updated_at"])
        _draft_event(draft, "editing")
    return draft


def draft_state(*, conversation: Conversation, actor) -> dict:
    """What the panel needs about the draft: its data and version, who is editing, and whether `actor`
    may edit it now (with the reason when not)."""
    draft = OrderDraft.objects.select_related("editing_by").filter(conversation=conversation).first()
    now = timezone.now()
    refusal = quick_order_refusal(conversation=conversation, actor=actor)
    editor = draft.editing_by if draft and _editor_active(draft, now) else None
    if not refusal and editor is not None and editor.pk != actor.pk:
        refusal = _("%(name)s is editing this order.") % {"name": editor.get_username()}
    return {
        "conversation_id": conversation.pk,
        "data": draft.data if draft else {},
        "version": draft.version if draft else 0,
        "editing_by": {"id": editor.pk, "name": editor.get_username()} if editor else None,
        "editable": not refusal,
        "reason": refusal,
    }


# --- Coupon list ----------------------------------------------------------------------------------------


def draft_lines(draft: dict) -> tuple:
    """The draft's items as pricing line requests, leaving out anything malformed (for listings)."""
    try:
        return read_draft({"lines": (draft or {}).get("lines") or []}).lines
    except OrderInvalid:
        return ()


def coupon_options_for(*, customer: Customer, draft: dict, now: dt.datetime) -> list[pricing.CouponOption]:
    """Every active coupon judged against the draft's cart for this member: usable ones first (largest
    discount first), the others with the reasons they can't be used (usage limit, minimum, no item)."""
    from orders.models import Coupon as CouponRow

    lines = draft_lines(draft)
    try:
        cart, context = selectors.pricing_inputs(lines=lines, now=now)
    except (CartInputError, pricing.PricingError):
        cart, context = selectors.pricing_inputs(lines=(), now=now)
    rows = list(CouponRow.objects.active_at(now).prefetch_related("products", "tags").order_by("code"))
    coupons = [selectors.coupon_to_pricing(row, customer_uses=coupon_uses_by(customer=customer, coupon_id=row.pk)) for row in rows]
    options = list(pricing.coupon_options(cart, context, coupons))
    options.sort(key=lambda o: (not o.usable, -o.discount, o.coupon.code))
    return options


# --- Custom product images and saved order tags ---------------------------------------------------------


def upload_custom_image(*, upload, actor) -> CustomImage:
    """Keep the picture of a custom product being added in the quick-order panel: checked by content and
    re-encoded (`orders.images`; HEIC becomes JPEG), stored under a random name. Raises
    `images.ImageRejected` (a 400) with what is wrong."""
    clean = images.clean_upload(upload)
    image = CustomImage(
        content_type=clean.content_type,
        size=len(clean.data),
        width=clean.width,
        height=clean.height,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    image.file.save(f"custom.{clean.extension}", ContentFile(clean.data), save=False)
    image.save()
    return image


CUSTOM_IMAGE_KEEP = dt.timedelta(days=2)


def prune_custom_images(*, now: dt.datetime, keep: dt.timedelta = CUSTOM_IMAGE_KEEP) -> int:
    """Forget custom-product pictures uploaded more than `keep` ago. A picture an order's product took keeps
    its file (the product and the order line show it); one never used (the panel was closed, the line
    removed) has its file deleted too. Returns how many uploads were forgotten."""
    old = list(CustomImage.objects.filter(created_at__lt=now - keep).order_by("pk")[:500])
    if not old:
        return 0
    used = set(Product.objects.filter(image__in=[image.file.name for image in old]).values_list("image", flat=True))
    for image in old:
        if image.file.name not in used:
            image.file.delete(save=False)
    CustomImage.objects.filter(pk__in=[image.pk for image in old]).delete()
    return len(old)


def _tag_errors(exc: ValidationError) -> dict:
    return {field: " ".join(str(m) for m in messages) for field, messages in exc.message_dict.items()}


def save_order_tag(*, name, actor) -> OrderTag:
    """Save a tag for reuse in the quick-order panel (typed there, or added in the admin). Saving one
    already saved (whatever its case) returns that one; at most `MAX_SAVED_TAGS`."""
    if not isinstance(name, str):
        raise OrderInvalid(_("A tag is text."), errors={"name": _("Enter text.")})
    name = normalize_tag(name)
    if len(name) > MAX_TAG_LENGTH:
        raise OrderInvalid(_("A tag has at most 30 characters."), errors={"name": _("A tag has at most 30 characters.")})
    existing = OrderTag.objects.filter(name__iexact=name).first() if name else None
    if existing is not None:
        return existing
    if OrderTag.objects.count() >= MAX_SAVED_TAGS:  # a race past it by one is harmless
        raise OrderInvalid(
            _("The shop has %(max)s saved tags: delete one first.") % {"max": MAX_SAVED_TAGS},
            errors={"name": _("Too many saved tags.")},
        )
    tag = OrderTag(name=name, created_by=actor if getattr(actor, "pk", None) else None)
    try:
        tag.full_clean()
    except ValidationError as exc:
        raise OrderInvalid(_("Check the tag."), errors=_tag_errors(exc)) from None
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:  # saved by someone else meanwhile
        return OrderTag.objects.get(name=name)
    return tag


def delete_order_tag(*, tag: OrderTag, actor) -> None:
    """No longer offer the tag; orders that carry it keep it (their tags are text)."""
    tag.delete()
