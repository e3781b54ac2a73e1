"""Reads for members: search, the member beside a chat, suggestions found in chats, order history."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from customers.models import Address, ContactBinding, Customer, CustomerAuditEntry, CustomerTag, MemberTier
from customers.normalize import (
    FoundDetail,
    InvalidContactDetail,
    find_contact_details,
    looks_like_email,
    looks_like_phone,
    normalize_email,
    phone_search_digits,
)
from inbox import selectors as inbox_selectors
from inbox.models import Contact, Conversation, Message

SEARCH_LIMIT = 10
MAX_ID = 2**63 - 1  # the database's integer range: a larger id (from a URL or a body) finds nothing
SUGGESTION_MESSAGES = 20  # the customer's newest messages scanned for an email or a phone number


def _base() -> QuerySet[Customer]:
    return Customer.objects.select_related("tier").prefetch_related("tags")


def valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def clean_query(raw: str, *, limit: int = 100) -> str:
    """Typed search text as the database can take it: no NUL characters (PostgreSQL refuses them)."""
    return " ".join((raw or "").replace("\x00", "").split())[:limit]


def customer_get(customer_id: int) -> Customer | None:
    if not valid_id(customer_id):
        return None
    return _base().filter(pk=customer_id).first()


def access_customer(user, customer_id: int) -> Customer:
    """A member for a staff member (callers check the staff role; every staff member sees every member)."""
    customer = customer_get(customer_id)
    if customer is None:
        raise Http404
    return customer


def merged_into(customer_id: int) -> int | None:
    """The member a merged (now gone) member lives on in, following chains of merges."""
    if not valid_id(customer_id):
        return None
    seen = set()
    current = customer_id
    while current not in seen:
        seen.add(current)
        entry = CustomerAuditEntry.objects.filter(merged_customer_id=current).values_list("customer_id", flat=True).first()
        if entry is None:
            return current if current != customer_id else None
        if Customer.objects.filter(pk=entry).exists():
            return entry
        current = entry
    return None


def _search_filter(q: str) -> Q:
    """Members whose normalized email or phone, name, or tag match what was typed (partial input too)."""
    q = clean_query(q)
    condition = Q(name__icontains=q) | Q(email__contains=q.lower())
    if looks_like_email(q):
        try:
            condition |= Q(email=normalize_email(q))
        except InvalidContactDetail:
            pass
    if looks_like_phone(q):
        digits = phone_search_digits(q)
        if digits:
            condition |= Q(phone__contains=digits)
    return condition


def customer_search(*, q: str, limit: int = SEARCH_LIMIT, exclude_id: int | None = None) -> list[Customer]:
    """As the agent types: members matching by email, phone (any way of writing it) or name.

    Exact login matches come first, then the rest by name.
    """
    q = clean_query(q)
    if len(q) < 2:
        return []
    rows = _base().filter(_search_filter(q))
    if exclude_id:
        rows = rows.exclude(pk=exclude_id)
    found = list(rows.order_by("name", "pk")[: limit * 3])

    def exact(customer: Customer) -> int:
        digits = phone_search_digits(q)
        return 0 if customer.email == q.lower() or (digits and customer.phone.endswith(digits) and len(digits) >= 8) else 1

    found.sort(key=exact)
    return found[:limit]


def customer_list(
    *, q: str = "", tier_id: int | None = None, tag: str = "", has_orders: bool | None = None
) -> QuerySet[Customer]:
    """The back office's list: search (name, email, phone, tag) and filters (tier, tag, has orders)."""
    rows = _base().annotate(contact_count=Count("bindings", distinct=True))
    q, tag = clean_query(q), clean_query(tag, limit=50)
    if q:
        rows = rows.filter(_search_filter(q) | Q(tags__name__iexact=q)).distinct()
    if tier_id is not None:
        rows = rows.filter(tier_id=tier_id) if valid_id(tier_id) else rows.none()
    if tag:
        rows = rows.filter(tags__name__iexact=tag).distinct()
    if has_orders is not None:
        with_orders = _customers_with_orders()
        rows = rows.filter(pk__in=with_orders) if has_orders else rows.exclude(pk__in=with_orders)
    return rows.order_by("-created_at", "-pk")


