"""After an order is placed: its confirmation link, the customer's consent and transfer proofs, the
merchant's verification and status changes. Services only (views live in `orders.public`,
`orders.backoffice` and `orders.confirmation_api`).

Every change writes an `OrderEvent` (one helper, `_event`) and publishes
`{"type": "order", "op": ..., "order_id": ..., "conversation_id": ...}` to open inboxes after commit.
Everything said to the customer goes through `inbox.services.messaging.send_message(automated=True)`,
so the platforms' windows apply: when a notification can't be sent, the event records why
(`parameters["notified"] = False`, `["notice_error"]`) and nothing else is undone.

Customer-facing texts are rendered in the shop's language (`settings.LANGUAGE_CODE`), not the staff
member's who clicked.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ApplicationError, SendRefused
from inbox.models import Message
from inbox.selectors import conversation_window
from integrations.base import LinkButton
from integrations.policy import Sender
from orders import images
from orders.errors import OrdersError
from orders.logistics import PREPAID
from orders.models import Coupon, Gift, Order, OrderEvent, OrderLine, OrderStatus, PaymentProof, PaymentStatus, Variant
from orders.pricing.adjustments import Step
from orders.statuses import IllegalTransition, check_transition

LINK_SALT = "order-link"
# A link works for 30 days after it was made (each message the customer gets carries a fresh one), and while its
# order is still in progress for up to 180 days (the customer follows an order from its first message until it is
# done, as the seed promises; an order never confirmed isn't open to whoever holds its link for ever). Seconds.
LINK_MAX_AGE = 30 * 24 * 3600
LINK_MAX_AGE_IN_PROGRESS = 180 * 24 * 3600
MAX_PROOF_BYTES = images.MAX_BYTES
MAX_PROOFS_PER_ORDER = 20


class ConfirmationError(OrdersError):
    """The step can't be done on this order now (shown as-is to the customer or staff)."""


@dataclass(frozen=True)
class LinkResult:
    sent: bool
    reason: str  # why it wasn't sent ("" when sent)
    message: Message | None = None
    window: dict | None = None


# --- Links ---------------------------------------------------------------------------------------------


def new_access_key() -> str:
    return secrets.token_urlsafe(32)


def order_token(order: Order) -> str:
    """A signed, expiring token for the order's page (fresh each time: the expiry counts from now)."""
    return signing.TimestampSigner(salt=LINK_SALT).sign(order.access_key)


