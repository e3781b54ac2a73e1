"""Reads for members: search, the member beside a chat, suggestions found in chats, order history, and the
members a chat's orders point at (flow C)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from customers.models import Address, ContactBinding, Customer, CustomerAuditEntry, CustomerTag, MemberTier
from customers.normalize import (
    FoundDetail,
    InvalidContactDetail,
    find_contact_details,
    looks_like_email,
    looks_like_phone,
    normalize_email,
    normalize_phone,
    phone_search_digits,
)
from inbox import selectors as inbox_selectors
from inbox.models import Contact, Conversation, Message
from orders.models import Order, OrderStatus

SEARCH_LIMIT = 10
MAX_ID = 2**63 - 1  # the database's integer range: a larger id (from a URL or a body) finds nothing
SUGGESTION_MESSAGES = 20  # the customer's newest messages scanned for an email or a phone number
ORDER_HISTORY_DAYS = 365  # "the past year's orders"
ORDER_HISTORY_LIMIT = 100
ORDER_MATCH_ORDERS = 20  # a chat's newest orders looked at for members (flow C)
ORDER_MATCH_LIMIT = 3
SHOP_TIME_ZONE = ZoneInfo(settings.TIME_ZONE)  # dates are shown in the shop's zone, whatever the request's


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


def _customers_with_orders() -> QuerySet:
    """Ids of members who have placed an order."""
    return Order.objects.filter(customer__isnull=False).values("customer_id")


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


@dataclass(frozen=True)
class OrderRow:
    """One line of a member's order history, as the pane, the customer page and the API show it."""

    id: int
    number: str
    created_at: dt.datetime  # in the shop's time zone (Asia/Taipei)
    total: int  # TWD
    status: str
    status_label: str
    url: str  # the back-office order page

    @property
    def date(self) -> dt.date:
        return self.created_at.date()


def order_history(*, customer: Customer, now: dt.datetime, days: int = ORDER_HISTORY_DAYS, limit: int = ORDER_HISTORY_LIMIT) -> list[OrderRow]:
    """The member's orders of the past `days` (a year by default), newest first: number, date, total,
    status and the back-office link. One query (the (customer, -created_at) index), whatever the count."""
    rows = (
        Order.objects.filter(customer_id=customer.pk, created_at__gte=now - dt.timedelta(days=days))
        .order_by("-created_at", "-pk")
        .values_list("pk", "number", "created_at", "total", "status")[:limit]
    )
    return [
        OrderRow(
            id=pk,
            number=number,
            created_at=timezone.localtime(created_at, SHOP_TIME_ZONE),
            total=total,
            status=status,
            status_label=str(OrderStatus(status).label) if status in OrderStatus.values else status,
            url=reverse("orders-backoffice:detail", args=[pk]),
        )
        for pk, number, created_at, total, status in rows
    ]


# --- Flow (C): members found on a chat's orders ----------------------------------------------------------


@dataclass(frozen=True)
class OrderCustomerMatch:
    """Customer details one of this chat's orders carries (flow C of the reference: a live-stream order,
    say), and the existing member they point at.

    `via` says how: "member" (the order belongs to that member), "phone" or "email" (the order's recipient
    details are that member's login), or "" when they match no member (`customer` is None: the agent may
    use the details to create one). `name`, `phone` and `email` are what the order carries (normalized).
    """

    customer: Customer | None
    via: str
    order_id: int
    order_number: str
    name: str
    phone: str
    email: str

    @property
    def order_url(self) -> str:
        return reverse("orders-backoffice:detail", args=[self.order_id])


def _recipient_identity(recipient) -> tuple[str, str, str]:
    """(name, phone, email) from an order's recipient snapshot, normalized; what doesn't parse is left out."""
    recipient = recipient if isinstance(recipient, dict) else {}
    name = " ".join(str(recipient.get("name") or "").split())[:200]
    phone = email = ""
    try:
        phone = normalize_phone(str(recipient.get("phone") or ""))
    except InvalidContactDetail:
        pass
    try:
        email = normalize_email(str(recipient.get("email") or ""))
    except InvalidContactDetail:
        pass
    return name, phone, email


def order_customer_matches(
    *,
    contact: Contact,
    exclude_customer_id: int | None = None,
    unmatched: bool = False,
    limit: int | None = ORDER_MATCH_LIMIT,
) -> list[OrderCustomerMatch]:
    """What the orders placed in this contact's chat say about who the customer is, newest order first.

    Each order points at its own member, or at the member whose phone or email its recipient details are;
    one entry per member, leaving out `exclude_customer_id` (the member the chat is bound to). With
    `unmatched`, an order whose details match no member at all is listed too (customer None), once per
    phone/email. Three queries (orders, members, their tags), whatever the number of orders.
    """
    orders = list(
        Order.objects.filter(conversation__contact_id=contact.pk)
        .order_by("-created_at", "-pk")
        .values_list("pk", "number", "customer_id", "recipient")[:ORDER_MATCH_ORDERS]
    )
    if not orders:
        return []
    found = [(pk, number, customer_id, *_recipient_identity(recipient)) for pk, number, customer_id, recipient in orders]
    ids = {row[2] for row in found if row[2]}
    phones = {row[4] for row in found if row[4]}
    emails = {row[5] for row in found if row[5]}
    members = list(_base().filter(Q(pk__in=ids) | Q(phone__in=phones) | Q(email__in=emails)))
    by_id = {m.pk: m for m in members}
    by_phone = {m.phone: m for m in members if m.phone}
    by_email = {m.email: m for m in members if m.email}
    matches: list[OrderCustomerMatch] = []
    seen: set = {exclude_customer_id} if exclude_customer_id else set()
    for pk, number, customer_id, name, phone, email in found:
        hit = False
        for via, member in (("member", by_id.get(customer_id)), ("phone", by_phone.get(phone)), ("email", by_email.get(email))):
            if member is None:
                continue
            hit = True
            if member.pk not in seen:
                seen.add(member.pk)
                matches.append(OrderCustomerMatch(member, via, pk, number, name, phone, email))
        if unmatched and not hit and (phone or email) and (phone, email) not in seen:
            seen.add((phone, email))
            matches.append(OrderCustomerMatch(None, "", pk, number, name, phone, email))
    return matches[:limit]


def order_customer_match(*, contact: Contact, customer_id: int, exclude_customer_id: int | None = None) -> OrderCustomerMatch | None:
    """The match for this member among the contact's orders, or None when its orders don't point at it."""
    return next(
        (
            m
            for m in order_customer_matches(contact=contact, exclude_customer_id=exclude_customer_id, limit=None)
            if m.customer.pk == customer_id
        ),
        None,
    )


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

