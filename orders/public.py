"""The customer's order page, `/o/<token>/`: no login, mobile first.

The token is the order's `access_key` signed with an expiry (`orders.confirmation.order_token`). A
tampered, unknown or expired token gets the same plain-text 404 (never Django's debug page, which would
list the back office's URLs), so the page tells nothing about other orders.

Rate limiting: django-ratelimit's fixed-window counter in Django's cache (`rate_limited`, `config/ratelimits.py`),
per client address.
Limits are generous for a person and the page's 5-second status poll, tight enough to make guessing tokens
pointless (they are signed anyway).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from config import ratelimits
from config.client_address import known_client_address
from orders import confirmation
from orders.confirmation import ConfirmationError
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus

logger = logging.getLogger(__name__)

# (requests, seconds) per client IP.
PAGE_LIMIT = (120, 60)
WRITE_LIMIT = (20, 60)
# What the customer's timeline shows (internal steps such as a failed link are for staff only).
CUSTOMER_EVENTS = {
    OrderEvent.Type.PLACED, OrderEvent.Type.LINK_SENT, OrderEvent.Type.CONFIRMED, OrderEvent.Type.PROOF_UPLOADED,
    OrderEvent.Type.PAYMENT_APPROVED, OrderEvent.Type.PAYMENT_REJECTED, OrderEvent.Type.STATUS_CHANGED,
    OrderEvent.Type.SHIPPED, OrderEvent.Type.CANCELLED,
}


def rate_limited(request, scope: str, limit: tuple[int, int]) -> bool:
    """Count this request in the current window; True once the client went over the limit. With the cache
    down (Redis) nothing is counted and nobody is limited: the tokens are signed, the limit only makes guessing
    costlier, and the customer's page must not fail for it."""
    count, seconds = limit
    return ratelimits.count_and_check(request, group=f"orders.public.{scope}", rate=f"{count}/{seconds}s")


def not_found() -> HttpResponse:
    return HttpResponseNotFound(_("Not found."), content_type="text/plain; charset=utf-8")


def too_many() -> HttpResponse:
    response = HttpResponse(_("Too many requests. Please wait a minute."), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "60"
    return response


def _order(request, token: str, *, scope: str, limit) -> tuple[Order | None, HttpResponse | None]:
    if rate_limited(request, scope, limit):
        return None, too_many()
    order = confirmation.order_for_token(token)
    if order is None:
        return None, not_found()
    return order, None


def page_context(order: Order, token: str) -> dict:
    on_pickup = confirmation.pays_on_pickup(order)
    adjustments = list(order.adjustments.all())
    return {
        "order": order,
        "token": token,
        "lines": list(order.lines.all()),
        "discounts": [a for a in adjustments if a.amount < 0 and a.kind != "credit"],
        "charges": [a for a in adjustments if a.amount > 0 and a.kind not in ("shipping", "tax")],
        "proofs": list(order.proofs.all()),
        "events": [e for e in order.events.all() if e.type in CUSTOMER_EVENTS],
        "on_pickup": on_pickup,
        "instructions": order.payment_method.instructions if order.payment_method_id and order.payment_method else "",
        "can_confirm": order.status == OrderStatus.AWAITING_CONFIRMATION,
        "can_upload": (
            not on_pickup
            and order.status in (OrderStatus.AWAITING_CONFIRMATION, OrderStatus.CONFIRMED)
            and order.payment_status != PaymentStatus.PAID
        ),
        "awaiting_verification": order.payment_status == PaymentStatus.PROOF_SUBMITTED,
        "privacy_url": getattr(settings, "SHOP_PRIVACY_POLICY_URL", "") or "/o/privacy/",
        "state": state_version(order),
        "accept": "image/jpeg,image/png,image/webp,image/heic,image/heif",
    }


def state_version(order: Order) -> str:
    """Changes whenever something the page shows changes (the page polls it to refresh itself)."""
    return f"{order.updated_at.timestamp():.6f}:{order.events.count()}:{order.proofs.count()}"


def _render(request, order: Order, token: str, *, status: int = 200, error: str = "", notice: str = ""):
    context = page_context(order, token)
    context.update(error=error, notice=notice)
    response = render(request, "public/order.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
@ensure_csrf_cookie
def order_page(request, token: str):
    order, refused = _order(request, token, scope="page", limit=PAGE_LIMIT)
    if refused:
        return refused
    if order.link_opened_at is None:
        confirmation.mark_opened(order=order)
        order.refresh_from_db()
    notice = {"confirmed": _("Thank you! Your order is confirmed."), "uploaded": _("Thank you! Awaiting verification by the shop.")}
    return _render(request, order, token, notice=notice.get(request.GET.get("done", ""), ""))


@require_POST
@csrf_protect
def order_confirm(request, token: str):
    order, refused = _order(request, token, scope="write", limit=WRITE_LIMIT)
    if refused:
        return refused
    try:
        confirmation.confirm_order(order=order, ip=known_client_address(request))
    except ConfirmationError as exc:
        order.refresh_from_db()
        return _render(request, order, token, status=400, error=str(exc.message))
    return redirect(f"/o/{token}/?done=confirmed")


@require_POST
@csrf_protect
def order_upload(request, token: str):
    order, refused = _order(request, token, scope="write", limit=WRITE_LIMIT)
    if refused:
        return refused
    upload = request.FILES.get("proof")
    if upload is None:
        return _render(request, order, token, status=400, error=_("Choose an image of your transfer first."))
    try:
        confirmation.attach_proof(order=order, upload=upload)
    except ConfirmationError as exc:
        order.refresh_from_db()
        return _render(request, order, token, status=400, error=str(exc.message))
    return redirect(f"/o/{token}/?done=uploaded#status")


@require_GET
def order_state(request, token: str):
    order, refused = _order(request, token, scope="page", limit=PAGE_LIMIT)
    if refused:
        return refused
    response = JsonResponse({"v": state_version(order)})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def privacy(request):
    """The shop's privacy policy: its own page when configured (SHOP_PRIVACY_POLICY_URL), else ours."""
    url = getattr(settings, "SHOP_PRIVACY_POLICY_URL", "")
    if url:
        return redirect(url)
    return render(request, "public/privacy.html")