def order_for_token(token: str) -> Order | None:
    """The order a token opens, or None when it is tampered, unknown, or expired: older than LINK_MAX_AGE with its
    order completed or cancelled, or older than LINK_MAX_AGE_IN_PROGRESS."""
    if not token or len(token) > 200:
        return None
    signer = signing.TimestampSigner(salt=LINK_SALT)
    finished_too = True
    try:
        key = signer.unsign(token, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        try:  # genuine, but old: only an order still in progress
            key, finished_too = signer.unsign(token, max_age=LINK_MAX_AGE_IN_PROGRESS), False
        except signing.BadSignature:
            return None
    except signing.BadSignature:
        return None
    if not key:
        return None
    order = Order.objects.filter(access_key=key).first()
    if order is not None and not finished_too and order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        return None
    return order


def order_url(order: Order, *, anchor: str = "") -> str:
    return f"{settings.PUBLIC_BASE_URL}/o/{order_token(order)}/" + (f"#{anchor}" if anchor else "")


def pays_on_pickup(order: Order) -> bool:
    """Cash on pickup or delivery: confirmed only, nothing to pay or upload online."""
    return bool(order.payment_type) and order.payment_type not in PREPAID


def link_decision(*, order: Order, now=None) -> dict | None:
    """What sending the link now would do (allowed? free reply or paid push?), for the panel to say first."""
    if order.conversation_id is None:
        return None
    return conversation_window(order.conversation, now=now or timezone.now(), sender=Sender.AUTOMATED).as_dict()


# --- Events --------------------------------------------------------------------------------------------


def _event(order: Order, type_: str, *, user=None, op: str = "update", **parameters) -> OrderEvent:
    event = OrderEvent.objects.create(order=order, type=type_, user=user if getattr(user, "pk", None) else None, parameters=parameters)
    events.publish_on_commit(
        {
            "type": "order",
            "op": op,
            "order_id": order.pk,
            "conversation_id": order.conversation_id,
            "event": type_,
            "status": order.status,
            "payment_status": order.payment_status,
        }
    )
    return event


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _notify(order: Order, text: str, buttons: tuple[LinkButton, ...]) -> dict:
    """Tell the customer in the chat, if the platform allows an automated message now."""
    if order.conversation_id is None:
        return {"notified": False, "notice_error": _("The order has no conversation.")}
    try:
        message = _send(order, text, buttons)
    except SendRefused as exc:
        return {"notified": False, "notice_error": str(exc.message)}
    except ApplicationError as exc:
        return {"notified": False, "notice_error": str(exc.message)}
    return {"notified": True, "message_id": message.pk}


def _send(order: Order, text: str, buttons: tuple[LinkButton, ...]) -> Message:
    from inbox.services.messaging import send_message

    return send_message(conversation=order.conversation, text=text, buttons=buttons, automated=True)


def _details_button(order: Order) -> LinkButton:
    return LinkButton(_("View order details"), order_url(order))


def _pay_button(order: Order) -> LinkButton:
    return LinkButton(_("Pay now"), order_url(order, anchor="pay"))


# --- Sending the link ----------------------------------------------------------------------------------


def send_order_link(*, order: Order, actor) -> LinkResult:
    """Post the order message ("查看訂單詳情", and "去支付" unless paid on pickup) into the conversation.

    When the window forbids it, the order stays, marked "link not sent" (`link_error`, a LINK_FAILED
    event) so the panel and the order page offer a resend; the reason is returned.
    """
    with transaction.atomic():
        order = _lock(order)
        if order.status == OrderStatus.CANCELLED:
            raise ConfirmationError(_("This order is cancelled: its link can't be sent."))
        if order.conversation_id is None:
            return _link_failed(order, actor, _("The order has no conversation to send the link to."), None)
        now = timezone.now()
        decision = conversation_window(order.conversation, now=now, sender=Sender.AUTOMATED)
        if not decision.allowed:
            return _link_failed(order, actor, decision.reason, decision.as_dict())
        with translation.override(settings.LANGUAGE_CODE):
            text = _("Order %(number)s — total NT$%(total)s. Please check the details and confirm your order.") % {
                "number": order.number,
                "total": f"{order.total:,}",
            }
            buttons = (_details_button(order),) if pays_on_pickup(order) else (_details_button(order), _pay_button(order))
            try:
                message = _send(order, text, buttons)
            except SendRefused as exc:
                return _link_failed(order, actor, str(exc.message), exc.extra.get("window"))
        Order.objects.filter(pk=order.pk).update(link_message=message, link_sent_at=now, link_error="")
        order.link_message, order.link_sent_at, order.link_error = message, now, ""
        # What the send really did: `send_message` decided again with the conversation locked (a staff reply
        # may have used the free reply token since `decision` was read), and stored it on the message.
        sent_as = message.decision or decision.as_dict()
        _event(order, OrderEvent.Type.LINK_SENT, user=actor, message_id=message.pk, billed=bool(sent_as.get("billed")), window=sent_as.get("window"))
    return LinkResult(True, "", message, sent_as)


def _link_failed(order: Order, actor, reason: str, window: dict | None) -> LinkResult:
    reason = str(reason)[:500]
    Order.objects.filter(pk=order.pk).update(link_error=reason)
    order.link_error = reason
    _event(order, OrderEvent.Type.LINK_FAILED, user=actor, reason=reason)
    return LinkResult(False, reason, None, window)


# --- The customer's side -------------------------------------------------------------------------------


def mark_opened(*, order: Order) -> None:
    """The first time the customer opens the page."""
    with transaction.atomic():
        updated = Order.objects.filter(pk=order.pk, link_opened_at__isnull=True).update(link_opened_at=timezone.now())
        if updated:
            order.refresh_from_db()
            _event(order, OrderEvent.Type.OPENED)


def confirm_order(*, order: Order, ip: str | None) -> Order:
    """The customer's consent ("確認訂單"), with time and IP. Confirming twice changes nothing."""
    with transaction.atomic():
        order = _lock(order)
        if order.confirmed_at is not None:
            return order
        if order.status != OrderStatus.AWAITING_CONFIRMATION:
            raise ConfirmationError(_("This order can no longer be confirmed."))
        check_transition(order.status, OrderStatus.CONFIRMED)
        order.status = OrderStatus.CONFIRMED
        order.confirmed_at = timezone.now()
        order.confirmed_ip = ip or None
        if pays_on_pickup(order) and order.payment_status == PaymentStatus.UNPAID:
            order.payment_status = PaymentStatus.ON_PICKUP
        if order.payment_status == PaymentStatus.PAID:  # approved before the customer confirmed
            order.status = OrderStatus.PAID
        order.save(update_fields=["status", "confirmed_at", "confirmed_ip", "payment_status", "updated_at"])
        _event(order, OrderEvent.Type.CONFIRMED, ip=order.confirmed_ip)
    return order


def attach_proof(*, order: Order, upload, source: str = PaymentProof.Source.PAGE, message: Message | None = None, actor=None) -> PaymentProof:
    """Keep a transfer proof: checked and re-encoded, stored privately under a random name. The
    customer is told "等待商家核對" with a "查看訂單詳情" button; the conversation shows the activity."""
    if source not in PaymentProof.Source.values:
        raise ConfirmationError(_("Unknown proof source."))
    try:
        image = images.clean_upload(upload)
    except images.ImageRejected as exc:
        raise ConfirmationError(exc.message) from None
    with transaction.atomic():
        order = _lock(order)
        if pays_on_pickup(order):
            raise ConfirmationError(_("This order is paid on pickup or delivery: no transfer proof is needed."))
        if order.status not in (OrderStatus.AWAITING_CONFIRMATION, OrderStatus.CONFIRMED):
            raise ConfirmationError(_("This order no longer takes transfer proofs."))
        if order.payment_status == PaymentStatus.PAID:
            raise ConfirmationError(_("This order is already paid."))
        if message is not None and order.proofs.filter(message=message).exists():
            raise ConfirmationError(_("This image is already attached to the order."))
        if order.proofs.count() >= MAX_PROOFS_PER_ORDER:
            raise ConfirmationError(_("This order has too many proofs already. Please contact the shop."))
        proof = PaymentProof(order=order, content_type=image.content_type, size=len(image.data), source=source, message=message)
        proof.file.save(f"proof.{image.extension}", ContentFile(image.data), save=False)
        proof.save()
        order.payment_status = PaymentStatus.PROOF_SUBMITTED
        order.save(update_fields=["payment_status", "updated_at"])
        with translation.override(settings.LANGUAGE_CODE):
            notice = _notify(order, _("We received your transfer proof. Awaiting verification by the shop."), (_details_button(order),))
        _event(order, OrderEvent.Type.PROOF_UPLOADED, user=actor, proof_id=proof.pk, source=source, **notice)
    return proof


def attach_message_image(*, order: Order, message: Message, actor) -> PaymentProof:
    """Attach an image the customer sent in the chat (instead of on the page) to the order as a proof."""
    if message.conversation_id != order.conversation_id or message.direction != Message.Direction.INBOUND:
        raise ConfirmationError(_("Only an image the customer sent in this conversation can be attached."))
    url = next((a.get("url") for a in message.attachments or [] if a.get("type") == "image" and a.get("url")), "")
    data = _stored_media(url)
    if data is None:
        raise ConfirmationError(_("This image isn't stored here yet, so it can't be attached."))
    return attach_proof(order=order, upload=ContentFile(data), source=PaymentProof.Source.CHAT, message=message, actor=actor)


def _stored_media(url: str) -> bytes | None:
    """The bytes of a file in our media storage, from its public URL (never fetched over the network)."""
    from django.core.files.storage import default_storage

    prefix = f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}"
    for start in (prefix, settings.MEDIA_URL):
        if url.startswith(start):
            name = url[len(start):]
            break
    else:
        return None
    if not name or ".." in name.split("/") or name.startswith("/"):
        return None
    try:
        with default_storage.open(name, "rb") as f:
            return f.read(MAX_PROOF_BYTES + 1)
    except (OSError, ValueError):
        return None


