"""The back office's order pages (staff only): the list of orders (search and filters), an order with its
proofs and actions, the proof images
(served here after a permission check: they live outside MEDIA_ROOT), and the order activity lines the
inbox's conversation timeline shows. Actions go through the JSON API (orders.confirmation_api)."""
from __future__ import annotations

from django.db.models import Max
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from config.paging import page_of
from inbox.models import Conversation, InboxEvent
from inbox.views import staff_required
from orders import confirmation, selectors
from orders.models import Order, OrderEvent, OrderStatus, PaymentProof, PaymentStatus
from orders.statuses import ALLOWED

ACTIVITY_LIMIT = 200
PAGE_SIZE = 50
MAX_ID = 2**63 - 1  # larger path ids are simply unknown (and would overflow the database's integer)


def _known(*ids: int) -> None:
    if any(i > MAX_ID for i in ids):
        raise Http404


@require_GET
@staff_required
def order_list(request):
    params = {name: request.GET.get(name, "")[:100] for name in ("q", "status", "payment")}
    rows = selectors.order_list(q=params["q"], status=params["status"], payment_status=params["payment"])
    page, query = page_of(request, rows, PAGE_SIZE)
    return render(
        request,
        "orders/list.html",
        {
            "page": page,
            "params": params,
            "query": query,
            "statuses": OrderStatus.choices,
            "payment_statuses": PaymentStatus.choices,
        },
    )


@require_GET
@staff_required
def order_detail(request, order_id: int):
    _known(order_id)
    order = get_object_or_404(Order.objects.select_related("conversation__channel", "conversation__contact", "payment_method", "customer"), pk=order_id)
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "adjustments": list(order.adjustments.all()),
        "proofs": list(order.proofs.select_related("reviewed_by")),
        "events": list(order.events.select_related("user")),
        "next_statuses": [(s, OrderStatus(s).label) for s in OrderStatus.values if s in ALLOWED.get(order.status, ())],
        "on_pickup": confirmation.pays_on_pickup(order),
        "customer_url": confirmation.order_url(order) if order.access_key else "",
        "window": confirmation.link_decision(order=order),
        "seq": InboxEvent.objects.aggregate(m=Max("pk"))["m"] or 0,
    }
    return render(request, "orders/detail.html", context)


@require_GET
@staff_required
def proof_file(request, order_id: int, proof_id: int):
    _known(order_id, proof_id)
    proof = get_object_or_404(PaymentProof, pk=proof_id, order_id=order_id)
    try:
        handle = proof.file.open("rb")
    except (OSError, ValueError):
        raise Http404 from None
    extension = proof.file.name.rsplit(".", 1)[-1]
    response = FileResponse(handle, content_type=proof.content_type, as_attachment=False, filename=f"proof-{proof.pk}.{extension}")
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@require_GET
@staff_required
def conversation_activity(request, conversation_id: int):
    _known(conversation_id)
    """The conversation's order story, as activity lines the timeline places by time."""
    conversation = get_object_or_404(Conversation, pk=conversation_id)
    events = list(
        OrderEvent.objects.filter(order__conversation=conversation)
        .select_related("order", "user")
        .order_by("-created_at", "-pk")[:ACTIVITY_LIMIT]
    )
    events.reverse()
    return render(request, "orders/_activity_lines.html", {"events": events})