def _customers_with_orders() -> QuerySet | list[int]:
    """Ids of members who have placed an order. Orders don't exist yet: none have; the orders module
    fills this in (a relation named `orders` from its order to the member is picked up here)."""
    relation = next((r for r in Customer._meta.related_objects if r.get_accessor_name() == "orders"), None)
    if relation is None:
        return []
    return Customer.objects.filter(orders__isnull=False).values("pk")


def binding_for_contact(contact: Contact) -> ContactBinding | None:
    return ContactBinding.objects.select_related("customer", "customer__tier").filter(contact=contact).first()


def access_conversation(user, conversation_id: int) -> Conversation:
    """The inbox's `access_conversation`, with ids beyond the database's range answered 404 too."""
    if not valid_id(conversation_id):
        raise Http404
    return inbox_selectors.access_conversation(user, conversation_id)


def customer_for_conversation(conversation: Conversation) -> Customer | None:
    binding = ContactBinding.objects.filter(contact_id=conversation.contact_id).values_list("customer_id", flat=True).first()
    return customer_get(binding) if binding else None


def current_addresses(customer: Customer) -> list[Address]:
    return list(customer.addresses.filter(archived_at__isnull=True).order_by("-is_default", "-created_at", "-pk"))


def archived_addresses(customer: Customer) -> list[Address]:
    return list(customer.addresses.filter(archived_at__isnull=False).order_by("-archived_at", "-pk"))


def credit_ledger(customer: Customer, *, limit: int = 200) -> list[dict]:
    """Newest first, each with the balance after it (computed: entries move between members on merges)."""
    entries = list(customer.credit_entries.select_related("created_by").order_by("-created_at", "-pk")[:limit])
    balance = customer.credit_balance
    rows = []
    for entry in entries:
        rows.append({"entry": entry, "balance_after": balance})
        balance -= entry.amount
    return rows


def audit_history(customer: Customer, *, limit: int = 200) -> list[CustomerAuditEntry]:
    return list(customer.audit_entries.select_related("actor").order_by("-created_at", "-pk")[:limit])


def bound_contacts(customer: Customer) -> list[ContactBinding]:
    return list(
        customer.bindings.select_related("contact", "contact__channel", "contact__conversation", "bound_by").order_by("bound_at", "pk")
    )


def order_history(*, customer: Customer, now: dt.datetime, days: int = 365) -> list:
    """The member's orders of the past year (number, date, total, status, link), newest first.

    Orders don't exist yet, so this is empty; the orders module fills it in (from its own selector) and
    the pane and the customer page show what it returns.
    """
    return []


def order_customer_details_for_contact(contact: Contact) -> list[dict]:
    """Customer details carried by orders this chat contact placed (e.g. from a live stream) without a
    member bound: the pane offers "view existing customer" to confirm and merge. Needs orders: empty now."""
    return []


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "email" or "phone"
    value: str  # normalized
    raw: str  # as the customer wrote it
    customer: Customer | None  # the member who already has it, if any


def contact_suggestions(*, conversation: Conversation, customer: Customer | None) -> list[Suggestion]:
    """Emails and Taiwanese phone numbers the customer wrote in this chat, newest first, that the bound
    member (if any) doesn't already have. Only offered: nothing is applied without the agent's click."""
    texts = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
        .exclude(text="")
        .order_by("-platform_timestamp", "-pk")
        .values_list("text", flat=True)[:SUGGESTION_MESSAGES]
    )
    found: list[FoundDetail] = []
    seen: set[tuple[str, str]] = set()
    for text in texts:
        for detail in find_contact_details(text):
            key = (detail.kind, detail.value)
            if key in seen:
                continue
            seen.add(key)
            if customer is not None and getattr(customer, detail.kind) == detail.value:
                continue
            found.append(detail)
    if not found:
        return []
    owners = {
        (field, value): c
        for c in Customer.objects.filter(
            Q(email__in=[d.value for d in found if d.kind == "email"]) | Q(phone__in=[d.value for d in found if d.kind == "phone"])
        )
        for field, value in (("email", c.email), ("phone", c.phone))
    }
    return [Suggestion(d.kind, d.value, d.raw, owners.get((d.kind, d.value))) for d in found[:4]]


def tier_list() -> list[MemberTier]:
    return list(MemberTier.objects.order_by("rank", "name"))


def tag_list() -> list[CustomerTag]:
    return list(CustomerTag.objects.order_by("name"))