# --- The merchant's side -------------------------------------------------------------------------------


def approve_payment(*, order: Order, actor) -> Order:
    """The transfer is verified: the order is paid (and the customer told)."""
    now = timezone.now()
    with transaction.atomic():
        order = _lock(order)
        if order.status == OrderStatus.CANCELLED:
            raise ConfirmationError(_("This order is cancelled."))
        if order.payment_status == PaymentStatus.PAID:
            raise ConfirmationError(_("This order is already paid."))
        if pays_on_pickup(order):
            raise ConfirmationError(_("This order is paid on pickup or delivery."))
        order.proofs.filter(status=PaymentProof.Status.PENDING).update(
            status=PaymentProof.Status.APPROVED, reviewed_by=_user(actor), reviewed_at=now
        )
        order.payment_status = PaymentStatus.PAID
        if order.status == OrderStatus.CONFIRMED:
            check_transition(order.status, OrderStatus.PAID)
            order.status = OrderStatus.PAID
        order.save(update_fields=["payment_status", "status", "updated_at"])
        with translation.override(settings.LANGUAGE_CODE):
            notice = _notify(order, _("Your payment for order %(number)s is confirmed. Thank you!") % {"number": order.number}, (_details_button(order),))
        _event(order, OrderEvent.Type.PAYMENT_APPROVED, user=actor, **notice)
    return order


