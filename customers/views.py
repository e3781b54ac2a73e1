"""Staff pages for members: the inbox's right pane (a fragment) and the back-office list and detail.

Writes from the pane go through the JSON API (customers.api) with the session, like the inbox's own
actions; the pane's script reloads this fragment after each one. The back office's one form (an admin's
credit adjustment) posts here and comes back with a message.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.paging import page_of
from customers import selectors, services
from customers.models import MAX_ADDRESSES
from inbox.errors import ApplicationError
from inbox.permissions import is_inbox_admin
from inbox.views import staff_required

PAGE_SIZE = 50


def pane_strings() -> dict[str, str]:
    """What the pane's script says, translated here (the script has no catalogue of its own)."""
    return {
        "updated": _("Updated."),
        "bound": _("Chat bound to the member."),
        "created": _("Member created and bound to this chat."),
        "merged": _("Merged: the chat is bound to the existing member."),
        "unbound": _("The chat is no longer bound to a member."),
        "merge": _("Merge"),
        "update_binding": _("Update binding"),
        "reenter": _("Re-enter"),
        "duplicate_title": _("Duplicate details"),
        "reenter_title": _("Please re-enter"),
        "bind": _("Bind"),
        "no_matches": _("No member matches yet. Save to create one."),
        "address_saved": _("Address saved."),
        "address_deleted": _("Address deleted."),
        "error": _("Something went wrong. Please try again."),
        "no_email": _("no email"),
        "no_phone": _("no phone"),
        "order_bound": _("Chat bound to the member this chat's orders belong to."),
        "order_merged": _("Merged: this chat's member is now the one its orders belong to."),
    }


@require_GET
@staff_required
def customer_pane(request, conversation_id: int):
    """The member beside a chat: the binding form when unbound, the member's details when bound."""
    conversation = selectors.access_conversation(request.user, conversation_id)
    customer = selectors.customer_for_conversation(conversation)
    context = {
        "conversation": conversation,
        "contact": conversation.contact,
        "customer": customer,
        "suggestions": selectors.contact_suggestions(conversation=conversation, customer=customer),
        "strings": pane_strings(),
        "max_addresses": MAX_ADDRESSES,
    }
    # Flow (C): members (or details) this chat's orders carry, other than the bound member.
    context["order_matches"] = selectors.order_customer_matches(
        contact=conversation.contact, exclude_customer_id=customer.pk if customer else None, unmatched=customer is None
    )
    if customer is not None:
        context.update(
            addresses=selectors.current_addresses(customer),
            orders=selectors.order_history(customer=customer, now=timezone.now()),
            tiers=selectors.tier_list(),
            tags=sorted(t.name for t in customer.tags.all()),
            other_contacts=[b for b in selectors.bound_contacts(customer) if b.contact_id != conversation.contact_id],
        )
    return render(request, "customers/_pane.html", context)


def _bool_param(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@require_GET
@staff_required
def customer_list_page(request):
    q = selectors.clean_query(request.GET.get("q", ""))
    tier = request.GET.get("tier", "")
    tag = selectors.clean_query(request.GET.get("tag", ""), limit=50)
    has_orders = request.GET.get("has_orders", "")
    rows = selectors.customer_list(
        q=q, tier_id=int(tier) if tier.isdigit() and len(tier) < 20 else None, tag=tag, has_orders=_bool_param(has_orders)
    )
    page, query = page_of(request, rows, PAGE_SIZE)
    return render(
        request,
        "customers/list.html",
        {
            "page": page,
            "params": {"q": q, "tier": tier, "tag": tag, "has_orders": has_orders},
            "query": query,
            "tiers": selectors.tier_list(),
            "tags": selectors.tag_list(),
        },
    )


@require_GET
@staff_required
def customer_detail_page(request, customer_id: int):
    customer = selectors.customer_get(customer_id)
    if customer is None:
        survivor = selectors.merged_into(customer_id)
        if survivor:
            messages.info(request, _("Member #%(old)d was merged into this one.") % {"old": customer_id})
            return redirect("customers:detail", customer_id=survivor)
        raise Http404
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "tags": sorted(t.name for t in customer.tags.all()),
            "contacts": selectors.bound_contacts(customer),
            "addresses": selectors.current_addresses(customer),
            "archived_addresses": selectors.archived_addresses(customer),
            "orders": selectors.order_history(customer=customer, now=timezone.now()),
            "ledger": selectors.credit_ledger(customer),
            "audit": selectors.audit_history(customer),
            "is_admin": is_inbox_admin(request.user),
            "max_addresses": MAX_ADDRESSES,
        },
    )


@require_POST
@staff_required
def customer_credit_adjust(request, customer_id: int):
    """An administrator grants or takes store credit, with a reason (and optionally an expiry date)."""
    if not is_inbox_admin(request.user):
        raise PermissionDenied
    customer = selectors.access_customer(request.user, customer_id)
    raw_amount = request.POST.get("amount", "").strip().replace(",", "")
    try:
        amount = int(raw_amount)
    except ValueError:
        messages.error(request, _("Enter a whole amount of TWD, e.g. 100 or -50."))
        return redirect("customers:detail", customer_id=customer.pk)
    expires_at = None
    raw_expiry = request.POST.get("expires_on", "").strip()
    if raw_expiry:
        try:
            day = dt.date.fromisoformat(raw_expiry)
        except ValueError:
            messages.error(request, _("Enter the expiry as a date."))
            return redirect("customers:detail", customer_id=customer.pk)
        # The end of that day, in the shop's time zone.
        expires_at = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
    try:
        services.adjust_credit(
            customer=customer, amount=amount, reason=request.POST.get("reason", ""), actor=request.user, kind="adjustment", expires_at=expires_at
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Store credit adjusted."))
    return redirect("customers:detail", customer_id=customer.pk)
