"""The quick-order panel beside a chat: one server-rendered fragment (`templates/orders/_quick_order.html`),
fetched when staff press "Quick order" in the chat header and driven by `static/js/orders/quick_order.js`
through the orders API (quotes, draft, orders). Kept apart from the customer-facing `orders.public`."""
from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from customers import selectors as customer_selectors
from customers.models import MAX_ADDRESSES
from inbox.permissions import is_inbox_staff
from inbox.selectors import access_conversation, conversation_window
from integrations.policy import Sender
from orders import images, pricing, selectors, services
from orders.logistics import DELIVERY_RULES, DeliveryType
from orders.models import CommerceSettings


@login_required
@require_GET
def quick_order_panel(request, conversation_id: int):
    if not is_inbox_staff(request.user):
        raise PermissionDenied
    conversation = access_conversation(request.user, conversation_id)
    customer = customer_selectors.customer_for_conversation(conversation)
    deliveries = []
    for method in selectors.delivery_method_list().prefetch_related("payment_methods"):
        rule = DELIVERY_RULES[DeliveryType(method.type)]
        deliveries.append(
            {
                "method": method,
                "store_chain": rule.store_chain.value if rule.store_chain else "",
                "home": rule.home,
                "cross_border": rule.cross_border,
                "payments": [p.pk for p in selectors.payment_method_list(delivery=method)],
            }
        )
    settings = CommerceSettings.load()
    return render(
        request,
        "orders/_quick_order.html",
        {
            "conversation": conversation,
            "customer": customer,
            "addresses": customer_selectors.current_addresses(customer)[:MAX_ADDRESSES] if customer else [],
            "credit_balance": services.usable_credit_balance(customer=customer, now=timezone.now()),
            "deliveries": deliveries,
            "payments": selectors.payment_method_list(),
            "payments_by_delivery": {str(d["method"].pk): d["payments"] for d in deliveries},
            "gifts": list(selectors.gift_list()[:100]),
            "saved_tags": selectors.saved_order_tags(),
            "state": services.draft_state(conversation=conversation, actor=request.user),
            # The order link is an automated message: whether it could go out now, told before the order is made
            # (stock, coupon and credit are taken when it is), as the seed says: past Messenger's 24 hours, ask the
            # customer to write first.
            "link_window": conversation_window(conversation, now=timezone.now(), sender=Sender.AUTOMATED),
            "invoice_offered": settings.currency.upper() == "TWD",
            "image_accept": images.ACCEPT,
            # Where uploaded custom-product pictures live: the panel shows a draft's picture only from there.
            "custom_image_prefix": f"{django_settings.MEDIA_URL}products/custom/",
            "limits": {
                "tags": services.MAX_TAGS,
                "note": services.MAX_NOTE,
                "discounts": pricing.MAX_CUSTOM_DISCOUNTS,
                "tag_length": services.MAX_TAG_LENGTH,
            },
        },
    )