def reject_payment(*, order: Order, actor, reason: str) -> Order:
    """The proof doesn't show the payment: say why; the customer can upload again."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ConfirmationError(_("Give the customer a reason."))
    if len(reason) > 300:
        raise ConfirmationError(_("A reason can have at most 300 characters."))
    now = timezone.now()
    with transaction.atomic():
        order = _lock(order)
        if order.status == OrderStatus.CANCELLED or order.payment_status in (PaymentStatus.PAID, PaymentStatus.ON_PICKUP):
            raise ConfirmationError(_("There is no payment to reject on this order."))
        order.proofs.filter(status=PaymentProof.Status.PENDING).update(
            status=PaymentProof.Status.REJECTED, reason=reason, reviewed_by=_user(actor), reviewed_at=now
        )
        order.payment_status = PaymentStatus.REJECTED
        order.save(update_fields=["payment_status", "updated_at"])
        with translation.override(settings.LANGUAGE_CODE):
            notice = _notify(
                order,
                _("We couldn't verify your payment for order %(number)s: %(reason)s. Please upload a new transfer proof.")
                % {"number": order.number, "reason": reason},
                (_pay_button(order),),
            )
        _event(order, OrderEvent.Type.PAYMENT_REJECTED, user=actor, reason=reason, **notice)
    return order


def change_status(*, order: Order, actor, status: str) -> Order:
    """Move the order along the table in `orders.statuses`. Cancelling gives back the variants' and
    gifts' stock and the store credit used."""
    if status not in OrderStatus.values:
        raise ConfirmationError(_("Unknown status."))
    with transaction.atomic():
        order = _lock(order)
        previous = order.status
        try:
            check_transition(previous, status)
        except IllegalTransition as exc:
            raise ConfirmationError(str(exc)) from None
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        parameters: dict = {"from": previous, "to": status}
        if status == OrderStatus.CANCELLED:
            parameters.update(_give_back(order, actor))
            type_ = OrderEvent.Type.CANCELLED
            with translation.override(settings.LANGUAGE_CODE):
                parameters.update(_notify(order, _("Your order %(number)s has been cancelled.") % {"number": order.number}, (_details_button(order),)))
        elif status == OrderStatus.SHIPPED:
            type_ = OrderEvent.Type.SHIPPED
            with translation.override(settings.LANGUAGE_CODE):
                parameters.update(_notify(order, _("Your order %(number)s has been shipped.") % {"number": order.number}, (_details_button(order),)))
        else:
            type_ = OrderEvent.Type.STATUS_CHANGED
        _event(order, type_, user=actor, **parameters)
    return order


def _give_back(order: Order, actor) -> dict:
    """Stock back to the variants and gifts (rows locked in pk order), credit back to the ledger, the coupon's use
    back to its shop-wide count (its per-customer count leaves cancelled orders out already)."""
    lines = list(order.lines.all())
    variant_qty: dict[int, int] = {}
    gift_qty: dict[int, int] = {}
    for line in lines:
        if line.kind == OrderLine.Kind.VARIANT and line.variant_id:
            variant_qty[line.variant_id] = variant_qty.get(line.variant_id, 0) + line.quantity
        elif line.kind == OrderLine.Kind.GIFT and line.gift_id:
            gift_qty[line.gift_id] = gift_qty.get(line.gift_id, 0) + line.quantity
    list(Variant.objects.filter(pk__in=variant_qty).order_by("pk").select_for_update())
    for pk, qty in sorted(variant_qty.items()):
        Variant.objects.filter(pk=pk).update(stock=F("stock") + qty)
    list(Gift.objects.filter(pk__in=gift_qty).order_by("pk").select_for_update())
    for pk, qty in sorted(gift_qty.items()):
        Gift.objects.filter(pk=pk).update(stock=F("stock") + qty)
    credit = 0
    if order.credit_used > 0 and order.customer_id:
        from customers.models import CreditEntry
        from customers.services import adjust_credit

        adjust_credit(
            customer=order.customer,
            amount=order.credit_used,
            reason=_("Order %(number)s cancelled: credit returned") % {"number": order.number},
            actor=actor,
            kind=CreditEntry.Kind.ADJUSTMENT,
            order_id=order.pk,
        )
        credit = order.credit_used
    coupon_ids = list(order.adjustments.filter(kind=Step.COUPON.value, source_id__isnull=False).values_list("source_id", flat=True))
    coupons = Coupon.objects.filter(pk__in=coupon_ids, usage_count__gt=0).update(usage_count=F("usage_count") - 1)
    return {"stock_returned": sum(variant_qty.values()) + sum(gift_qty.values()), "credit_returned": credit, "coupon_uses_returned": coupons}


def _user(actor):
    return actor if getattr(actor, "pk", None) else None
